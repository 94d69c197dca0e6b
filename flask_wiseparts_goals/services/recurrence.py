"""The clone of a recurring goal for its next period (SPEC §3 "Recurrence"), written in bulk.

The recurrence job (:mod:`..jobs.recurrence`) decides which goals to clone and when; this
module builds each clone (intervals rebuilt, members re-read, values copied position-wise, as
:mod:`..domain.recurrence` plans them) and writes the clones of a whole chunk with one
``executemany`` per table (intervals, allocations, history; the clones with ``INSERT ...
RETURNING`` on PostgreSQL): the statement count of a chunk does not grow with its goals or
their members.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..domain.periods import Period, count_in, interval_periods
from ..domain.recurrence import ClonePlan, IntervalValues, carry_values
from ..domain.rules import GoalMode
from ..models import Allocation, Goal, HistoryEntry, Interval
from ..types import Notification, NotificationKind
from .context import SYSTEM_USER_ID, Context
from .history import history_row
from .structure import members_on

#: ``HistoryEntry.operation`` of every row the job writes.
OPERATION = "recurrence"
#: ``Notification.kind`` sent when new members of a clone got a zero target.
REVIEW_KIND = NotificationKind.REVIEW.value
ZERO = Decimal(0)

_GOAL = cast(sa.Table, Goal.__table__)
_INTERVAL = cast(sa.Table, Interval.__table__)
_ALLOCATION = cast(sa.Table, Allocation.__table__)
_HISTORY = cast(sa.Table, HistoryEntry.__table__)


def clone_members(ctx: Context, source: Any, interval_start: date) -> tuple[str, ...]:
    """Who gets an allocation in the clone's interval starting on ``interval_start``: the
    team's members on that day, as at creation (none when the goal is not split by members).
    """
    if not (source.split_by_team_members and source.team_id):
        return ()
    return members_on(ctx, source.team_id, interval_start)


@dataclass
class NewGoal:
    """The clone's goal row (values for the INSERT) and what the notification needs."""

    row: dict[str, Any]
    intervals: list[dict[str, Any]]
    #: Per interval: the allocation rows, in team order (``interval_id`` set after insert).
    allocations: list[list[dict[str, Any]]]
    plan: ClonePlan
    today: date
    id: int = 0

    def __getattr__(self, name: str) -> Any:  # id, description, dates... for the notification
        try:
            return self.__dict__["row"][name]
        except KeyError:
            raise AttributeError(name) from None


def plan_clone(ctx: Context, source: Any, period: Period, values: SourceValues) -> NewGoal:
    """The clone of ``source`` covering ``period``: its rows, not yet written (``ctx.today``
    is the goal's today).

    Intervals are rebuilt for the new period (business days from ``goals_business_days``,
    members from :func:`clone_members`, as at creation); values are copied position-wise
    (:func:`carry_values`); per-day effective targets are recomputed on the new business
    days, as :func:`~.structure.recompute_totals` does.
    """
    per_day = source.goal_mode == GoalMode.PER_BUSINESS_DAY
    by_members = bool(source.split_by_team_members)
    periods = interval_periods(period, source.split_into_subperiods)
    with ctx.session.no_autoflush:
        business_days = ctx.hooks.business_days(
            source.organization_id, source.team_id, period.start, period.end
        )
    members = [clone_members(ctx, source, interval.start) for interval in periods]
    source_intervals = values.intervals.get(source.id, [])
    plan = carry_values(
        [
            _interval_values(interval, values, per_day=per_day, by_members=by_members)
            for interval in source_intervals
        ],
        members,
    )
    intervals: list[dict[str, Any]] = []
    allocations: list[list[dict[str, Any]]] = []
    goal_aim = ZERO
    for interval_period, interval_plan in zip(periods, plan.intervals, strict=True):
        days = count_in(business_days, interval_period)
        rows: list[dict[str, Any]] = []
        for position, (user_id, value) in enumerate(interval_plan.members.items()):
            if per_day:
                daily: Decimal | None = value
                target = value * days
            else:
                daily, target = None, value
            rows.append(
                {
                    "user_id": user_id,
                    "position": position,
                    "target": target,
                    "daily_target": daily,
                }
            )
        if rows:
            aim = sum((row["target"] for row in rows), ZERO)
            interval_daily = sum((row["daily_target"] for row in rows), ZERO) if per_day else None
        elif by_members:
            aim, interval_daily = ZERO, ZERO if per_day else None
        elif per_day:
            interval_daily = interval_plan.value or ZERO
            aim = interval_daily * days
        else:
            aim, interval_daily = interval_plan.value or ZERO, None
        goal_aim += aim
        intervals.append(
            {
                "start_date": interval_period.start,
                "end_date": interval_period.end,
                "business_days": days,
                "aim": aim,
                "daily_target": interval_daily,
            }
        )
        allocations.append(rows)
    row = {
        "organization_id": source.organization_id,
        "category": source.category,
        "description": source.description,
        "metric": source.metric,
        "start_date": period.start,
        "end_date": period.end,
        "aim": goal_aim,
        "stretch_aim": source.stretch_aim,
        "team_id": source.team_id,
        "split_into_subperiods": source.split_into_subperiods,
        "split_by_team_members": by_members,
        "goal_mode": source.goal_mode,
        "filters": copy.deepcopy(source.filters or {}),
        "recurrence": source.recurrence,
        "recurring_until": source.recurring_until,
        "source_goal_id": source.id,
        "timezone": source.timezone,
        "created_by": source.created_by,
    }
    return NewGoal(
        row=row, intervals=intervals, allocations=allocations, plan=plan, today=ctx.today
    )


# -- reading and writing in bulk -------------------------------------------------------------


@dataclass
class SourceValues:
    """The claimed goals' intervals (in date order) and each interval's allocations (in team
    order), read with one query each."""

    intervals: dict[int, list[Any]]
    allocations: dict[int, list[Any]]


def source_values(session: Session, goal_ids: list[int]) -> SourceValues:
    values = SourceValues(intervals={}, allocations={})
    if not goal_ids:
        return values
    interval, allocation = _INTERVAL.c, _ALLOCATION.c
    for row in session.execute(
        sa.select(interval.id, interval.goal_id, interval.daily_target, interval.aim)
        .where(interval.goal_id.in_(goal_ids))
        .order_by(interval.goal_id, interval.start_date, interval.id)
    ):
        values.intervals.setdefault(row.goal_id, []).append(row)
    for row in session.execute(
        sa.select(
            allocation.interval_id, allocation.user_id, allocation.target, allocation.daily_target
        )
        .where(allocation.goal_id.in_(goal_ids))
        .order_by(allocation.interval_id, allocation.position, allocation.id)
    ):
        values.allocations.setdefault(row.interval_id, []).append(row)
    return values


def _interval_values(
    interval: Any, values: SourceValues, *, per_day: bool, by_members: bool
) -> IntervalValues:
    """What the clone copies from one interval: targets (total mode) or daily targets."""
    if by_members:
        return IntervalValues(
            members={
                a.user_id: ((a.daily_target or ZERO) if per_day else a.target)
                for a in values.allocations.get(interval.id, ())
            }
        )
    return IntervalValues(
        members={}, value=(interval.daily_target or ZERO) if per_day else interval.aim
    )


def end_flags(session: Session, goal_ids: list[int], now: datetime) -> None:
    """Remove the recurrence flag (and ``recurring_until``) of these goals: cloned (the flag
    moves to the clone) or ended. One ``executemany`` by primary key."""
    if not goal_ids:
        return
    goal = _GOAL.c
    session.execute(
        sa.update(_GOAL)
        .where(goal.id == sa.bindparam("source_id"))
        .values(recurrence=None, recurring_until=None, updated_at=now, version=goal.version + 1),
        [{"source_id": goal_id} for goal_id in goal_ids],
    )


def _insert_returning_ids(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` and set each one's ``id``, with one statement per table.

    PostgreSQL: ``INSERT ... RETURNING`` in parameter order (SQLAlchemy "insertmanyvalues").
    SQLite cannot tell which id belongs to which row of a multi-row INSERT (SQLAlchemy would
    send one INSERT per row), so the ids are numbered up front: safe because SQLite has one
    writer and this transaction holds the write lock (the sources' UPDATE came first).
    """
    if not rows:
        return
    if session.connection().dialect.name == "sqlite":
        last = session.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)))
        for number, row in enumerate(rows, start=int(last or 0) + 1):
            row["id"] = number
        session.execute(sa.insert(table), rows)
        return
    ids = session.scalars(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    ).all()
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id


def write_clones(
    session: Session,
    cloned: list[tuple[Any, NewGoal]],
    history: list[dict[str, Any]],
    now: datetime,
) -> None:
    """The clones, their intervals and allocations, and the history of all of it."""
    goal_rows = []
    for _, new in cloned:
        new.row.update(created_at=now, updated_at=now)
        goal_rows.append(new.row)
    _insert_returning_ids(session, _GOAL, goal_rows)  # the UNIQUE source_goal_id speaks here
    interval_rows = []
    for _, new in cloned:
        new.id = new.row["id"]
        for interval in new.intervals:
            interval["goal_id"] = new.id
            interval_rows.append(interval)
    _insert_returning_ids(session, _INTERVAL, interval_rows)
    allocation_rows = []
    for source, new in cloned:
        history += _clone_history(source, new, now)
        for interval, rows in zip(new.intervals, new.allocations, strict=True):
            for row in rows:
                row["goal_id"] = new.id
                row["interval_id"] = interval["id"]
                allocation_rows.append(row)
    if allocation_rows:
        session.execute(sa.insert(_ALLOCATION), allocation_rows)
    if history:
        session.execute(sa.insert(_HISTORY), history)


def _history_row(
    organization_id: str,
    goal_id: int,
    field: str,
    old: object,
    new: object,
    now: datetime,
    interval: Mapping[str, Any] | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    return history_row(
        organization_id,
        goal_id,
        field,
        old,
        new,
        operation=OPERATION,
        changed_by=SYSTEM_USER_ID,
        changed_at=now,
        interval=None
        if interval is None
        else (interval["id"], interval["start_date"], interval["end_date"]),
        user_id=user_id,
    )


def flag_events(source: Any, now: datetime) -> list[dict[str, Any]]:
    """The source's recurrence flag (and ``recurring_until``) removed."""
    org = source.organization_id
    rows = [_history_row(org, source.id, "recurrence", source.recurrence, None, now)]
    if source.recurring_until is not None:
        rows.append(
            _history_row(org, source.id, "recurring_until", source.recurring_until, None, now)
        )
    return rows


def _clone_history(source: Any, new: NewGoal, now: datetime) -> list[dict[str, Any]]:
    """The rows the history of a cloned goal has: the clone created, the flag moved, and every
    value of the clone (what :func:`~.history.record_changes` records for a new goal: a value
    going from nothing to zero is not a change)."""
    org = source.organization_id
    rows = [_history_row(org, new.id, "goal", None, "created", now)]
    rows += flag_events(source, now)
    row = new.row
    if row["aim"]:
        rows.append(_history_row(org, new.id, "aim", ZERO, row["aim"], now))
    for interval, allocations in zip(new.intervals, new.allocations, strict=True):
        for name in ("aim", "daily_target"):
            if interval[name]:
                rows.append(_history_row(org, new.id, name, None, interval[name], now, interval))
        for allocation in allocations:
            for name in ("target", "daily_target"):
                if allocation[name]:
                    rows.append(
                        _history_row(
                            org,
                            new.id,
                            name,
                            None,
                            allocation[name],
                            now,
                            interval,
                            allocation["user_id"],
                        )
                    )
    return rows


class _GoalFacts(Protocol):
    id: int
    description: str
    start_date: date
    end_date: date
    created_by: str


def review_notification(
    source: _GoalFacts, clone: _GoalFacts, plan: ClonePlan
) -> Notification | None:
    """The one notification to the creator when new members of the clone got a zero target."""
    members = plan.zeroed
    if not members:
        return None
    names = ", ".join(members)
    return Notification(
        kind=REVIEW_KIND,
        recipient_id=source.created_by,
        goal_id=clone.id,
        message=(
            f'The recurring goal "{clone.description}" for {clone.start_date.isoformat()} to '
            f"{clone.end_date.isoformat()} has new team members with a target of 0, because "
            f"the members' targets differed: {names}. Please review their targets."
        ),
        data={
            "new_member_ids": list(members),
            "source_goal_id": source.id,
            "period_start": clone.start_date,
            "period_end": clone.end_date,
        },
    )
