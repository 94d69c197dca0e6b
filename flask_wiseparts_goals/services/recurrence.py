"""The recurrence job: clone every recurring goal whose next period has started, exactly once.

Correctness comes from the database, never from running one scheduler only (DEPENDENCIES.md,
"APScheduler 3"): every web worker, host and cron job may run :func:`run_recurrence` at the same
moment.

* Each step (one clone, or the end of one goal's recurrence) is its own transaction: it commits
  before the next starts, and a failure rolls back that step alone.
* A step starts by locking its source goal row with ``SELECT ... FOR NO KEY UPDATE SKIP LOCKED``
  (PostgreSQL; SQLite serializes writers anyway) and re-reading it: a goal another runner is
  cloning is skipped without waiting, one it has cloned no longer qualifies (its flag moved).
* ``goals_goal.source_goal_id`` is UNIQUE: a goal has at most one clone whatever happens. Should
  two runners get past the lock anyway, the second one's INSERT fails, its transaction rolls
  back and the goal is counted as skipped.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from ..domain.periods import Period
from ..domain.recurrence import ClonePlan, IntervalValues, Step, carry_values, next_step
from ..domain.rules import Category, GoalMode
from ..exceptions import GoalsHTTPError
from ..models import Allocation, Goal, HistoryEntry, Interval
from ..plugins import HostHooks
from ..types import Identity, Notification, NotificationKind
from .context import Context, today_in
from .goals import goal_settings
from .history import record_changes, record_event, snapshot
from .structure import rebuild, recompute_totals

#: The user id history rows of the job carry (``changed_by``).
SYSTEM_USER_ID = "system"
#: ``HistoryEntry.operation`` of every row the job writes.
OPERATION = "recurrence"
#: ``Notification.kind`` sent when new members of a clone got a zero target.
REVIEW_KIND = NotificationKind.REVIEW.value
#: UTC+14 (POSIX signs are inverted): no timezone's today is later than this one's.
_FURTHEST_AHEAD = "Etc/GMT-14"
ZERO = Decimal(0)

logger = logging.getLogger("flask_wiseparts_goals.recurrence")

#: ``on_progress(done, total)``: called with ``(0, total)`` once the due goals are known, then
#: after each of them (with the clones of its catch-up).
ProgressCallback = Callable[[int, int], None]


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
    :param failed: steps that raised: rolled back, logged, retried by the next run.
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


class _Kind(StrEnum):
    CLONED = "cloned"
    ENDED = "ended"
    SKIPPED = "skipped"
    WAITING = "waiting"


@dataclass
class _Outcome:
    kind: _Kind
    clone: CloneRecord | None = None
    notified: bool = False
    #: The goal to look at next in the same run (a clone whose own next period has started).
    follow_up: int | None = None


def run_recurrence(
    session: Session,
    hooks: HostHooks,
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    config: Mapping[str, Any] | None = None,
) -> RecurrenceSummary:
    """Clone every recurring goal whose next period has started; end those past
    ``recurring_until``.

    "Today" is each goal's own today in its ``timezone`` column, or ``as_of`` for every goal.
    After downtime every missed period is created in order (the clone of a clone, in this run).

    The run owns the session's transactions: it commits after each step (a dry run rolls each
    goal's steps back instead), so call it with no pending changes.

    :param hooks: a fresh :class:`HostHooks` (team members are memoized for the whole run).
    :param config: the app's config (``GOALS_DEFAULT_TIMEZONE`` for unknown goal timezones).
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError(
            "run_recurrence commits per goal: commit or discard pending changes first."
        )
    runner = _Runner(session, hooks, as_of=as_of, dry_run=dry_run, config=config or {})
    latest_today = as_of or today_in(_FURTHEST_AHEAD)
    goal_ids = due_goal_ids(session, latest_today)
    session.rollback()  # end the read; every step opens its own transaction
    runner.summary.checked = len(goal_ids)
    if on_progress is not None:
        on_progress(0, len(goal_ids))
    for done, goal_id in enumerate(goal_ids, start=1):
        runner.run_chain(goal_id)
        if on_progress is not None:
            on_progress(done, len(goal_ids))
    summary = runner.summary
    log = logger.warning if summary.failed else logger.info
    log("recurrence run: %s", summary.as_text())
    return summary


def _has_clone() -> sa.Exists:
    clone = aliased(Goal)
    return sa.exists().where(clone.source_goal_id == Goal.id)


def due_goal_ids(session: Session, latest_today: date) -> list[int]:
    """Recurring goals that may need a step on ``latest_today`` (the latest "today" of any
    timezone), in period order. Each goal's own timezone decides afterwards."""
    query = (
        sa.select(Goal.id)
        .where(
            Goal.recurrence.is_not(None),
            Goal.deleted_at.is_(None),
            Goal.category == Category.ACTIVITIES.value,
            sa.or_(Goal.end_date < latest_today, Goal.recurring_until < latest_today),
            ~_has_clone(),
        )
        .order_by(Goal.end_date, Goal.id)
    )
    return list(session.scalars(query))


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
        self.summary = RecurrenceSummary(dry_run=dry_run)

    def run_chain(self, goal_id: int) -> None:
        """The steps of one due goal and of the clones it leads to (catch-up)."""
        current: int | None = goal_id
        try:
            while current is not None:
                outcome = self.step(current)
                if not self.dry_run:
                    self.session.commit()
                self._count(outcome)
                current = outcome.follow_up
        except IntegrityError as error:
            self.session.rollback()
            if not _is_duplicate_clone(error):
                self._failed(current, error)
            else:
                logger.info("recurrence: goal %s was cloned by another runner", current)
                self.summary.skipped += 1
        except Exception as error:  # a plugin, the database, a bug: this goal only
            self.session.rollback()
            self._failed(current, error)
        finally:
            if self.dry_run:
                self.session.rollback()

    def _count(self, outcome: _Outcome) -> None:
        summary = self.summary
        if outcome.kind is _Kind.CLONED:
            summary.created += 1
            assert outcome.clone is not None
            summary.clones.append(outcome.clone)
            summary.notified += outcome.notified
        elif outcome.kind is _Kind.ENDED:
            summary.ended += 1
        elif outcome.kind is _Kind.SKIPPED:
            summary.skipped += 1

    def _failed(self, goal_id: int | None, error: Exception) -> None:
        self.summary.failed += 1
        self.summary.errors.append(f"goal {goal_id}: {_describe(error)}")
        logger.error(
            "recurrence: goal %s failed and is retried on the next run: %s",
            goal_id,
            _describe(error),
            exc_info=error,
        )

    def step(self, goal_id: int) -> _Outcome:
        """One transaction's work: lock the goal, then clone it, end it, or leave it."""
        source = _lock_due_goal(self.session, goal_id)
        if source is None:
            return _Outcome(_Kind.SKIPPED)
        fallback = str(self.config.get("GOALS_DEFAULT_TIMEZONE") or "UTC")
        today = self.as_of or today_in(source.timezone, fallback)
        assert source.recurrence is not None
        decision = next_step(
            source.recurrence,
            Period(source.start_date, source.end_date),
            source.recurring_until,
            today,
        )
        if decision.step is Step.WAIT:
            return _Outcome(_Kind.WAITING)
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
        if decision.step is Step.END:
            end_recurrence(ctx, source)
            return _Outcome(_Kind.ENDED)

        clone, plan = clone_goal(ctx, source, decision.next_period)
        notification = review_notification(source, clone, plan)
        if notification is not None and not self.dry_run:
            # In the clone's transaction: a host that stores notifications in its database
            # keeps them only if the clone commits; a plugin raising rolls the clone back.
            self.hooks.notify(clone.organization_id, notification)
        assert clone.recurrence is not None
        follow = next_step(
            clone.recurrence, Period(clone.start_date, clone.end_date), clone.recurring_until, today
        )
        return _Outcome(
            _Kind.CLONED,
            clone=CloneRecord(
                source_goal_id=source.id,
                goal_id=None if self.dry_run else clone.id,
                start_date=clone.start_date,
                end_date=clone.end_date,
            ),
            notified=notification is not None,
            follow_up=clone.id if follow.step is not Step.WAIT else None,
        )


def _lock_due_goal(session: Session, goal_id: int) -> Goal | None:
    """The goal, still recurring and without a clone, locked for this transaction with its
    intervals and allocations; ``None`` when it no longer qualifies or another runner holds it.

    ``FOR NO KEY UPDATE`` (not ``FOR UPDATE``) so that inserting the clone, whose foreign key
    takes a key-share lock on this row, never waits for the lock itself.
    """
    query = (
        sa.select(Goal)
        .where(
            Goal.id == goal_id,
            Goal.recurrence.is_not(None),
            Goal.deleted_at.is_(None),
            ~_has_clone(),
        )
        .options(selectinload(Goal.intervals).selectinload(Interval.allocations))
        .with_for_update(of=Goal, key_share=True, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def end_recurrence(ctx: Context, goal: Goal) -> None:
    """Remove the flag (and ``recurring_until``) of a goal whose recurrence is over."""
    record_event(ctx, goal, "recurrence", goal.recurrence, None, OPERATION)
    if goal.recurring_until is not None:
        record_event(ctx, goal, "recurring_until", goal.recurring_until, None, OPERATION)
    goal.recurrence = None
    goal.recurring_until = None
    ctx.session.flush()


def _interval_values(interval: Interval, *, per_day: bool, by_members: bool) -> IntervalValues:
    """What the clone copies from one interval: targets (total mode) or daily targets."""
    if by_members:
        return IntervalValues(
            members={
                a.user_id: ((a.daily_target or ZERO) if per_day else a.target)
                for a in interval.allocations
            }
        )
    return IntervalValues(
        members={}, value=(interval.daily_target or ZERO) if per_day else interval.aim
    )


def clone_goal(ctx: Context, source: Goal, period: Period) -> tuple[Goal, ClonePlan]:
    """Create the clone of ``source`` covering ``period`` and move the recurrence flag to it.

    Intervals are rebuilt for the new period (business days from ``goals_business_days``,
    members from ``goals_team_members`` on each interval's start, as at creation); values are
    copied position-wise; per-day effective targets are recomputed on the new business days.
    Rows are written in bulk (one INSERT per table whatever the number of members): the
    statement count per clone is constant.
    """
    per_day = source.goal_mode == GoalMode.PER_BUSINESS_DAY
    by_members = source.split_by_team_members
    clone = Goal(
        organization_id=source.organization_id,
        category=source.category,
        description=source.description,
        metric=source.metric,
        start_date=period.start,
        end_date=period.end,
        aim=ZERO,
        stretch_aim=source.stretch_aim,
        team_id=source.team_id,
        split_into_subperiods=source.split_into_subperiods,
        split_by_team_members=by_members,
        goal_mode=source.goal_mode,
        filters=copy.deepcopy(source.filters or {}),
        recurrence=source.recurrence,
        recurring_until=source.recurring_until,
        source_goal_id=source.id,
        timezone=source.timezone,
        created_by=source.created_by,
    )
    clone.intervals = []
    before = snapshot(clone)
    # The source's settings on the new period; values come from the carry plan below.
    settings = replace(
        goal_settings(source),
        start_date=period.start,
        end_date=period.end,
        aim=None,
        daily_target=None,
        filters=clone.filters,
    )
    rebuild(ctx, clone, settings)
    plan = carry_values(
        [_interval_values(i, per_day=per_day, by_members=by_members) for i in source.intervals],
        [[a.user_id for a in interval.allocations] for interval in clone.intervals],
    )
    for interval, interval_plan in zip(clone.intervals, plan.intervals, strict=True):
        if by_members:
            for allocation in interval.allocations:
                value = interval_plan.members[allocation.user_id]
                if per_day:
                    allocation.daily_target = value
                else:
                    allocation.target = value
        elif per_day:
            interval.daily_target = interval_plan.value or ZERO
        else:
            interval.aim = interval_plan.value or ZERO
    recompute_totals(clone)

    old_recurrence, old_until = source.recurrence, source.recurring_until
    source.recurrence = None
    source.recurring_until = None
    ctx.session.flush()  # the source's UPDATE first: on SQLite it takes the write lock
    ctx.session.add(clone)
    _number_new_rows(ctx.session)
    ctx.session.flush()  # the UNIQUE source_goal_id speaks here, before any history is written
    record_event(ctx, clone, "goal", None, "created", OPERATION)
    record_event(ctx, source, "recurrence", old_recurrence, None, OPERATION)
    if old_until is not None:
        record_event(ctx, source, "recurring_until", old_until, None, OPERATION)
    record_changes(ctx, clone, before, OPERATION)
    _number_new_rows(ctx.session)
    ctx.session.flush()
    return clone, plan


#: The tables a clone writes many rows to.
_BULK_MODELS: tuple[type[Interval] | type[Allocation] | type[HistoryEntry], ...] = (
    Interval,
    Allocation,
    HistoryEntry,
)


def _number_new_rows(session: Session) -> None:
    """SQLite only: give the new intervals, allocations and history rows their ids up front.

    The ORM reads generated ids back with ``INSERT ... RETURNING``; PostgreSQL batches that
    ("insertmanyvalues"), but SQLite cannot tell which id belongs to which row of a multi-row
    INSERT, so SQLAlchemy falls back to one INSERT per row — one per member. With the ids
    given, each table is a single ``executemany``. Safe because SQLite has one writer at a
    time and this transaction already holds the write lock (the source's UPDATE came first).
    """
    if session.connection().dialect.name != "sqlite":
        return
    pending: dict[type[Any], list[Any]] = {model: [] for model in _BULK_MODELS}
    for obj in session.new:  # in the order they were added, which is the INSERT order
        rows = pending.get(type(obj))
        if rows is not None and obj.id is None:
            rows.append(obj)
    with session.no_autoflush:
        for model, rows in pending.items():
            if not rows:
                continue
            last = session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0)))
            for number, row in enumerate(rows, start=int(last or 0) + 1):
                row.id = number


def review_notification(source: Goal, clone: Goal, plan: ClonePlan) -> Notification | None:
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
