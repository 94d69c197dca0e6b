"""The recurrence job: clone every recurring goal whose next period has started, exactly once.

Correctness comes from the database, never from running one scheduler only (APScheduler 3's
processes cannot share a job store safely, docs/recurrence.md): every web worker, host and cron job may run :func:`run_recurrence` at the same
moment.

* Due goals are claimed in chunks (:data:`CHUNK_SIZE`): one transaction per chunk takes one
  step of each goal (clone it, or end its recurrence) and commits. A catch-up clone whose own
  next period has started is the next step, in the chunk's next transaction.
* A chunk starts by locking its source goal rows with ``SELECT ... FOR NO KEY UPDATE SKIP
  LOCKED`` (PostgreSQL; SQLite has one writer at a time, the same query runs without the lock
  clause) and re-reading them: goals another runner holds are skipped without waiting, goals it
  has cloned no longer qualify (their flag moved).
* ``goals_goal.source_goal_id`` is UNIQUE: a goal has at most one clone whatever happens. Should
  two runners get past the lock anyway, the second one's INSERT fails and its chunk is re-run;
  the re-claim no longer returns the goal, which is counted as skipped.
* A failing goal is retried alone: the chunk rolls back and is re-run without it, then the goal
  runs as a chunk of its own, which fails, is logged and counted, and is retried by the next
  run. When the failure cannot be pinned on a goal (a database error in a bulk INSERT), the
  chunk is re-run in halves until it can.
* Rows are written in bulk: one ``executemany`` per table per chunk (intervals, allocations,
  history; the clones with ``INSERT ... RETURNING`` on PostgreSQL). The statement count of a
  chunk does not grow with its goals or their members.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.periods import Period, count_in, interval_periods
from ..domain.recurrence import ClonePlan, IntervalValues, Step, carry_values, next_step
from ..domain.rules import Category, GoalMode
from ..exceptions import GoalsHTTPError
from ..models import Allocation, Goal, HistoryEntry, Interval, utcnow
from ..plugins import HostHooks
from ..types import Identity, Notification, NotificationKind
from .context import Context, goal_target, today_in
from .readers import Readers
from .structure import members_on

#: The user id history rows of the job carry (``changed_by``).
SYSTEM_USER_ID = "system"
#: ``HistoryEntry.operation`` of every row the job writes.
OPERATION = "recurrence"
#: ``Notification.kind`` sent when new members of a clone got a zero target.
REVIEW_KIND = NotificationKind.REVIEW.value
#: Due goals claimed (locked, cloned, committed) per transaction.
CHUNK_SIZE = 500
#: Goals at fault re-run alone per chunk before the rest of it runs one goal per transaction.
_ISOLATIONS = 3
#: UTC+14 (POSIX signs are inverted): no timezone's today is later than this one's.
_FURTHEST_AHEAD = "Etc/GMT-14"
ZERO = Decimal(0)

logger = logging.getLogger("flask_wiseparts_goals.recurrence")

#: ``on_progress(done, total)``: called with ``(0, total)`` once the due goals are known, then
#: once per due goal (with the clones of its catch-up) when its chunk is done.
ProgressCallback = Callable[[int, int], None]

_GOAL = cast(sa.Table, Goal.__table__)
_INTERVAL = cast(sa.Table, Interval.__table__)
_ALLOCATION = cast(sa.Table, Allocation.__table__)
_HISTORY = cast(sa.Table, HistoryEntry.__table__)


@dataclass(frozen=True)
class CloneRecord:
    """One clone made (or, in a dry run, that would be made)."""

    source_goal_id: int
    goal_id: int | None
    start_date: date
    end_date: date


@dataclass
class RecurrenceSummary:
    """What one run did. In a dry run, what it would have done (nothing is written).

    :param checked: recurring goals found due (in some timezone) when the run started.
    :param created: clones created, catch-up clones included.
    :param ended: goals whose recurrence ended (``recurring_until`` passed).
    :param notified: review notifications sent (one per clone with zero-target new members).
    :param failed: goals that raised, alone: rolled back, logged, retried by the next run.
    :param skipped: goals another runner was cloning or had cloned meanwhile.
    """

    dry_run: bool = False
    checked: int = 0
    created: int = 0
    ended: int = 0
    notified: int = 0
    failed: int = 0
    skipped: int = 0
    clones: list[CloneRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_text(self) -> str:
        text = (
            f"created {self.created}, ended {self.ended}, notified {self.notified}, "
            f"failed {self.failed}, skipped {self.skipped}"
        )
        return f"{text} (dry run: nothing written)" if self.dry_run else text


def run_recurrence(
    session: Session,
    hooks: HostHooks,
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    config: Mapping[str, Any] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> RecurrenceSummary:
    """Clone every recurring goal whose next period has started; end those past
    ``recurring_until``.

    "Today" is each goal's own today in its ``timezone`` column, or ``as_of`` for every goal.
    After downtime every missed period is created in order (the clone of a clone, in this run).

    The run owns the session's transactions: it commits after each chunk's step (a dry run
    takes one due goal at a time and rolls its steps back instead), so call it with no pending
    changes.

    :param hooks: a fresh :class:`HostHooks` (team members are memoized for the whole run).
    :param config: the app's config (``GOALS_DEFAULT_TIMEZONE`` for unknown goal timezones).
    :param chunk_size: due goals per transaction.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError(
            "run_recurrence commits per chunk: commit or discard pending changes first."
        )
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    runner = _Runner(session, hooks, as_of=as_of, dry_run=dry_run, config=config or {})
    latest_today = as_of or today_in(_FURTHEST_AHEAD)
    goal_ids = due_goal_ids(session, latest_today)
    session.rollback()  # end the read; every chunk opens its own transaction
    runner.summary.checked = len(goal_ids)
    if on_progress is not None:
        on_progress(0, len(goal_ids))
    size = 1 if dry_run else chunk_size  # a dry run keeps a goal's catch-up in one transaction
    done = 0
    for start in range(0, len(goal_ids), size):
        chunk = goal_ids[start : start + size]
        runner.run_chunk(chunk)
        for _ in chunk:
            done += 1
            if on_progress is not None:
                on_progress(done, len(goal_ids))
    summary = runner.summary
    log = logger.warning if summary.failed else logger.info
    log("recurrence run: %s", summary.as_text())
    return summary


def _has_clone() -> sa.Exists:
    clone = _GOAL.alias("clone")
    return sa.exists().where(clone.c.source_goal_id == _GOAL.c.id)


def due_goal_ids(session: Session, latest_today: date) -> list[int]:
    """Recurring goals that may need a step on ``latest_today`` (the latest "today" of any
    timezone), in period order. Each goal's own timezone decides afterwards."""
    goal = _GOAL.c
    query = (
        sa.select(goal.id)
        .where(
            goal.recurrence.is_not(None),
            goal.deleted_at.is_(None),
            goal.category == Category.ACTIVITIES.value,
            sa.or_(goal.end_date < latest_today, goal.recurring_until < latest_today),
            ~_has_clone(),
        )
        .order_by(goal.end_date, goal.id)
    )
    return list(session.scalars(query))


def claim_due_goals(session: Session, goal_ids: Sequence[int]) -> list[sa.Row[Any]]:
    """The goals among ``goal_ids`` still recurring and without a clone, locked for this
    transaction; those another runner holds are left out (``SKIP LOCKED``).

    ``FOR NO KEY UPDATE`` (not ``FOR UPDATE``) so that inserting a clone, whose foreign key
    takes a key-share lock on its source row, never waits for the lock itself. SQLite renders
    no lock clause: it has one writer at a time.
    """
    goal = _GOAL.c
    query = (
        sa.select(_GOAL)
        .where(
            goal.id.in_(list(goal_ids)),
            goal.recurrence.is_not(None),
            goal.deleted_at.is_(None),
            ~_has_clone(),
        )
        .order_by(goal.end_date, goal.id)
        .with_for_update(of=_GOAL, key_share=True, skip_locked=True)
    )
    return list(session.execute(query))


def clone_members(ctx: Context, source: Any, interval_start: date) -> tuple[str, ...]:
    """Who gets an allocation in the clone's interval starting on ``interval_start``: the
    team's members on that day, as at creation (none when the goal is not split by members).
    """
    if not (source.split_by_team_members and source.team_id):
        return ()
    return members_on(ctx, source.team_id, interval_start)


class _Kind(StrEnum):
    CLONED = "cloned"
    ENDED = "ended"
    WAITING = "waiting"


@dataclass(frozen=True)
class _Item:
    """One goal to take a step of; ``root`` is the due goal whose catch-up it belongs to."""

    goal_id: int
    root: int


class _GoalError(Exception):
    """A step that raised for one known goal (a plugin, an unknown team, a bug)."""

    def __init__(self, item: _Item, error: Exception) -> None:
        super().__init__(str(error))
        self.item = item
        self.error = error


@dataclass
class _NewGoal:
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


@dataclass
class _Level:
    """What one transaction did: outcomes to count once it commits, and follow-ups."""

    outcomes: list[tuple[_Kind, CloneRecord | None, bool]] = field(default_factory=list)
    skipped: int = 0
    follow_ups: list[_Item] = field(default_factory=list)


class _Runner:
    def __init__(
        self,
        session: Session,
        hooks: HostHooks,
        *,
        as_of: date | None,
        dry_run: bool,
        config: Mapping[str, Any],
    ) -> None:
        self.session = session
        self.hooks = hooks
        self.as_of = as_of
        self.dry_run = dry_run
        self.config = config
        self.fallback = str(config.get("GOALS_DEFAULT_TIMEZONE") or "UTC")
        self.summary = RecurrenceSummary(dry_run=dry_run)

    # -- transactions ------------------------------------------------------------------------

    def run_chunk(self, goal_ids: Sequence[int]) -> None:
        """The steps of these due goals and of the clones they lead to (catch-up)."""
        items = [_Item(goal_id, goal_id) for goal_id in goal_ids]
        try:
            while items:
                items = self._transaction(items)
        finally:
            if self.dry_run:
                self.session.rollback()

    def _transaction(self, items: list[_Item]) -> list[_Item]:
        """One step of each item in one transaction; returns the follow-up steps.

        On failure the transaction rolls back and the items run again without the goal at
        fault, then that goal alone (or in halves when no goal is at fault). After
        :data:`_ISOLATIONS` goals at fault in one chunk (a host hook down for every goal), the
        rest of the chunk runs one goal per transaction: a failing run costs no more than
        cloning one goal at a time.
        """
        follow_ups: list[_Item] = []
        pending = [items]
        isolated = 0
        while pending:
            batch = pending.pop(0)
            try:
                level = self._steps(batch)
                if not self.dry_run:
                    self.session.commit()
            except Exception as error:
                self.session.rollback()
                culprit = error.item if isinstance(error, _GoalError) else None
                if len(batch) == 1 or self.dry_run:
                    self._give_up(culprit or batch[0], error)
                    continue
                if culprit is not None and isolated < _ISOLATIONS:
                    isolated += 1
                    logger.info(
                        "recurrence: goal %s failed in a chunk of %d; re-running the chunk "
                        "without it, then the goal alone",
                        culprit.goal_id,
                        len(batch),
                    )
                    pending[:0] = [[item for item in batch if item != culprit], [culprit]]
                elif culprit is not None:
                    pending[:0] = [[item] for item in batch]
                else:
                    logger.info(
                        "recurrence: a chunk of %d failed (%s); re-running it in halves",
                        len(batch),
                        _describe(error),
                    )
                    middle = len(batch) // 2
                    pending[:0] = [batch[:middle], batch[middle:]]
                continue
            self._count(level)
            follow_ups += level.follow_ups
        return follow_ups

    def _count(self, level: _Level) -> None:
        summary = self.summary
        summary.skipped += level.skipped
        for kind, clone, notified in level.outcomes:
            if kind is _Kind.CLONED:
                assert clone is not None
                summary.created += 1
                summary.clones.append(clone)
                summary.notified += notified
            elif kind is _Kind.ENDED:
                summary.ended += 1

    def _give_up(self, item: _Item, error: Exception) -> None:
        """A goal that failed alone: skipped when another runner cloned it, else failed."""
        cause = error.error if isinstance(error, _GoalError) else error
        if isinstance(cause, IntegrityError) and _is_duplicate_clone(cause):
            logger.info("recurrence: goal %s was cloned by another runner", item.goal_id)
            self.summary.skipped += 1
            return
        self.summary.failed += 1
        self.summary.errors.append(f"goal {item.goal_id}: {_describe(cause)}")
        logger.error(
            "recurrence: goal %s failed and is retried on the next run: %s",
            item.goal_id,
            _describe(cause),
            exc_info=cause,
        )

    # -- one step of many goals --------------------------------------------------------------

    def _steps(self, items: list[_Item]) -> _Level:
        """Lock the goals, then clone, end or leave each; every row written in bulk."""
        level = _Level()
        by_id = {item.goal_id: item for item in items}
        sources = claim_due_goals(self.session, list(by_id))
        level.skipped = len(by_id) - len(sources)
        values = _source_values(self.session, [source.id for source in sources])
        ended: list[Any] = []
        cloned: list[tuple[Any, _NewGoal]] = []
        for source in sources:
            item = by_id[source.id]
            try:
                today = self.as_of or today_in(source.timezone, self.fallback)
                decision = next_step(
                    source.recurrence,
                    Period(source.start_date, source.end_date),
                    source.recurring_until,
                    today,
                )
                if decision.step is Step.WAIT:
                    level.outcomes.append((_Kind.WAITING, None, False))
                elif decision.step is Step.END:
                    ended.append(source)
                    level.outcomes.append((_Kind.ENDED, None, False))
                else:
                    new = self._plan_clone(source, decision.next_period, values, today)
                    cloned.append((source, new))
            except Exception as error:
                raise _GoalError(item, error) from error
        if not ended and not cloned:
            return level

        now = utcnow()
        # The sources' UPDATE first: on SQLite it takes the write lock before ids are numbered.
        _end_flags(self.session, [source.id for source in ended + [s for s, _ in cloned]], now)
        history = [row for source in ended for row in _flag_events(source, now)]
        _write_clones(self.session, cloned, history, now)
        for source, new in cloned:
            notification = review_notification(source, new, new.plan)
            if notification is not None and not Readers(self.hooks, new.organization_id).may_read(
                notification.recipient_id, goal_target(cast(Goal, new)), new.today
            ):
                notification = None  # nobody is told about a goal they may not read (§13)
            if notification is not None and not self.dry_run:
                # In the chunk's transaction: a host that stores notifications in its database
                # keeps them only if the clones commit; a plugin raising rolls the chunk back
                # (it is re-run without this goal).
                try:
                    self.hooks.notify(new.organization_id, notification)
                except Exception as error:
                    raise _GoalError(by_id[source.id], error) from error
            level.outcomes.append(
                (
                    _Kind.CLONED,
                    CloneRecord(
                        source_goal_id=source.id,
                        goal_id=None if self.dry_run else new.id,
                        start_date=new.start_date,
                        end_date=new.end_date,
                    ),
                    notification is not None,
                )
            )
            follow = next_step(
                new.recurrence, Period(new.start_date, new.end_date), new.recurring_until, new.today
            )
            if follow.step is not Step.WAIT:
                level.follow_ups.append(_Item(new.id, by_id[source.id].root))
        return level

    def _plan_clone(
        self, source: Any, period: Period, values: _SourceValues, today: date
    ) -> _NewGoal:
        """The clone of ``source`` covering ``period``: its rows, not yet written.

        Intervals are rebuilt for the new period (business days from ``goals_business_days``,
        members from :func:`clone_members`, as at creation); values are copied position-wise
        (:func:`carry_values`); per-day effective targets are recomputed on the new business
        days, as :func:`~.structure.recompute_totals` does.
        """
        ctx = Context(
            session=self.session,
            hooks=self.hooks,
            identity=Identity(
                user_id=SYSTEM_USER_ID,
                organization_id=source.organization_id,
                timezone=source.timezone,
            ),
            config=self.config,
            today=today,
        )
        per_day = source.goal_mode == GoalMode.PER_BUSINESS_DAY
        by_members = bool(source.split_by_team_members)
        periods = interval_periods(period, source.split_into_subperiods)
        with self.session.no_autoflush:
            business_days = self.hooks.business_days(
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
                interval_daily = (
                    sum((row["daily_target"] for row in rows), ZERO) if per_day else None
                )
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
        return _NewGoal(
            row=row, intervals=intervals, allocations=allocations, plan=plan, today=today
        )


# -- reading and writing in bulk -------------------------------------------------------------


@dataclass
class _SourceValues:
    """The claimed goals' intervals (in date order) and each interval's allocations (in team
    order), read with one query each."""

    intervals: dict[int, list[Any]]
    allocations: dict[int, list[Any]]


def _source_values(session: Session, goal_ids: list[int]) -> _SourceValues:
    values = _SourceValues(intervals={}, allocations={})
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
    interval: Any, values: _SourceValues, *, per_day: bool, by_members: bool
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


def _end_flags(session: Session, goal_ids: list[int], now: datetime) -> None:
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


def _write_clones(
    session: Session,
    cloned: list[tuple[Any, _NewGoal]],
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
    return {
        "organization_id": organization_id,
        "goal_id": goal_id,
        "interval_id": None if interval is None else interval["id"],
        "interval_start": None if interval is None else interval["start_date"],
        "interval_end": None if interval is None else interval["end_date"],
        "user_id": user_id,
        "field": field,
        "old_value": _text(old),
        "new_value": _text(new),
        "operation": OPERATION,
        "changed_by": SYSTEM_USER_ID,
        "changed_at": now,
    }


def _flag_events(source: Any, now: datetime) -> list[dict[str, Any]]:
    """The source's recurrence flag (and ``recurring_until``) removed."""
    org = source.organization_id
    rows = [_history_row(org, source.id, "recurrence", source.recurrence, None, now)]
    if source.recurring_until is not None:
        rows.append(
            _history_row(org, source.id, "recurring_until", source.recurring_until, None, now)
        )
    return rows


def _clone_history(source: Any, new: _NewGoal, now: datetime) -> list[dict[str, Any]]:
    """The rows the history of a cloned goal has: the clone created, the flag moved, and every
    value of the clone (what :func:`~.history.record_changes` records for a new goal: a value
    going from nothing to zero is not a change)."""
    org = source.organization_id
    rows = [_history_row(org, new.id, "goal", None, "created", now)]
    rows += _flag_events(source, now)
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


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


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


def _is_duplicate_clone(error: IntegrityError) -> bool:
    """The UNIQUE ``source_goal_id`` refused a second clone (PostgreSQL names the constraint,
    SQLite the column)."""
    message = str(error.orig)
    return (
        "uq_goals_goal_source_goal_id" in message
        or "UNIQUE constraint failed: goals_goal.source_goal_id" in message
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, GoalsHTTPError):
        errors = error.data.get("errors")
        return f"{error.description}" + (f" {errors}" if errors else "")
    lines = str(error).splitlines()  # the first line: SQL and parameters are in the log
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
