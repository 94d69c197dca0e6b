"""Building and rebuilding a goal's intervals and members' allocations.

Creation and every change of dates, split, team or mode go through :func:`rebuild`: intervals
whose bounds are unchanged keep their aims and allocations, the rest are rebuilt, and every
non-zero value that would disappear is reported so the caller can ask for confirmation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.distribution import equal_split
from ..domain.goals import GoalSettings
from ..domain.periods import count_in, interval_periods
from ..domain.rules import Category, GoalMode, step
from ..exceptions import ValidationFailed
from ..models import Allocation, Goal, Interval
from .context import Context

ZERO = Decimal(0)


@dataclass(frozen=True)
class Dropped:
    """A non-zero value a rebuild would remove."""

    interval_start: date
    interval_end: date
    field: str
    value: Decimal
    user_id: str | None = None

    def as_json(self, places: int) -> dict[str, Any]:
        """JSON with the value shown in the goal's decimal places."""
        data = asdict(self)
        data["interval_start"] = self.interval_start.isoformat()
        data["interval_end"] = self.interval_end.isoformat()
        data["value"] = format(self.value.quantize(Decimal(1).scaleb(-places)), "f")
        return data


def members_on(ctx: Context, team_id: str, on: date) -> tuple[str, ...]:
    """The team's members on a date, or a 422 naming ``team_id`` when the host does not know it."""
    # A host reads its own tables here, in this session: pending goal rows must not be flushed
    # half-built by that query (autoflush), whatever the caller is in the middle of.
    with ctx.session.no_autoflush:
        members = ctx.hooks.team_members(ctx.organization_id, team_id, on)
    if members is None:
        raise ValidationFailed({"team_id": [f"Unknown team {team_id!r}: no members on {on}."]})
    return members


def rebuild(
    ctx: Context, goal: Goal, settings: GoalSettings, *, reset_values: bool = False
) -> list[Dropped]:
    """Make ``goal.intervals`` (and their allocations) match ``settings``.

    :param reset_values: rebuild every interval (e.g. the activity mode changed), keeping none.
    :return: the non-zero values removed; the caller refuses the write unless confirmed.
    """
    is_activity = settings.category is Category.ACTIVITIES
    per_day = is_activity and settings.goal_mode == GoalMode.PER_BUSINESS_DAY
    periods = interval_periods(settings.period, settings.split_into_subperiods)
    with ctx.session.no_autoflush:
        business_days = ctx.hooks.business_days(
            ctx.organization_id, settings.team_id, settings.start_date, settings.end_date
        )
    old = {} if reset_values else {(i.start_date, i.end_date): i for i in goal.intervals}
    dropped: list[Dropped] = []
    intervals: list[Interval] = []
    fresh: list[Interval] = []
    default_daily = settings.daily_target if per_day else None

    for period in periods:
        interval = old.pop((period.start, period.end), None)
        if interval is None:
            interval = Interval(
                start_date=period.start,
                end_date=period.end,
                aim=ZERO,
                daily_target=(default_daily or ZERO)
                if per_day and not settings.split_by_team_members
                else None,
            )
            interval.allocations = []
            fresh.append(interval)
        interval.business_days = count_in(business_days, period)
        members = (
            members_on(ctx, settings.team_id, period.start)
            if settings.split_by_team_members and settings.team_id
            else ()
        )
        dropped += _reconcile_allocations(
            goal, interval, members, default_daily if per_day else None
        )
        intervals.append(interval)

    for interval in goal.intervals if reset_values else old.values():
        if interval.aim:
            dropped.append(Dropped(interval.start_date, interval.end_date, "aim", interval.aim))
        dropped += [
            Dropped(interval.start_date, interval.end_date, "target", a.target, a.user_id)
            for a in interval.allocations
            if a.target
        ]

    goal.intervals = intervals
    if not is_activity and fresh:
        kept = sum((i.aim for i in intervals if i not in fresh), ZERO)
        rest = max((goal.aim or ZERO) - kept, ZERO)
        for interval, aim in zip(
            fresh, equal_split(rest, len(fresh), step(goal.metric)), strict=True
        ):
            interval.aim = aim
    recompute_totals(goal)
    return dropped


def _reconcile_allocations(
    goal: Goal, interval: Interval, members: tuple[str, ...], default_daily: Decimal | None
) -> list[Dropped]:
    """Keep the allocations of members still in the team, add the new ones, drop the rest."""
    existing = {allocation.user_id: allocation for allocation in interval.allocations}
    dropped = [
        Dropped(interval.start_date, interval.end_date, "target", allocation.target, user_id)
        for user_id, allocation in existing.items()
        if user_id not in members and allocation.target
    ]
    allocations = []
    for position, user_id in enumerate(members):
        allocation = existing.get(user_id)
        if allocation is None:
            allocation = Allocation(
                goal=goal, user_id=user_id, target=ZERO, daily_target=default_daily
            )
        allocation.position = position
        allocations.append(allocation)
    interval.allocations = allocations
    return dropped


def recompute_totals(goal: Goal, intervals: Sequence[Interval] | None = None) -> None:
    """Derive what is computed: per-day effective targets, activity interval aims, the activity
    goal's aim. Sales and orders aims are set by people and are left alone.

    :param intervals: the intervals whose values changed (default: all of them).
    """
    scope = goal.intervals if intervals is None else intervals
    for interval in scope:
        for allocation in interval.allocations:
            if allocation.goal_id is None:
                allocation.goal = goal
    if goal.category != Category.ACTIVITIES:
        return
    per_day = goal.goal_mode == GoalMode.PER_BUSINESS_DAY
    for interval in scope:
        days = Decimal(interval.business_days)
        for allocation in interval.allocations:
            if per_day:
                allocation.daily_target = allocation.daily_target or ZERO
                # A member's own business days when the host answers per member (§11).
                own = allocation.business_days
                allocation.target = allocation.daily_target * (days if own is None else own)
            else:
                allocation.daily_target = None
        if interval.allocations:
            interval.aim = sum((a.target for a in interval.allocations), ZERO)
            if per_day:
                interval.daily_target = sum(
                    (a.daily_target or ZERO for a in interval.allocations), ZERO
                )
        elif per_day:
            interval.daily_target = interval.daily_target or ZERO
            interval.aim = interval.daily_target * days
        if not per_day:
            interval.daily_target = None
    goal.aim = sum((interval.aim for interval in goal.intervals), ZERO)
