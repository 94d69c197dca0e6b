"""A goal's shortfall policy (SPEC §11 "Shortfall carry-forward"): setting it, and carrying an
ended interval's shortfall forward by it. The planning job (:mod:`..jobs.planning`) decides
when an interval is settled; this module moves the aims.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..domain.distribution import shortfall_shares
from ..exceptions import ValidationFailed
from ..models import Goal, Interval, freeze_originals
from .context import Context
from .history import record_changes, record_event, snapshot
from .targets import tracked_write

#: ``HistoryEntry.operation`` of a carried shortfall.
CARRY_OPERATION = "carry_forward"
ZERO = Decimal(0)


def set_shortfall_policy(ctx: Context, goal: Goal, data: Mapping[str, Any]) -> None:
    """Apply ``shortfall_policy`` from a create or update body (sales and orders goals only:
    an activity goal's aims follow its daily and members' targets, nothing can be carried)."""
    policy = data.get("shortfall_policy")
    if policy is None:
        return
    if goal.is_activity and policy != "none":
        raise ValidationFailed(
            {
                "shortfall_policy": [
                    "Activity goals derive their aims from daily and members' targets: "
                    "nothing can be carried forward."
                ]
            }
        )
    old = goal.shortfall_policy
    goal.shortfall_policy = policy
    if goal.id is not None and old != policy:
        record_event(ctx, goal, "shortfall_policy", old, policy, "manual")


def carry_shortfall(
    ctx: Context, goal: Goal, interval: Interval, actual: Decimal, unit: Decimal
) -> bool:
    """Move an ended interval's shortfall (aim − actual, when positive) to the later intervals
    by the goal's policy; ``True`` when something moved.

    The shortfall *moves*: the ended interval's aim becomes what it achieved (its
    ``original_aim`` still shows the aim it started with) and the goal aim stays, so the
    interval aims keep summing to it and the exceed rule keeps holding. Members' targets stay
    as they are (in the ended interval as agreed; in the later ones the unallocated rest grows
    for the manager to distribute). History: ``carry_forward`` rows on both sides.
    """
    shortfall = (interval.aim - max(actual, ZERO)).quantize(unit)
    later = [other for other in goal.intervals if other.start_date > interval.end_date]
    shares = shortfall_shares(shortfall, len(later), goal.shortfall_policy, unit)
    if not any(shares):
        return False
    freeze_originals([interval], ctx.today)
    before = snapshot(goal, [interval])
    interval.aim -= sum(shares, ZERO)
    # Outside tracked_write: the ended interval keeps its members' targets, which may now
    # exceed its aim; the exceed rule is checked (and holds) on the receiving intervals.
    record_changes(ctx, goal, before, CARRY_OPERATION, after=snapshot(goal, [interval]))
    receivers = [other for other, share in zip(later, shares, strict=True) if share]
    with tracked_write(ctx, goal, CARRY_OPERATION, intervals=receivers):
        for other, share in zip(later, shares, strict=True):
            other.aim += share
    return True
