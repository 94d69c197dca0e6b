"""Coaching (SPEC §10, docs/coaching.md): a goal's leaderboard, each person's notification
settings, and the shortfall drivers a weekly digest names.

The figures are tracking's (:mod:`.tracking`); this module ranks them. The coaching job, which
decides what to tell whom and sends it exactly once, is :mod:`..jobs.coaching`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.rules import Category
from ..exceptions import GoalsHTTPError, ValidationFailed
from ..models import Goal, NotificationSetting
from .context import Context
from .tracking import goal_progress

logger = logging.getLogger("flask_wiseparts_goals.coaching")


def _rank_key(member: dict[str, Any]) -> tuple[bool, Decimal, bool, Decimal]:
    """Achievement % first, then actual, both descending; a missing figure ranks below any."""
    percent, actual = member["achievement_percent"], member["actual"]
    return (
        percent is None,
        -(percent or Decimal(0)),
        actual is None,
        -(actual or Decimal(0)),
    )


def rank_members(members: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members ranked by achievement % (then actual), competition style: equal figures share
    a rank and the next rank skips (1, 1, 3). Members who are not counted (they left the team)
    are listed last with ``rank: null``; their earlier order is kept among equals."""
    counted = sorted((m for m in members if m["counted"]), key=_rank_key)
    ranked: list[dict[str, Any]] = []
    previous: tuple[bool, Decimal, bool, Decimal] | None = None
    rank = 0
    for position, member in enumerate(counted, start=1):
        key = _rank_key(member)
        if key != previous:
            rank, previous = position, key
        ranked.append({**member, "rank": rank})
    ranked += [{**member, "rank": None} for member in members if not member["counted"]]
    return ranked


def leaderboard(
    ctx: Context, goal_id: int, *, as_of: date, interval_id: int | None = None
) -> dict[str, Any]:
    """The members of a goal ranked by achievement % (then actual) over the goal's whole range
    or one of its intervals, with target, actual, forecast and status (SPEC §10).

    Same members and figures as the goal's progress: allocation holders (targets when split
    by members) and the counted members; without a team, the users the metric source
    reported. An ``interval_id`` of another goal is a 422 naming ``interval_id``.
    """
    progress = goal_progress(ctx, goal_id, as_of=as_of)
    period = progress["period"]
    if interval_id is not None:
        matching = [row for row in progress["intervals"] if row["interval_id"] == interval_id]
        if not matching:
            raise ValidationFailed(
                {"interval_id": [f"Goal {goal_id} has no interval {interval_id}."]},
                location="query",
            )
        period = matching[0]
    return {
        "as_of": progress["as_of"],
        "goal": progress["goal"],
        "actuals_available": progress["actuals_available"],
        "actuals_reason": progress["actuals_reason"],
        "actuals_note": progress["actuals_note"],
        "actuals_error": progress["actuals_error"],
        "interval_id": period["interval_id"],
        "start_date": period["start_date"],
        "end_date": period["end_date"],
        "members": rank_members(period["members"]),
    }


# --------------------------------------------------------------------------------------------
# Notification settings (``/me/notification-settings``)
# --------------------------------------------------------------------------------------------

#: The kinds a person can turn off, with their default.
SETTING_KINDS = ("status", "milestone", "digest")


def notification_settings(ctx: Context) -> dict[str, Any]:
    """The caller's settings; without a row every kind is on and the timezone unknown."""
    row = ctx.session.get(NotificationSetting, (ctx.organization_id, ctx.identity.user_id))
    if row is None:
        return {**dict.fromkeys(SETTING_KINDS, True), "timezone": None}
    return {**{kind: getattr(row, kind) for kind in SETTING_KINDS}, "timezone": row.timezone}


def update_notification_settings(ctx: Context, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given settings of the caller (the others keep their value).

    The timezone the weekly digest's Monday is taken in is the one given; when none was ever
    given it is the caller's own (``Identity.timezone``, which the host supplies), stored now
    so that the job, which has no caller, knows it.
    """
    key = (ctx.organization_id, ctx.identity.user_id)
    row = ctx.session.get(NotificationSetting, key, with_for_update=True)
    if row is None:
        row = NotificationSetting(
            organization_id=key[0],
            user_id=key[1],
            **dict.fromkeys(SETTING_KINDS, True),
            timezone=ctx.identity.timezone,
        )
        ctx.session.add(row)
    for name in (*SETTING_KINDS, "timezone"):
        if name in changes:
            setattr(row, name, changes[name])
    if row.timezone is None:
        row.timezone = ctx.identity.timezone
    ctx.session.flush()
    return notification_settings(ctx)


# --------------------------------------------------------------------------------------------
# Shortfall drivers of the weekly digest
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    """One value of a breakdown dimension whose actual is below the same days of the
    preceding year (§7's breakdown, ``compare=previous_year``)."""

    #: ``brand``, ``customer`` or ``customer_branch``.
    dimension: str
    id: str
    actual: Decimal
    previous: Decimal

    @property
    def difference(self) -> Decimal:
        return self.actual - self.previous

    def as_data(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "id": self.id,
            "actual": self.actual,
            "previous_year": self.previous,
            "difference": self.difference,
        }


#: ``shortfalls(ctx, goal, as_of)``: a goal's shortfalls against the preceding year, in any
#: order; the digest keeps the three largest. The small interface between the digest and the
#: breakdown (tests pass their own).
ShortfallSource = Callable[[Context, Goal, date], Sequence[Shortfall]]

#: The breakdown dimensions the digest looks for drivers in.
DRIVER_DIMENSIONS = ("brand", "customer", "customer_branch")
#: How many drivers a digest entry names.
DRIVER_COUNT = 3


def breakdown_shortfalls(ctx: Context, goal: Goal, as_of: date) -> list[Shortfall]:
    """The goal's values below the same days of the preceding year, from its breakdown over
    the whole range (:func:`.breakdown.goal_breakdown`, ``compare=previous_year``) by brand,
    customer and customer branch: the dimensions the category's source can group by
    (``/meta``'s ``group_by``); a breakdown that fails names no driver (logged)."""
    from .breakdown import goal_breakdown  # the breakdown reads tracking; imported late
    from .capabilities import category_offer

    offered = category_offer(ctx, Category(goal.category)).group_by
    shortfalls: list[Shortfall] = []
    for dimension in DRIVER_DIMENSIONS:
        if dimension not in offered:
            continue
        try:
            body = goal_breakdown(ctx, goal.id, by=dimension, as_of=as_of)
        except GoalsHTTPError as error:
            logger.warning(
                "coaching: no %s breakdown of goal %s: %s", dimension, goal.id, error.description
            )
            continue
        section = body["period"]
        if not section or section["actuals_error"]:
            continue
        shortfalls += [
            Shortfall(dimension, str(row["id"]), row["actual"], row["compare_actual"])
            for row in section["rows"]
            if row["actual"] is not None and row["compare_actual"] is not None
        ]
    return shortfalls


def largest_shortfalls(
    shortfalls: Iterable[Shortfall], count: int = DRIVER_COUNT
) -> list[Shortfall]:
    """The ``count`` largest shortfalls (most negative difference first; ties by dimension
    and id), ignoring values at or above last year's."""
    below = [item for item in shortfalls if item.difference < 0]
    return sorted(below, key=lambda item: (item.difference, item.dimension, item.id))[:count]
