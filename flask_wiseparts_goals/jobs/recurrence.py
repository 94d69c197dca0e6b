"""The recurrence job (SPEC §3 "Recurrence"): clone every recurring goal whose next period has
started, exactly once, and end those past their ``recurring_until``.

What is due: recurring activity goals without a clone whose period (or recurring-until date)
has ended somewhere. What to do, per chunk of :data:`CHUNK_SIZE` goals in one transaction: lock
the goals (:func:`~.runtime.skip_locked`; a goal another runner has cloned no longer qualifies,
its flag moved), then clone, end or leave each (:mod:`..services.recurrence` writes every row
in bulk). A catch-up clone whose own next period has started is a follow-up, in the chunk's
next transaction. ``goals_goal.source_goal_id`` is UNIQUE: should two runners get past the
lock anyway, the second one's INSERT fails, its chunk runs again, and the re-claim leaves the
goal out (skipped). The rest (chunks, retrying a goal alone, halves) is :mod:`.runtime`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..domain.periods import Period
from ..domain.recurrence import Step, next_step
from ..domain.rules import Category
from ..models import Goal, utcnow
from ..services.context import goal_target
from ..services.readers import Readers
from ..services.recurrence import (
    NewGoal,
    end_flags,
    flag_events,
    plan_clone,
    review_notification,
    source_values,
    write_clones,
)
from .runtime import Job, Summary, blame, is_unique_violation, latest_today
from .runtime import skip_locked as _skip_locked

#: Due goals claimed (locked, cloned, committed) per transaction.
CHUNK_SIZE = 500

_GOAL = cast(sa.Table, Goal.__table__)


@dataclass(frozen=True)
class CloneRecord:
    """One clone made (or, in a dry run, that would be made)."""

    source_goal_id: int
    goal_id: int | None
    start_date: date
    end_date: date


@dataclass
class RecurrenceSummary(Summary):
    """What one run did. In a dry run, what it would have done (nothing is written).

    :param checked: recurring goals found due (in some timezone) when the run started.
    :param created: clones created, catch-up clones included.
    :param ended: goals whose recurrence ended (``recurring_until`` passed).
    :param notified: review notifications sent (one per clone with zero-target new members).
    """

    checked: int = 0
    created: int = 0
    ended: int = 0
    notified: int = 0
    clones: list[CloneRecord] = field(default_factory=list)

    COUNTS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("created", "created"),
        ("ended", "ended"),
        ("notified", "notified"),
        ("failed", "failed"),
        ("skipped", "skipped"),
    )

    def details(self) -> list[str]:
        return [
            f"  goal {clone.source_goal_id} → "
            f"{'new goal' if clone.goal_id is None else f'goal {clone.goal_id}'} "
            f"({clone.start_date.isoformat()} to {clone.end_date.isoformat()})"
            for clone in self.clones
        ]


def _has_clone() -> sa.Exists:
    clone = _GOAL.alias("clone")
    return sa.exists().where(clone.c.source_goal_id == _GOAL.c.id)


def due_goal_ids(session: Session, latest: date) -> list[int]:
    """Recurring goals that may need a step on ``latest`` (the latest "today" of any
    timezone), in period order. Each goal's own timezone decides afterwards."""
    goal = _GOAL.c
    query = (
        sa.select(goal.id)
        .where(
            goal.recurrence.is_not(None),
            goal.deleted_at.is_(None),
            goal.category == Category.ACTIVITIES.value,
            sa.or_(goal.end_date < latest, goal.recurring_until < latest),
            ~_has_clone(),
        )
        .order_by(goal.end_date, goal.id)
    )
    return list(session.scalars(query))


def claim_due_goals(session: Session, goal_ids: Sequence[int]) -> list[sa.Row[Any]]:
    """The goals among ``goal_ids`` still recurring and without a clone, locked for this
    transaction; those another runner holds are left out."""
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
    )
    return list(session.execute(_skip_locked(query, _GOAL)))


class RecurrenceJob(Job[int, RecurrenceSummary]):
    """Clone every recurring goal whose next period has started; end those past
    ``recurring_until``. Items are goal ids: the due goals, then their catch-up clones.

    "Today" is each goal's own today in its ``timezone`` column, or ``as_of`` for every goal.
    After downtime every missed period is created in order (the clone of a clone, in this run).
    A dry run takes one due goal at a time and rolls its steps back.

    :param chunk_size: due goals per transaction.
    """

    name = "recurrence"

    def __init__(self, *args: Any, chunk_size: int = CHUNK_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        # A dry run takes one due goal at a time: its catch-up stays in one transaction.
        self.chunk_size = 1 if self.dry_run else chunk_size

    def new_summary(self) -> RecurrenceSummary:
        return RecurrenceSummary(dry_run=self.dry_run)

    def label(self, item: int) -> str:
        return f"goal {item}"

    def lost_race(self, error: BaseException) -> bool:
        return super().lost_race(error) or is_unique_violation(
            error, "uq_goals_goal_source_goal_id"
        )

    def due(self) -> list[int]:
        goal_ids = due_goal_ids(self.session, latest_today(self.as_of))
        self.summary.checked = len(goal_ids)
        return goal_ids

    def step(self, batch: Sequence[int], done: RecurrenceSummary) -> list[int]:
        """Lock the goals, then clone, end or leave each; every row written in bulk."""
        sources = claim_due_goals(self.session, batch)
        done.skipped += len(batch) - len(sources)
        values = source_values(self.session, [source.id for source in sources])
        ended: list[Any] = []
        cloned: list[tuple[Any, NewGoal]] = []
        for source in sources:
            with blame(source.id):
                today = self.today(source.timezone)
                decision = next_step(
                    source.recurrence,
                    Period(source.start_date, source.end_date),
                    source.recurring_until,
                    today,
                )
                if decision.step is Step.END:
                    ended.append(source)
                elif decision.step is Step.CLONE:
                    ctx = self.context(source.organization_id, today, timezone=source.timezone)
                    cloned.append((source, plan_clone(ctx, source, decision.next_period, values)))
        if not ended and not cloned:
            return []
        now = utcnow()
        # The sources' UPDATE first: on SQLite it takes the write lock before ids are numbered.
        end_flags(self.session, [source.id for source in ended + [s for s, _ in cloned]], now)
        history = [row for source in ended for row in flag_events(source, now)]
        write_clones(self.session, cloned, history, now)
        done.ended += len(ended)
        follow_ups = []
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
                with blame(source.id):
                    self.hooks.notify(new.organization_id, notification)
            done.created += 1
            done.notified += notification is not None
            done.clones.append(
                CloneRecord(
                    source_goal_id=source.id,
                    goal_id=None if self.dry_run else new.id,
                    start_date=new.start_date,
                    end_date=new.end_date,
                )
            )
            follow = next_step(
                new.recurrence, Period(new.start_date, new.end_date), new.recurring_until, new.today
            )
            if follow.step is not Step.WAIT:
                follow_ups.append(new.id)
        return follow_ups


#: ``run_recurrence(session, hooks, *, as_of=None, dry_run=False, on_progress=None,
#: config=None, chunk_size=CHUNK_SIZE)``: one run of :class:`RecurrenceJob`.
run_recurrence = RecurrenceJob.run_on
