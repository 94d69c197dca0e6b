"""The change history: who changed which aim, target or allocation, when, from what to what.

One way of recording: take a :func:`snapshot` before a write, change the goal, flush, then
:func:`record_changes` adds a row for every value that differs. Writes never list their own
history rows by hand, so no operation can forget one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa

from ..models import Goal, HistoryEntry, Interval, utcnow
from . import bulk
from .context import Context

_HISTORY = cast(sa.Table, HistoryEntry.__table__)

#: (field, interval start, interval end, member) → value; goal-level keys have no bounds.
SnapshotKey = tuple[str, date | None, date | None, str | None]
Snapshot = dict[SnapshotKey, Decimal | None]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def history_row(
    organization_id: str,
    goal_id: int,
    field: str,
    old: object,
    new: object,
    *,
    operation: str,
    changed_by: str,
    changed_at: datetime,
    interval: tuple[int | None, date | None, date | None] | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """The values of one history row, for a bulk INSERT (:func:`record_changes`, and the
    recurrence job, which writes the history of many clones in one statement).

    :param interval: ``(id, start, end)`` of the interval the value belongs to.
    """
    interval_id, start, end = interval if interval is not None else (None, None, None)
    return {
        "organization_id": organization_id,
        "goal_id": goal_id,
        "interval_id": interval_id,
        "interval_start": start,
        "interval_end": end,
        "user_id": user_id,
        "field": field,
        "old_value": _text(old),
        "new_value": _text(new),
        "operation": operation,
        "changed_by": changed_by,
        "changed_at": changed_at,
    }


def snapshot(goal: Goal, intervals: Iterable[Interval] | None = None) -> Snapshot:
    """Every recorded value of a goal (aims, stretch aim, targets, daily targets).

    :param intervals: only these intervals (a write that touches one interval need not read
        the allocations of the others); default every interval.
    """
    values: Snapshot = {
        ("aim", None, None, None): goal.aim,
        ("stretch_aim", None, None, None): goal.stretch_aim,
    }
    for interval in goal.intervals if intervals is None else intervals:
        start, end = interval.start_date, interval.end_date
        values[("aim", start, end, None)] = interval.aim
        values[("daily_target", start, end, None)] = interval.daily_target
        for allocation in interval.allocations:
            values[("target", start, end, allocation.user_id)] = allocation.target
            values[("daily_target", start, end, allocation.user_id)] = allocation.daily_target
    return values


def _blank(value: Decimal | None) -> bool:
    return value is None or value == 0


def record_changes(
    ctx: Context, goal: Goal, before: Snapshot, operation: str, *, after: Snapshot | None = None
) -> int:
    """Add a history row for every value that differs between ``before`` and ``after`` (default:
    the goal now); returns how many.

    A value going from nothing to zero (a new member, a new interval) is not a change.
    Call after ``session.flush()`` so that new intervals have ids.
    """
    after = snapshot(goal) if after is None else after
    interval_ids: dict[tuple[date | None, date | None], int] = {
        (i.start_date, i.end_date): i.id for i in goal.intervals
    }
    rows = []
    changed_at = utcnow()
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old == new or (_blank(old) and _blank(new)):
            continue
        field, start, end, user_id = key
        rows.append(
            history_row(
                goal.organization_id,
                goal.id,
                field,
                old,
                new,
                operation=operation,
                changed_by=ctx.identity.user_id,
                changed_at=changed_at,
                interval=(interval_ids.get((start, end)), start, end) if start else None,
                user_id=user_id,
            )
        )
    # One statement whatever the number of members (ids are not needed back; the ORM would
    # split the batch by which columns are None).
    bulk.insert(ctx.session, _HISTORY, rows)
    return len(rows)


def record_event(
    ctx: Context, goal: Goal, field: str, old: object, new: object, operation: str
) -> None:
    """A lifecycle event that is not a value of the snapshot (created, deleted, recurrence)."""
    ctx.session.add(
        HistoryEntry(
            organization_id=goal.organization_id,
            goal_id=goal.id,
            field=field,
            old_value=_text(old),
            new_value=_text(new),
            operation=operation,
            changed_by=ctx.identity.user_id,
        )
    )
