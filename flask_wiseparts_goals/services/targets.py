"""Aims and allocations of sales and orders goals: the exceed check and its cascade."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain.rules import Category
from ..exceptions import Conflict
from ..models import Goal
from .context import Context

ZERO = Decimal(0)


def _fmt(value: Decimal, places: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def enforce_aims(ctx: Context, goal: Goal) -> None:
    """Refuse (409) or, with ``ctx.confirm``, cascade allocations that exceed their interval aim
    and interval aims that exceed the goal aim (SPEC §3 "Exceeding the goal").

    Cascade: interval aim := its allocation total, then goal aim := the sum of interval aims.
    Under-allocation is allowed. Activity goals derive their aims, so they never exceed.
    """
    if goal.category == Category.ACTIVITIES:
        return
    places = goal.places
    interval_changes: list[dict[str, Any]] = []
    proposed_aims = []
    for interval in goal.intervals:
        allocated = sum((a.target for a in interval.allocations), ZERO)
        proposed = max(interval.aim, allocated) if interval.allocations else interval.aim
        if proposed != interval.aim:
            interval_changes.append(
                {
                    "interval_id": interval.id,
                    "start_date": interval.start_date.isoformat(),
                    "end_date": interval.end_date.isoformat(),
                    "current_aim": _fmt(interval.aim, places),
                    "proposed_aim": _fmt(proposed, places),
                }
            )
        proposed_aims.append(proposed)
    proposed_total = sum(proposed_aims, ZERO)
    goal_proposed = max(goal.aim, proposed_total)
    if not interval_changes and goal_proposed == goal.aim:
        return
    if not ctx.confirm:
        raise Conflict(
            "The allocations exceed the aim. Send the same request with confirm=true to raise "
            "the interval aims to their allocations and the goal aim to the sum of its intervals.",
            extra={
                "current_aim": _fmt(goal.aim, places),
                "proposed_total": _fmt(proposed_total, places),
                "proposed_aim": _fmt(goal_proposed, places),
                "intervals": interval_changes,
            },
        )
    for interval, proposed in zip(goal.intervals, proposed_aims, strict=True):
        interval.aim = proposed
    goal.aim = goal_proposed
    ctx.notes.append("cascade")
