"""Members' own calendars (SPEC §11): per-business-day targets on each member's own days."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.figures import BusinessCalendar
from ..domain.rules import GoalMode
from ..models import Goal, Interval
from .context import Context


def apply_member_calendars(
    ctx: Context, goal: Goal, intervals: Sequence[Interval] | None = None
) -> None:
    """Per-business-day goals split by members: each allocation's own business days, when the
    host answers ``goals_business_days`` per member (SPEC §11 "Members' own calendars"), so
    that its effective target is daily target × the member's days. Otherwise (or in other
    modes) ``None``: the interval's days.

    One hook call per member over the goal's whole range (memoized for the request), counted
    per interval. Called on every change of the goal's targets (``tracked_write``): absences
    entered later count from the next change on, as the team calendar does on a rebuild.
    """
    scope = goal.intervals if intervals is None else intervals
    per_day = goal.goal_mode == GoalMode.PER_BUSINESS_DAY and goal.split_by_team_members
    if not per_day or not ctx.hooks.member_calendars:
        for interval in scope:
            for allocation in interval.allocations:
                # Assigned only when it changes: an assignment marks the object dirty, and a
                # thousand dirty allocations cost the next flush a thousand objects to inspect.
                if allocation.business_days is not None:
                    allocation.business_days = None
        return
    calendars: dict[str, BusinessCalendar] = {}
    with ctx.session.no_autoflush:  # the host reads its tables in this session
        for interval in scope:
            for allocation in interval.allocations:
                user_id = allocation.user_id
                if user_id not in calendars:
                    calendars[user_id] = BusinessCalendar(
                        ctx.hooks.business_days(
                            ctx.organization_id,
                            goal.team_id,
                            goal.start_date,
                            goal.end_date,
                            user_id=user_id,
                        )
                    )
                allocation.business_days = calendars[user_id].count(
                    interval.start_date, interval.end_date
                )
