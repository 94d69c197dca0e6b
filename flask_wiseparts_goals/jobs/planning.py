"""The planning job (SPEC §11): keep the original aims of intervals that have started, and carry
the shortfall of every ended interval forward by its goal's shortfall policy, exactly once.

What is due: first the original aims (one item: an idempotent ``UPDATE ... WHERE original_aim
IS NULL`` per timezone in use), then every goal with a shortfall policy and an ended, unsettled
interval that is not its last. What to do with a goal, in a transaction of its own: lock it
(:func:`~.runtime.skip_locked`; a goal another runner holds is skipped), measure its ended
intervals, then claim them with a compare-and-set ``UPDATE goals_interval SET
shortfall_settled_at = now WHERE id IN (...) AND shortfall_settled_at IS NULL``
(:func:`~.runtime.claim_update`): a runner that claims fewer rows than it expected rolls back,
so an interval's shortfall is carried at most once, and the claim commits with the carry or not
at all. The carry itself is :func:`..services.shortfall.carry_shortfall`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..domain.periods import day_start
from ..domain.rules import Category, step
from ..models import Allocation, Goal, Interval, utcnow
from ..services.context import claim_goal
from ..services.shortfall import carry_shortfall
from ..services.structure import members_on
from ..types import ActualsQuery, Filters
from .runtime import (
    Job,
    LostRace,
    Summary,
    claim_update,
    latest_today,
    skip_locked,
)

ZERO = Decimal(0)
#: The first item of every run: the original aims of intervals that have started.
ORIGINAL_AIMS = "original aims"


@dataclass
class PlanningSummary(Summary):
    """What one run of the planning job did (in a dry run: would do; nothing is written).

    :param frozen: intervals whose original aim was kept in this run (started, untouched).
    :param carried: ended intervals whose shortfall was carried forward.
    :param settled: ended intervals settled without a shortfall (achieved).
    :param unmeasured: goals left for a later run because no metric source answers.
    """

    frozen: int = 0
    carried: int = 0
    settled: int = 0
    unmeasured: int = 0

    COUNTS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("frozen", "original aims kept"),
        ("carried", "carried"),
        ("settled", "settled"),
        ("skipped", "skipped"),
        ("unmeasured", "unmeasured"),
        ("failed", "failed"),
    )


def due_goal_ids(session: Session, latest: date) -> list[int]:
    """Goals with a shortfall policy and an ended, unsettled interval that is not their last,
    on ``latest`` (the latest "today" of any timezone; each goal's own decides later)."""
    query = (
        sa.select(Goal.id)
        .join(Interval, Interval.goal_id == Goal.id)
        .where(
            Goal.shortfall_policy != "none",
            Goal.deleted_at.is_(None),
            Goal.category != Category.ACTIVITIES.value,
            Interval.shortfall_settled_at.is_(None),
            Interval.end_date < latest,
            Interval.end_date < Goal.end_date,  # a later interval exists to carry to
        )
        .group_by(Goal.id)
        .order_by(Goal.id)
    )
    return list(session.scalars(query))


class PlanningJob(Job["int | str", PlanningSummary]):
    """Keep the original aims of intervals that have started, then settle every ended interval
    of a goal with a shortfall policy: carry its shortfall forward, exactly once. Items:
    :data:`ORIGINAL_AIMS`, then goal ids, one per transaction.

    "Today" is each goal's own today in its ``timezone``, or ``as_of`` for every goal.
    """

    name = "planning"
    chunk_size = 1

    def new_summary(self) -> PlanningSummary:
        return PlanningSummary(dry_run=self.dry_run)

    def label(self, item: int | str) -> str:
        return item if isinstance(item, str) else f"goal {item}"

    def due(self) -> list[int | str]:
        return [ORIGINAL_AIMS, *due_goal_ids(self.session, latest_today(self.as_of))]

    def step(self, batch: Sequence[int | str], done: PlanningSummary) -> list[int | str]:
        (item,) = batch
        if isinstance(item, str):
            done.frozen += self._keep_original_aims()
        else:
            self._settle(item, done)
        return []

    def _keep_original_aims(self) -> int:
        """The bulk form of :func:`.models.freeze_originals`: two UPDATEs per timezone in use."""
        session, frozen = self.session, 0
        timezones = session.scalars(
            sa.select(Goal.timezone).where(Goal.deleted_at.is_(None)).distinct()
        ).all()
        for timezone in timezones:
            today = self.today(timezone)
            # A goal's plan is what stands at the end of the day it was created
            # (freeze_originals).
            goals = sa.select(Goal.id).where(
                Goal.timezone == timezone,
                Goal.deleted_at.is_(None),
                Goal.created_at < day_start(today, timezone, self.fallback),
            )
            started = sa.select(Interval.id).where(
                Interval.goal_id.in_(goals), Interval.start_date <= today
            )
            result: sa.CursorResult[Any] = session.execute(  # type: ignore[assignment]
                sa.update(Interval)
                .where(Interval.id.in_(started), Interval.original_aim.is_(None))
                .values(original_aim=Interval.aim)
                .execution_options(synchronize_session=False)
            )
            frozen += result.rowcount
            session.execute(
                sa.update(Allocation)
                .where(Allocation.interval_id.in_(started), Allocation.original_target.is_(None))
                .values(original_target=Allocation.target)
                .execution_options(synchronize_session=False)
            )
        return frozen

    def _settle(self, goal_id: int, done: PlanningSummary) -> None:
        """Carry the shortfall of the goal's ended intervals forward (or settle them)."""
        session, hooks = self.session, self.hooks
        claim = (
            sa.select(Goal)
            .where(Goal.id == goal_id, Goal.deleted_at.is_(None), Goal.shortfall_policy != "none")
            .options(selectinload(Goal.intervals).selectinload(Interval.allocations))
            .execution_options(populate_existing=True)
        )
        goal = session.scalars(skip_locked(claim, Goal)).one_or_none()
        if goal is None:
            raise LostRace
        today = self.today(goal.timezone)
        due = [
            interval
            for interval in list(goal.intervals)[:-1]
            if interval.shortfall_settled_at is None and interval.end_date < today
        ]
        if not due:
            return
        ctx = self.context(goal.organization_id, today, timezone=goal.timezone, confirm=True)
        queries = [
            ActualsQuery(
                key=f"shortfall:{interval.id}",
                metric=goal.metric,
                start=interval.start_date,
                end=interval.end_date,
                user_ids=members_on(ctx, goal.team_id, interval.end_date) if goal.team_id else None,
                team_id=goal.team_id,
                goal_id=goal.id,
                interval_id=interval.id,
                filters=Filters.from_json(goal.filters),
            )
            for interval in due
        ]
        with session.no_autoflush:
            answer = hooks.collect_actuals(goal.organization_id, goal.category, queries)
        if answer is None:
            done.unmeasured += 1
            self.logger.warning(
                "planning: no metric source answers %s: goal %s keeps its shortfalls for later",
                goal.category,
                goal.id,
            )
            return
        failed = [r.error for q in queries if (r := answer.get(q.key)) is not None and r.error]
        if failed:  # a per-query error (SPEC §7): no shortfall from a number the source lacks
            done.unmeasured += 1
            self.logger.warning(
                "planning: the metric source could not measure goal %s (%s): its shortfalls wait",
                goal.id,
                failed[0],
            )
            return
        claim_goal(ctx, goal)  # a new version: ETags read before the carry are stale
        now = utcnow()
        claim_update(
            session,
            sa.update(Interval)
            .where(Interval.id.in_([i.id for i in due]), Interval.shortfall_settled_at.is_(None))
            .values(shortfall_settled_at=now),
            len(due),
        )
        unit = step(goal.metric)
        for interval, query in zip(due, queries, strict=True):
            set_committed_value(interval, "shortfall_settled_at", now)
            result = answer.get(query.key)
            actual = (result.total or ZERO) if result is not None else ZERO
            if carry_shortfall(ctx, goal, interval, actual, unit):
                done.carried += 1
            else:
                done.settled += 1


#: ``run_planning(session, hooks, *, as_of=None, dry_run=False, on_progress=None,
#: config=None)``: one run of :class:`PlanningJob`.
run_planning = PlanningJob.run_on
