"""Tracking: a goal's progress and the team and individual dashboards (SPEC §3 "Tracking and
dashboards", §5).

Every use case here runs in three steps whose cost does not depend on the number of goals,
intervals or members:

1. **load** the goals, intervals and allocations it needs with a fixed number of SQL statements
   (each one filtered by the same conditions as the goals, never one statement per goal);
2. **ask**: build every :class:`~flask_wiseparts_goals.types.ActualsQuery` of the request, then
   call ``goals_collect_actuals`` once per category, and ``goals_business_days`` once per team
   over the widest range its goals need;
3. **compute** the figures with :mod:`flask_wiseparts_goals.domain.figures`.

What an actual is: the goal's metric over ``[start, min(as_of, end)]`` of a period, counting the
members of the goal's team on ``as_of`` clipped into that period (``goals_team_members``), or the
whole organization for a goal without a team, with the goal's filters. A period that has not
started has an actual of 0 without asking anybody.

When no source answers a category (the hook returns ``None``), that category's actuals, and every
figure derived from them, are ``null`` and the response says so (``actuals_available: false``
and ``actuals_note``). When a source raises, the dashboards still answer 200: that category's
figures are ``null`` with ``actuals_error``, the other categories are complete, and the error is
logged with its traceback. A single goal's progress has nothing else to show: it answers 502.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from ..domain.figures import BusinessCalendar, Figures, Thresholds, Timeline, compute_figures
from ..domain.periods import Period
from ..domain.rules import Category, places
from ..exceptions import MetricSourceError
from ..models import Allocation, Goal, Interval
from ..types import ActualsQuery, ActualsResult, AuthTarget, Filters
from .context import Context, goal_target, load_goal
from .goals import category_enabled

logger = logging.getLogger("flask_wiseparts_goals")

ZERO = Decimal(0)

#: Dashboards show categories in this order.
CATEGORY_ORDER = (Category.SALES, Category.ORDERS, Category.ACTIVITIES)


def thresholds(config: Mapping[str, Any]) -> Thresholds:
    """The status thresholds configured for the app (``GOALS_STATUS_*_PERCENT``)."""
    return Thresholds(
        on_track=Decimal(str(config["GOALS_STATUS_ON_TRACK_PERCENT"])),
        at_risk=Decimal(str(config["GOALS_STATUS_AT_RISK_PERCENT"])),
    )


# --------------------------------------------------------------------------------------------
# Asking: business days, members and actuals for a whole request at once
# --------------------------------------------------------------------------------------------


@dataclass
class CategoryActuals:
    """What the metric sources said about one category in this request."""

    category: str
    #: Whether ``goals_collect_actuals`` was called (it is not when nothing needed measuring).
    asked: bool = False
    #: ``None`` when no source answers the category or when the source failed.
    results: dict[str, ActualsResult] | None = field(default_factory=dict)
    error: str | None = None

    @property
    def available(self) -> bool | None:
        """``True``/``False``; ``None`` when nothing had to be measured."""
        if not self.asked:
            return None
        return self.results is not None

    @property
    def note(self) -> str | None:
        if self.asked and self.results is None and self.error is None:
            return f"No metric source answers the {self.category} category."
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "actuals_available": self.available,
            "actuals_note": self.note,
            "actuals_error": self.error,
        }


@dataclass(frozen=True, eq=False)
class Slot:
    """One period of one goal to measure: the whole range or an interval."""

    goal: Goal
    period: Period
    timeline: Timeline
    #: The query's key; ``None`` when the period has not started (nothing to measure).
    key: str | None
    #: The counted users; ``None`` counts the whole organization.
    user_ids: tuple[str, ...] | None
    interval_id: int | None = None

    @cached_property
    def _counted(self) -> frozenset[str] | None:
        return None if self.user_ids is None else frozenset(self.user_ids)

    def counts(self, user_id: str) -> bool:
        return self._counted is None or user_id in self._counted


class Batch:
    """Collects every actuals query of a request, then asks each category's source once."""

    def __init__(self, ctx: Context, as_of: date) -> None:
        self.ctx = ctx
        self.as_of = as_of
        self.thresholds = thresholds(ctx.config)
        self._calendars: dict[str | None, BusinessCalendar] = {}
        self._member_calendars: dict[tuple[str | None, date, date, str], BusinessCalendar] = {}
        self._queries: dict[str, dict[str, ActualsQuery]] = defaultdict(dict)
        self._answers: dict[str, CategoryActuals] = {}

    # -- business days and members ------------------------------------------------------------

    def load_calendars(self, goals: Iterable[Goal]) -> None:
        """One ``goals_business_days`` call per team (and one for goals without a team), over
        the smallest range that covers every goal of that team."""
        ranges: dict[str | None, tuple[date, date]] = {}
        for goal in goals:
            start, end = ranges.get(goal.team_id, (goal.start_date, goal.end_date))
            ranges[goal.team_id] = (min(start, goal.start_date), max(end, goal.end_date))
        for team_id, (start, end) in ranges.items():
            days = self.ctx.hooks.business_days(self.ctx.organization_id, team_id, start, end)
            self._calendars[team_id] = BusinessCalendar(days)

    def members(self, goal: Goal, period: Period) -> tuple[str, ...] | None:
        """The users a period of ``goal`` counts: the team's members on ``as_of`` clipped into
        the period, ``None`` (everybody) for a goal without a team. A team the host does not
        know counts nobody."""
        if goal.team_id is None:
            return None
        on = min(max(self.as_of, period.start), period.end)
        return self.ctx.hooks.team_members(self.ctx.organization_id, goal.team_id, on) or ()

    # -- queries --------------------------------------------------------------------------------

    def ask(self, goal: Goal, period: Period, interval_id: int | None = None) -> Slot:
        """Register the measure of ``period`` of ``goal`` (asked later, with the batch)."""
        timeline = Timeline.of(period, self.as_of, self._calendars[goal.team_id])
        user_ids = self.members(goal, period)
        measured = timeline.measured(period, self.as_of)
        key = None
        if measured is not None:
            # Keyed by bounds: a goal's single interval is its whole range, asked once.
            key = f"{goal.id}:{period.start.isoformat()}:{period.end.isoformat()}"
            self._queries[goal.category].setdefault(
                key,
                ActualsQuery(
                    key=key,
                    metric=goal.metric,
                    start=measured.start,
                    end=measured.end,
                    user_ids=user_ids,
                    team_id=goal.team_id,
                    goal_id=goal.id,
                    interval_id=interval_id,
                    filters=Filters.from_json(goal.filters),
                ),
            )
        return Slot(goal, period, timeline, key, user_ids, interval_id)

    def collect(self) -> None:
        """Call ``goals_collect_actuals`` once per category that has queries."""
        hooks, organization_id = self.ctx.hooks, self.ctx.organization_id
        for category, queries in self._queries.items():
            answer = CategoryActuals(category, asked=True)
            try:
                answer.results = hooks.collect_actuals(
                    organization_id, category, list(queries.values())
                )
            except Exception:
                logger.exception(
                    "goals: the metric source failed for %s in organization %s",
                    category,
                    organization_id,
                )
                answer.results = None
                answer.error = (
                    f"The metric source of the {category} category failed; "
                    "its actuals are not available."
                )
                self._recover_transaction()
            self._answers[category] = answer

    def _recover_transaction(self) -> None:
        """After a failed source, make sure the request's transaction still works.

        Sources share the host's session. One that failed inside SQL leaves a PostgreSQL
        transaction aborted (every later statement is refused until a rollback), which would
        fail the other categories' sources and the figures too. Tracking only reads, so
        rolling that dead transaction back loses nothing; one that still works is left alone.
        (The goals loaded so far are then reloaded on access: more statements, on this
        failure path only.)
        """
        session = self.ctx.session
        try:
            session.execute(sa.select(1))
        except sa.exc.SQLAlchemyError:
            session.rollback()

    def answer(self, category: str) -> CategoryActuals:
        return self._answers.get(category) or CategoryActuals(category)

    # -- actuals --------------------------------------------------------------------------------

    def _result(self, slot: Slot) -> ActualsResult | None:
        results = self.answer(slot.goal.category).results
        if results is None:
            return None
        if slot.key is None:
            return ActualsResult(total=ZERO)
        return results.get(slot.key) or ActualsResult(total=ZERO)

    def actual(self, slot: Slot) -> Decimal | None:
        result = self._result(slot)
        return None if result is None else result.total

    def actual_of(self, slot: Slot, user_id: str) -> Decimal | None:
        """A user's actual within the slot; ``None`` when not measured or not counted."""
        result = self._result(slot)
        if result is None or not slot.counts(user_id):
            return None
        return result.per_user.get(user_id, ZERO)

    def reported_users(self, slot: Slot) -> list[str]:
        """The users the source reported for a slot, largest actual first."""
        result = self._result(slot)
        if result is None:
            return []
        return sorted(result.per_user, key=lambda user: (-result.per_user[user], user))

    # -- figures --------------------------------------------------------------------------------

    def figures(
        self,
        slot: Slot,
        target: Decimal | None,
        actual: Decimal | None,
        *,
        stretch_aim: Decimal | None = None,
        timeline: Timeline | None = None,
    ) -> dict[str, Any]:
        """The JSON-ready figures of a slot, rounded for display (on ``timeline``: a
        member's own business days; default the slot's)."""
        goal = slot.goal
        timeline = timeline or slot.timeline
        figures = compute_figures(
            target, actual, timeline, stretch_aim=stretch_aim, thresholds=self.thresholds
        ).rounded(target_places=goal.places, actual_places=places(goal.metric))
        return {
            "interval_id": slot.interval_id,
            "start_date": slot.period.start,
            "end_date": slot.period.end,
            "business_days": timeline.total,
            "business_days_elapsed": timeline.elapsed,
            "business_days_remaining": timeline.remaining,
            **figures_json(figures),
        }

    def member_timeline(self, slot: Slot, user_id: str) -> Timeline:
        """The slot's timeline on the member's own business days (SPEC §11), when the host
        answers ``goals_business_days`` per member; else the slot's own."""
        hooks = self.ctx.hooks
        if not hooks.member_calendars:
            return slot.timeline
        goal = slot.goal
        key = (goal.team_id, goal.start_date, goal.end_date, user_id)
        calendar = self._member_calendars.get(key)
        if calendar is None:
            days = hooks.business_days(
                self.ctx.organization_id,
                goal.team_id,
                goal.start_date,
                goal.end_date,
                user_id=user_id,
            )
            calendar = self._member_calendars[key] = BusinessCalendar(days)
        return Timeline.of(slot.period, self.as_of, calendar)

    def own_figures(self, slot: Slot, user_id: str, target: Decimal | None) -> dict[str, Any]:
        """A member's figures in the shape of a period's (the individual dashboard)."""
        data = self.figures(
            slot,
            target,
            self.actual_of(slot, user_id),
            timeline=self.member_timeline(slot, user_id),
        )
        data["counted"] = slot.counts(user_id)
        return data

    def member_figures(self, slot: Slot, user_id: str, target: Decimal | None) -> dict[str, Any]:
        goal = slot.goal
        actual = self.actual_of(slot, user_id)
        figures = compute_figures(
            target, actual, self.member_timeline(slot, user_id), thresholds=self.thresholds
        ).rounded(target_places=goal.places, actual_places=places(goal.metric))
        data = figures_json(figures)
        del data["stretch_aim"], data["stretch_achievement_percent"]
        return {"user_id": user_id, "counted": slot.counts(user_id), **data}


def figures_json(figures: Figures) -> dict[str, Any]:
    return {
        "target": figures.target,
        "stretch_aim": figures.stretch_aim,
        "actual": figures.actual,
        "expected": figures.expected,
        "forecast": figures.forecast,
        "achievement_percent": figures.achievement_percent,
        "forecast_percent": figures.forecast_percent,
        "stretch_achievement_percent": figures.stretch_achievement_percent,
        "remaining": figures.remaining,
        "needed_per_business_day": figures.needed_per_business_day,
        "status": None if figures.status is None else figures.status.value,
    }


def goal_summary(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "category": goal.category,
        "description": goal.description,
        "metric": goal.metric,
        "team_id": goal.team_id,
        "start_date": goal.start_date,
        "end_date": goal.end_date,
        "split_into_subperiods": goal.split_into_subperiods,
        "split_by_team_members": goal.split_by_team_members,
        "goal_mode": goal.goal_mode,
    }


def _period(goal: Goal) -> Period:
    return Period(goal.start_date, goal.end_date)


def _interval_period(interval: Interval) -> Period:
    return Period(interval.start_date, interval.end_date)


# --------------------------------------------------------------------------------------------
# Loading: a fixed number of statements
# --------------------------------------------------------------------------------------------


def _enabled_categories(ctx: Context) -> list[Category]:
    return [category for category in CATEGORY_ORDER if category_enabled(ctx, category)]


def _active_conditions(
    ctx: Context, as_of: date, categories: Sequence[Category], team_id: str | None = None
) -> list[sa.ColumnElement[bool]]:
    """The goals a dashboard shows: this organization's, not deleted, active on ``as_of``, of an
    enabled category (and of the team, when one is asked for)."""
    conditions = [
        Goal.organization_id == ctx.organization_id,
        Goal.deleted_at.is_(None),
        Goal.start_date <= as_of,
        Goal.end_date >= as_of,
        Goal.category.in_([category.value for category in categories]),
    ]
    if team_id is not None:
        conditions.append(Goal.team_id == team_id)
    return conditions


def _visible_goals(ctx: Context, conditions: Sequence[sa.ColumnElement[bool]]) -> list[Goal]:
    """One statement; the rows ``goals_authorize`` does not let the caller read are dropped."""
    goals = ctx.session.scalars(
        sa.select(Goal).where(*conditions).order_by(Goal.start_date, Goal.id)
    ).all()
    return [goal for goal in goals if ctx.allowed("read", goal_target(goal))]


def _current_intervals(
    ctx: Context, conditions: Sequence[sa.ColumnElement[bool]], as_of: date
) -> dict[int, Interval]:
    """The interval containing ``as_of`` of every goal matching ``conditions``: one statement."""
    intervals = ctx.session.scalars(
        sa.select(Interval)
        .join(Goal, Interval.goal_id == Goal.id)
        .where(*conditions, Interval.start_date <= as_of, Interval.end_date >= as_of)
    ).all()
    return {interval.goal_id: interval for interval in intervals}


def _group_by_category(
    batch: Batch, categories: Sequence[Category], entries: Sequence[tuple[Goal, dict[str, Any]]]
) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = {category.value: [] for category in categories}
    for goal, entry in entries:
        grouped[goal.category].append(entry)
    return [
        {**batch.answer(category).as_json(), "goals": goals} for category, goals in grouped.items()
    ]


def _ask_period_and_current(
    batch: Batch, goals: Sequence[Goal], current: Mapping[int, Interval]
) -> list[tuple[Goal, Slot, Slot | None]]:
    """Measure each goal's whole range and current interval, asking every source once."""
    batch.load_calendars(goals)
    slots: list[tuple[Goal, Slot, Slot | None]] = []
    for goal in goals:
        interval = current.get(goal.id)
        whole = batch.ask(goal, _period(goal))
        slot = None
        if interval is not None:
            slot = batch.ask(goal, _interval_period(interval), interval.id)
        slots.append((goal, whole, slot))
    batch.collect()
    return slots


# --------------------------------------------------------------------------------------------
# Use cases
# --------------------------------------------------------------------------------------------


def team_widget(ctx: Context, *, as_of: date, team_id: str | None = None) -> dict[str, Any]:
    """The team dashboard: the goals of ``team_id`` (every goal the caller may read when
    ``None``) active on ``as_of``, grouped by category, with the figures of each goal's whole
    period and of its current interval.

    Statements: 2 (goals, current intervals). Hooks: business days once per team, actuals once
    per category.
    """
    if team_id is not None:
        ctx.require(
            "read", AuthTarget(kind="team", organization_id=ctx.organization_id, team_id=team_id)
        )
    categories = _enabled_categories(ctx)
    conditions = _active_conditions(ctx, as_of, categories, team_id)
    goals = _visible_goals(ctx, conditions)
    current = _current_intervals(ctx, conditions, as_of) if goals else {}

    batch = Batch(ctx, as_of)
    slots = _ask_period_and_current(batch, goals, current)

    entries = []
    for goal, whole, slot in slots:
        entry = {
            "goal": goal_summary(goal),
            "period": batch.figures(
                whole, goal.aim, batch.actual(whole), stretch_aim=goal.stretch_aim
            ),
            "current_interval": None,
        }
        if slot is not None:
            interval = current[goal.id]
            entry["current_interval"] = batch.figures(slot, interval.aim, batch.actual(slot))
        entries.append((goal, entry))
    return {
        "as_of": as_of,
        "team_id": team_id,
        "categories": _group_by_category(batch, categories, entries),
    }


def my_widget(ctx: Context, *, as_of: date) -> dict[str, Any]:
    """The caller's own dashboard: the goals active on ``as_of`` in which the caller is counted
    (a member of the goal's team on ``as_of``, any member of the organization for a goal without
    a team) or holds an allocation, with the caller's own target, actual, forecast (the
    projected end-of-period result) and achievement, for the whole period and the current
    interval.

    The own target is the caller's allocation (summed over the intervals for the whole period)
    when the goal is split by members, else ``null``: the goal's target is the team's.

    Statements: 3 (goals, current intervals, the caller's allocations).
    """
    me = ctx.identity.user_id
    ctx.require("read", AuthTarget(kind="organization", organization_id=ctx.organization_id))
    categories = _enabled_categories(ctx)
    conditions = _active_conditions(ctx, as_of, categories)
    goals = _visible_goals(ctx, conditions)
    current: dict[int, Interval] = {}
    mine: dict[int, dict[int, Allocation]] = defaultdict(dict)
    if goals:
        current = _current_intervals(ctx, conditions, as_of)
        allocations = ctx.session.scalars(
            sa.select(Allocation)
            .join(Goal, Allocation.goal_id == Goal.id)
            .where(*conditions, Allocation.user_id == me)
        ).all()
        for allocation in allocations:
            mine[allocation.goal_id][allocation.interval_id] = allocation

    batch = Batch(ctx, as_of)
    counted = [goal for goal in goals if goal.id in mine or _counts_me(batch, goal, me)]
    slots = _ask_period_and_current(batch, counted, current)

    entries = []
    for goal, whole, slot in slots:
        own = mine.get(goal.id, {}) if goal.split_by_team_members else {}
        period_target = None
        if own:
            period_target = sum((allocation.target for allocation in own.values()), ZERO)
        entry = {
            "goal": goal_summary(goal),
            "period": batch.own_figures(whole, me, period_target),
            "current_interval": None,
        }
        if slot is not None:
            held = own.get(current[goal.id].id)
            target = None if held is None else held.target
            entry["current_interval"] = batch.own_figures(slot, me, target)
        entries.append((goal, entry))
    return {
        "as_of": as_of,
        "user_id": me,
        "categories": _group_by_category(batch, categories, entries),
    }


def _counts_me(batch: Batch, goal: Goal, me: str) -> bool:
    """Whether the caller is counted in the goal's whole period (everybody is, without a team)."""
    members = batch.members(goal, _period(goal))
    return members is None or me in members


def goal_progress(ctx: Context, goal_id: int, *, as_of: date) -> dict[str, Any]:
    """One goal's figures for its whole period and each interval, and per member.

    Members: for a goal split by members, each allocation holder (team order) with the
    allocation as target (summed over the intervals for the whole period), then the counted
    members without an allocation; for a team goal not split by members, the counted members
    (no target); for a goal without a team, the users the metric source reported, largest
    actual first. A member who holds an allocation but is not counted (no longer in the team)
    is listed with ``counted: false`` and no actual.

    Statements: 3 (goal, intervals, allocations). A failing metric source is a 502.
    """
    goal = load_goal(ctx, goal_id)
    intervals = ctx.session.scalars(
        sa.select(Interval).where(Interval.goal_id == goal.id).order_by(Interval.start_date)
    ).all()
    allocations: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in ctx.session.scalars(
        sa.select(Allocation)
        .where(Allocation.goal_id == goal.id)
        .order_by(Allocation.interval_id, Allocation.position, Allocation.id)
    ):
        allocations[allocation.interval_id].append(allocation)

    batch = Batch(ctx, as_of)
    batch.load_calendars([goal])
    whole = batch.ask(goal, _period(goal))
    slots = [
        (interval, batch.ask(goal, _interval_period(interval), interval.id))
        for interval in intervals
    ]
    batch.collect()
    answer = batch.answer(goal.category)
    if answer.error is not None:
        raise MetricSourceError(answer.error)

    # The whole period's member targets: every interval's allocations summed per member.
    totals: dict[str, Decimal] = {}
    for interval in intervals:
        for allocation in allocations[interval.id]:
            totals[allocation.user_id] = totals.get(allocation.user_id, ZERO) + allocation.target

    period = batch.figures(whole, goal.aim, batch.actual(whole), stretch_aim=goal.stretch_aim)
    period["members"] = _members(batch, whole, totals)
    rows = []
    for interval, slot in slots:
        row = batch.figures(slot, interval.aim, batch.actual(slot))
        targets = {a.user_id: a.target for a in allocations[interval.id]}
        row["members"] = _members(batch, slot, targets)
        rows.append(row)
    return {
        "as_of": as_of,
        "goal": goal_summary(goal),
        **{k: v for k, v in answer.as_json().items() if k != "category"},
        "period": period,
        "intervals": rows,
    }


def _members(batch: Batch, slot: Slot, targets: Mapping[str, Decimal]) -> list[dict[str, Any]]:
    """Member rows of one slot: allocation holders, then counted members without one."""
    goal = slot.goal
    if slot.user_ids is None:
        users = list(dict.fromkeys([*targets, *batch.reported_users(slot)]))
    else:
        users = list(dict.fromkeys([*targets, *slot.user_ids]))
    split = goal.split_by_team_members
    return [
        batch.member_figures(slot, user, targets.get(user) if split else None) for user in users
    ]
