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

What an actual is (SPEC §7, docs/tracking.md "Who is counted"): an interval's actual is the
goal's metric over ``[start, min(as_of, end)]`` with the goal's filters, counting each member of
the goal's team for the days they belonged to it (``goals_team_memberships``; without that hook,
the members ``goals_team_members`` gives on the interval's measured day, for that interval), or
the whole organization for a goal without a team. Members with the same span share one query.
A goal's whole-range actual is the sum of its intervals' actuals, per member and in total. An
interval that has not started has an actual of 0 without asking anybody.

When no source answers a category (the hook returns ``None``), that category's actuals, and every
figure derived from them, are ``null`` and the response says so (``actuals_available: false``
and ``actuals_note``). When a source raises, the dashboards still answer 200: that category's
figures are ``null`` with ``actuals_error``, the other categories are complete, and the error is
logged with its traceback. A single goal's progress has nothing else to show: it answers 502.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple, TypeVarTuple

import sqlalchemy as sa

from ..domain.figures import (
    BusinessCalendar,
    Thresholds,
    Timeline,
    display_figures,
)
from ..domain.memberships import counted_spans, members_within
from ..domain.periods import Period
from ..domain.rules import Category, places
from ..exceptions import MetricSourceError
from ..models import Allocation, Goal, Interval
from ..types import ActualsQuery, ActualsResult, AuthTarget, Filters, Membership
from .actuals import FAILED, NO_SOURCE, TIMEOUT, ask_sources, timeout_seconds
from .context import Context, goal_target, load_goal
from .goals import category_enabled

logger = logging.getLogger("flask_wiseparts_goals")

_Row = TypeVarTuple("_Row")

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
    #: ``None`` when no source answers the category, or it failed or timed out.
    results: dict[str, ActualsResult] | None = field(default_factory=dict)
    error: str | None = None
    #: Why there are no results: ``no_source``, ``failed`` or ``timeout`` (services.actuals).
    reason: str | None = None

    @property
    def available(self) -> bool | None:
        """``True``/``False``; ``None`` when nothing had to be measured."""
        if not self.asked:
            return None
        return self.results is not None

    @property
    def failed(self) -> bool:
        """The source raised (a single goal's progress answers 502 then)."""
        return self.reason == FAILED

    @property
    def note(self) -> str | None:
        if self.asked and self.reason == NO_SOURCE:
            return f"No metric source answers the {self.category} category."
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "actuals_available": self.available,
            "actuals_reason": self.reason if self.asked else None,
            "actuals_note": self.note,
            "actuals_error": self.error,
        }


@dataclass(frozen=True, eq=False)
class Part:
    """One query of a slot: the users counted over one span of days."""

    key: str
    #: ``None`` counts the whole organization.
    user_ids: tuple[str, ...] | None

    @cached_property
    def counted(self) -> frozenset[str] | None:
        return None if self.user_ids is None else frozenset(self.user_ids)

    def counts(self, user_id: str) -> bool:
        return self.counted is None or user_id in self.counted


@dataclass(frozen=True, eq=False)
class Slot:
    """One period of one goal to measure: an interval, or the whole range (the sum of its
    intervals, :attr:`children`)."""

    goal: Goal
    period: Period
    timeline: Timeline
    #: The queries measuring an interval, one per distinct span of membership; none before the
    #: interval starts (its actual is 0 without asking) and none for a whole range.
    parts: tuple[Part, ...]
    #: The counted users in team order; ``None`` counts the whole organization.
    user_ids: tuple[str, ...] | None
    interval_id: int | None = None
    #: For a whole range: the interval slots it sums.
    children: tuple[Slot, ...] = ()

    @cached_property
    def counted_users(self) -> frozenset[str] | None:
        """:attr:`user_ids` as a set (``None``: everybody)."""
        return None if self.user_ids is None else frozenset(self.user_ids)

    def counts(self, user_id: str) -> bool:
        counted = self.counted_users
        return counted is None or user_id in counted

    def measured_parts(self) -> tuple[Part, ...]:
        if not self.children:
            return self.parts
        return tuple(part for child in self.children for part in child.parts)


class Batch:
    """Collects every actuals query of a request, then asks each category's source once."""

    def __init__(self, ctx: Context, as_of: date, *, group_by: str | None = None) -> None:
        self.ctx = ctx
        self.as_of = as_of
        #: A breakdown dimension every query of this batch asks ``groups`` for.
        self.group_by = group_by
        self.thresholds = thresholds(ctx.config)
        self._calendars: dict[str | None, BusinessCalendar] = {}
        self._ranges: dict[str | None, tuple[date, date]] = {}
        self._member_calendars: dict[tuple[str | None, date, date, str], BusinessCalendar] = {}
        self._queries: dict[str, dict[str, ActualsQuery]] = defaultdict(dict)
        self._answers: dict[str, CategoryActuals] = {}
        # Per-request lookups, computed once: a slot's answers and error, its actual per user,
        # a goal's display places and filters.
        self._resolved: dict[Slot, tuple[list[tuple[Part, ActualsResult]] | None, str | None]] = {}
        self._per_user: dict[Slot, dict[str, Decimal]] = {}
        self._places: dict[int, tuple[int, int]] = {}
        self._filters: dict[int, Filters] = {}
        self._members: dict[tuple[str, date, date], tuple[str, ...]] = {}
        self._memberships: dict[str, tuple[Membership, ...] | None] = {}
        self._periods: dict[tuple[date, date], Period] = {}
        self._counts: dict[tuple[str, date, date, str], bool] = {}
        self._timelines: dict[tuple[str | None, date, date], tuple[Timeline, Period | None]] = {}
        self._counted_spans: dict[
            tuple[str, date, date], list[tuple[Period, tuple[str, ...] | None]]
        ] = {}

    # -- business days and members ------------------------------------------------------------

    def load_calendars(self, goals: Iterable[Goal]) -> None:
        """Note the smallest range that covers every goal of each team (and of the goals
        without a team): ``goals_business_days`` and ``goals_team_memberships`` are asked once
        per team over it, when a goal of the team is first measured."""
        ranges = self._ranges
        for goal in goals:
            start, end = ranges.get(goal.team_id, (goal.start_date, goal.end_date))
            ranges[goal.team_id] = (min(start, goal.start_date), max(end, goal.end_date))

    def load_ranges(self, ranges: Iterable[tuple[str | None, date, date]]) -> None:
        """:meth:`load_calendars` from ``(team_id, start, end)`` of each goal."""
        known = self._ranges
        for team_id, first, last in ranges:
            start, end = known.get(team_id, (first, last))
            known[team_id] = (min(start, first), max(end, last))

    def calendar(self, team_id: str | None) -> BusinessCalendar:
        if team_id not in self._calendars:
            start, end = self._ranges[team_id]
            days = self.ctx.hooks.business_days(self.ctx.organization_id, team_id, start, end)
            self._calendars[team_id] = BusinessCalendar(days)
        return self._calendars[team_id]

    def memberships(self, team_id: str) -> tuple[Membership, ...] | None:
        """The team's memberships over the request's range (one hook call per team), or
        ``None`` when no plugin answers ``goals_team_memberships``."""
        known = self._memberships
        if team_id not in known:
            start, end = self._ranges[team_id]
            known[team_id] = self.ctx.hooks.team_memberships(
                self.ctx.organization_id, team_id, start, end
            )
        return known[team_id]

    def counts_member(self, team_id: str, start: date, end: date, user_id: str) -> bool:
        """Whether an interval ``[start, end]`` of a goal of ``team_id`` counts ``user_id``
        (once per team and interval dates)."""
        key = (team_id, start, end, user_id)
        found = self._counts.get(key)
        if found is None:
            found = self._counts[key] = user_id in self.team_members(team_id, Period(start, end))
        return found

    def team_members(self, team_id: str, period: Period) -> tuple[str, ...]:
        """The users an interval ``period`` of a goal of ``team_id`` counts, in team order
        (once per team and period; a goal without a team counts everybody). With
        memberships: whoever belonged to the team on any day from the interval's start to its
        measured day (``as_of`` clipped into it); without: the members on the measured day. A
        team the host does not know counts nobody."""
        on = min(max(self.as_of, period.start), period.end)
        key = (team_id, period.start, on)
        found = self._members.get(key)
        if found is None:
            memberships = self.memberships(team_id)
            if memberships is not None:
                found = members_within(memberships, Period(period.start, on))
            else:
                found = self.ctx.hooks.team_members(self.ctx.organization_id, team_id, on) or ()
            self._members[key] = found
        return found

    # -- queries --------------------------------------------------------------------------------

    def ask_intervals(
        self, goal: Goal, intervals: Iterable[Interval | StartedInterval]
    ) -> list[Slot]:
        """Register the measure of each of ``goal``'s ``intervals`` (asked later, with the
        batch): one slot per interval, in order. What the goal's intervals share (its team,
        metric, filters) is read once."""
        team_id, goal_id, category = goal.team_id, goal.id, goal.category
        slots = []
        for interval in intervals:
            period = self._period(interval.start_date, interval.end_date)
            timeline, measured = self._timeline(team_id, period)
            user_ids = None if team_id is None else self.team_members(team_id, period)
            parts: list[Part] = []
            if measured is not None:
                for span, users in self._spans(team_id, measured, user_ids):
                    # Keyed by the span: spans of one goal's intervals never coincide.
                    key = f"{goal_id}:{span.start.isoformat()}:{span.end.isoformat()}"
                    parts.append(Part(key, users))
                    queries = self._queries[category]
                    if key not in queries:
                        queries[key] = ActualsQuery(
                            key=key,
                            metric=goal.metric,
                            start=span.start,
                            end=span.end,
                            user_ids=users,
                            team_id=team_id,
                            goal_id=goal_id,
                            interval_id=interval.id,
                            filters=self._goal_filters(goal),
                            group_by=self.group_by,
                        )
            slots.append(Slot(goal, period, timeline, tuple(parts), user_ids, interval.id))
        return slots

    def _period(self, start: date, end: date) -> Period:
        """``Period(start, end)``, once per request: goals share their months."""
        key = (start, end)
        period = self._periods.get(key)
        if period is None:
            period = self._periods[key] = Period(start, end)
        return period

    def _timeline(self, team_id: str | None, period: Period) -> tuple[Timeline, Period | None]:
        """``Timeline.of`` the period on the team's calendar and the range it measures
        (``Timeline.measured``), once per team and period."""
        key = (team_id, period.start, period.end)
        found = self._timelines.get(key)
        if found is None:
            timeline = Timeline.of(period, self.as_of, self.calendar(team_id))
            found = self._timelines[key] = (timeline, timeline.measured(period, self.as_of))
        return found

    def _spans(
        self, team_id: str | None, measured: Period, user_ids: tuple[str, ...] | None
    ) -> list[tuple[Period, tuple[str, ...] | None]]:
        """Who is counted when within ``measured``: with memberships, each span of them (once
        per team and measured range); without, everyone counted over the whole range."""
        memberships = None if team_id is None else self.memberships(team_id)
        if memberships is None:
            return [(measured, user_ids)]
        assert team_id is not None
        key = (team_id, measured.start, measured.end)
        spans = self._counted_spans.get(key)
        if spans is None:
            spans = self._counted_spans[key] = list(counted_spans(memberships, measured))
        return spans

    def _goal_filters(self, goal: Goal) -> Filters:
        filters = self._filters.get(goal.id)
        if filters is None:
            filters = self._filters[goal.id] = Filters.from_json(goal.filters)
        return filters

    def ask_shifted(
        self, slot: Slot, shift: Callable[[date, date], tuple[date, date]], tag: str
    ) -> Slot:
        """The same queries as ``slot`` (same users, same spans) on other days: each span
        ``(start, end)`` mapped by ``shift`` (e.g. one year earlier). For a whole range, its
        intervals'."""
        if slot.children:
            children = tuple(self.ask_shifted(child, shift, tag) for child in slot.children)
            return replace(slot, children=children)
        queries = self._queries[slot.goal.category]
        parts = []
        for part in slot.parts:
            original = queries[part.key]
            key = f"{part.key}:{tag}"
            start, end = shift(original.start, original.end)
            queries.setdefault(key, replace(original, key=key, start=start, end=end))
            parts.append(Part(key, part.user_ids))
        return replace(slot, parts=tuple(parts))

    def ask_period(self, goal: Goal, intervals: Sequence[Slot]) -> Slot:
        """The whole range of ``goal``: the sum of its intervals (asks nothing more). Its
        counted users are everyone counted in any of them."""
        period = _period(goal)
        timeline = Timeline.of(period, self.as_of, self.calendar(goal.team_id))
        user_ids: tuple[str, ...] | None = None
        if goal.team_id is not None:
            first = intervals[0].user_ids if intervals else None
            if all(slot.user_ids == first for slot in intervals):
                # The usual case (the same members all along): one pass over one of them.
                user_ids = tuple(dict.fromkeys(first or ()))
            else:
                user_ids = tuple(
                    dict.fromkeys(user for slot in intervals for user in slot.user_ids or ())
                )
        return Slot(goal, period, timeline, (), user_ids, None, tuple(intervals))

    def collect(self) -> None:
        """Call ``goals_collect_actuals`` once per category that has queries: every category
        at once, none waited for longer than ``GOALS_ACTUALS_TIMEOUT_SECONDS``
        (:func:`.actuals.ask_sources`)."""
        asked = ask_sources(
            self.ctx,
            {category: list(queries.values()) for category, queries in self._queries.items()},
            recover=self._recover_transaction,
        )
        for category, outcome in asked.items():
            answer = CategoryActuals(category, asked=True, reason=outcome.reason)
            answer.results = outcome.results
            if outcome.reason == FAILED:
                answer.error = (
                    f"The metric source of the {category} category failed; "
                    "its actuals are not available."
                )
            elif outcome.reason == TIMEOUT:
                seconds = timeout_seconds(self.ctx.config)
                answer.error = (
                    f"The metric source of the {category} category did not answer within "
                    f"{seconds:g} s; its actuals are not available. Try again later."
                )
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

    def _resolve(self, slot: Slot) -> tuple[list[tuple[Part, ActualsResult]] | None, str | None]:
        """Each part's answer (a part not answered counts 0; ``None`` when the category has no
        answer) and the first error among them; computed once per slot."""
        resolved = self._resolved.get(slot)
        if resolved is None:
            answered = self.answer(slot.goal.category).results
            results = None
            error = None
            if answered is not None:
                results = [
                    (part, answered.get(part.key) or ActualsResult(total=ZERO))
                    for part in slot.measured_parts()
                ]
                error = next((r.error for _, r in results if r.error is not None), None)
            resolved = self._resolved[slot] = (results, error)
        return resolved

    def _results(self, slot: Slot) -> list[tuple[Part, ActualsResult]] | None:
        return self._resolve(slot)[0]

    def error_of(self, slot: Slot) -> str | None:
        """Why the source could not answer this slot's queries (``ActualsResult.error``)."""
        return self._resolve(slot)[1]

    def actual(self, slot: Slot) -> Decimal | None:
        """The slot's actual: the sum over its queries (for a whole range, its intervals')."""
        results, error = self._resolve(slot)
        if results is None or error is not None:
            return None
        return sum((result.total or ZERO for _, result in results), ZERO)

    def actual_of(self, slot: Slot, user_id: str) -> Decimal | None:
        """A user's actual within the slot, over the days they were counted; ``None`` when not
        measured or not counted."""
        per_user = self._actuals_per_user(slot)
        if per_user is None or not slot.counts(user_id):
            return None
        return per_user.get(user_id, ZERO)

    def _actuals_per_user(self, slot: Slot) -> dict[str, Decimal] | None:
        """Every user's actual within the slot (a user absent from it counts 0), summed over
        the parts counting them in one walk of the answers, once per slot; ``None`` when not
        measured."""
        results, error = self._resolve(slot)
        if results is None or error is not None:
            return None
        per_user = self._per_user.get(slot)
        if per_user is None:
            per_user = self._per_user[slot] = {}
            for part, result in results:
                for user, value in result.per_user.items():
                    if part.counts(user):
                        per_user[user] = per_user.get(user, ZERO) + value
        return per_user

    def groups(self, slot: Slot) -> dict[str, Decimal] | None:
        """The slot's actual per value of the batch's ``group_by`` dimension (summed over its
        queries); ``None`` when not measured, or when the source answered without groups."""
        results = self._results(slot)
        if results is None or self.error_of(slot) is not None:
            return None
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for _, result in results:
            if result.groups is None:
                return None
            for group, value in result.groups.items():
                totals[group] += value
        return dict(totals)

    def reported_users(self, slot: Slot) -> list[str]:
        """The users the source reported for a slot, largest actual first."""
        results = self._results(slot)
        if results is None or self.error_of(slot) is not None:
            return []
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for _, result in results:
            for user, value in result.per_user.items():
                totals[user] += value
        return sorted(totals, key=lambda user: (-totals[user], user))

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
        timeline = timeline or slot.timeline
        target_places, actual_places = self.places(slot.goal)
        return {
            "interval_id": slot.interval_id,
            "start_date": slot.period.start,
            "end_date": slot.period.end,
            "business_days": timeline.total,
            "business_days_elapsed": timeline.elapsed,
            "business_days_remaining": timeline.remaining,
            **display_figures(
                target,
                actual,
                timeline,
                self.thresholds,
                target_places=target_places,
                actual_places=actual_places,
                stretch_aim=stretch_aim,
            ),
            "actuals_error": self.error_of(slot),
        }

    def places(self, goal: Goal) -> tuple[int, int]:
        """The goal's places (target, remaining) and its metric's (actual)."""
        found = self._places.get(goal.id)
        if found is None:
            found = self._places[goal.id] = (goal.places, places(goal.metric))
        return found

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

    def member_rows(
        self, slot: Slot, users: Iterable[str], targets: Mapping[str, Decimal]
    ) -> list[dict[str, Any]]:
        """The figures of each of ``users`` within the slot (``counted``, their actual over
        the days they were counted, their target when the goal is split by members), as
        :meth:`own_figures` computes them without the period's fields.

        Progress computes thousands of these rows per request, so what every row of the slot
        shares (places, answers, timeline, thresholds) is looked up once, and members with
        the same target and actual on the same timeline share one computation (the figures
        are a function of those values alone, rounded to fixed places: equal values give the
        same figures): every member of an interval that has not started (actual 0) under an
        equal split, for instance."""
        goal = slot.goal
        target_places, actual_places = self.places(goal)
        thresholds = self.thresholds
        split = goal.split_by_team_members
        per_user = self._actuals_per_user(slot)
        counted = slot.counted_users
        member_timelines = self.ctx.hooks.member_calendars
        timeline = slot.timeline
        computed: dict[tuple[Any, ...], dict[str, Any]] = {}
        rows = []
        for user in users:
            counts = counted is None or user in counted
            actual = None
            if per_user is not None and counts:
                actual = per_user.get(user, ZERO)
            target = targets.get(user) if split else None
            if member_timelines:
                timeline = self.member_timeline(slot, user)
                key: tuple[Any, ...] = (target, actual, timeline)
            else:
                key = (target, actual)
            figures = computed.get(key)
            if figures is None:
                figures = computed[key] = display_figures(
                    target,
                    actual,
                    timeline,
                    thresholds,
                    target_places=target_places,
                    actual_places=actual_places,
                    stretch=False,
                )
            rows.append({"user_id": user, "counted": counts, **figures})
        return rows


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


class StartedInterval(NamedTuple):
    """What the dashboards read of an interval (a plain row: no ORM object per interval)."""

    id: int
    goal_id: int
    start_date: date
    end_date: date
    #: ``None`` where it is not read: ``/widgets/me`` shows the caller's own targets.
    aim: Decimal | None


# --------------------------------------------------------------------------------------------
# Loading: a fixed number of statements
# --------------------------------------------------------------------------------------------


def _rows(ctx: Context, statement: sa.Select[*_Row]) -> sa.CursorResult[*_Row]:
    """The plain rows of a column select, executed on the session's connection (in its
    transaction): the ORM's result processing costs more than the rows themselves for the
    thousands of interval and allocation rows a dashboard or a progress reads. For reads
    only (no autoflush)."""
    return ctx.session.connection().execute(statement)


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


def _started_intervals(
    ctx: Context, conditions: Sequence[sa.ColumnElement[bool]], as_of: date
) -> dict[int, list[StartedInterval]]:
    """The intervals started by ``as_of`` of every goal matching ``conditions``, in order:
    one statement. A whole range's actual is the sum of these; the last is the current one."""
    intervals: dict[int, list[StartedInterval]] = defaultdict(list)
    for row in _rows(
        ctx,
        sa.select(
            Interval.id, Interval.goal_id, Interval.start_date, Interval.end_date, Interval.aim
        )
        .join(Goal, Interval.goal_id == Goal.id)
        .where(*conditions, Interval.start_date <= as_of)
        .order_by(Interval.goal_id, Interval.start_date),
    ):
        interval = StartedInterval(*row)
        intervals[interval.goal_id].append(interval)
    return intervals


def _current(intervals: Sequence[StartedInterval], as_of: date) -> StartedInterval | None:
    return next((i for i in intervals if i.start_date <= as_of <= i.end_date), None)


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
    batch: Batch, goals: Sequence[Goal], started: Mapping[int, Sequence[StartedInterval]]
) -> list[tuple[Goal, Slot, Slot | None, StartedInterval | None]]:
    """Measure each goal's whole range (the sum of its started intervals) and its current
    interval, asking every source once."""
    slots: list[tuple[Goal, Slot, Slot | None, StartedInterval | None]] = []
    for goal in goals:
        intervals = started.get(goal.id, ())
        current = _current(intervals, batch.as_of)
        asked = batch.ask_intervals(goal, intervals)
        slot = next((s for s, i in zip(asked, intervals, strict=True) if i is current), None)
        slots.append((goal, batch.ask_period(goal, asked), slot, current))
    batch.collect()
    return slots


# --------------------------------------------------------------------------------------------
# Use cases
# --------------------------------------------------------------------------------------------


def team_widget(ctx: Context, *, as_of: date, team_id: str | None = None) -> dict[str, Any]:
    """The team dashboard: the goals of ``team_id`` (every goal the caller may read when
    ``None``) active on ``as_of``, grouped by category, with the figures of each goal's whole
    period and of its current interval.

    Statements: 2 (goals, started intervals). Hooks: business days and memberships once per
    team, actuals once per category.
    """
    if team_id is not None:
        ctx.require(
            "read", AuthTarget(kind="team", organization_id=ctx.organization_id, team_id=team_id)
        )
    categories = _enabled_categories(ctx)
    conditions = _active_conditions(ctx, as_of, categories, team_id)
    goals = _visible_goals(ctx, conditions)
    started = _started_intervals(ctx, conditions, as_of) if goals else {}

    batch = Batch(ctx, as_of)
    batch.load_calendars(goals)
    slots = _ask_period_and_current(batch, goals, started)

    entries = []
    for goal, whole, slot, interval in slots:
        entry = {
            "goal": goal_summary(goal),
            "period": batch.figures(
                whole, goal.aim, batch.actual(whole), stretch_aim=goal.stretch_aim
            ),
            "current_interval": None,
        }
        if slot is not None and interval is not None:
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

    Statements: 3 (the organization's active goals with their started intervals as plain
    rows, the caller's allocations, then the goals counting the caller), and the cost follows
    the caller's goals: the others are read as rows only, never authorized, loaded or
    measured (``goals_authorize`` is asked about the candidates only).
    """
    me = ctx.identity.user_id
    ctx.require("read", AuthTarget(kind="organization", organization_id=ctx.organization_id))
    categories = _enabled_categories(ctx)
    conditions = _active_conditions(ctx, as_of, categories)
    # The organization's active goals as plain rows with their started intervals (one
    # statement). Only the candidates (the goals counting the caller or holding their
    # allocation) are then authorized and loaded whole: the cost follows the caller's goals.
    rows = _rows(
        ctx,
        sa.select(
            Goal.id,
            Goal.organization_id,
            Goal.team_id,
            Goal.created_by,
            Goal.category,
            Goal.start_date,
            Goal.end_date,
            Interval.id,
            Interval.start_date,
            Interval.end_date,
        )
        .outerjoin(Interval, sa.and_(Interval.goal_id == Goal.id, Interval.start_date <= as_of))
        .where(*conditions)
        .order_by(Goal.start_date, Goal.id, Interval.start_date),
    ).all()
    light: dict[int, tuple[Any, ...]] = {}
    started: dict[int, list[StartedInterval]] = {}
    for row in rows:
        goal_id = row[0]
        if goal_id not in light:
            light[goal_id] = row
            started[goal_id] = []
        if row[7] is not None:
            started[goal_id].append(StartedInterval(row[7], goal_id, row[8], row[9], None))
    mine: dict[int, dict[int, Allocation]] = defaultdict(dict)
    if light:
        allocations = ctx.session.scalars(
            sa.select(Allocation)
            .join(Goal, Allocation.goal_id == Goal.id)
            .where(*conditions, Allocation.user_id == me)
        ).all()
        for allocation in allocations:
            mine[allocation.goal_id][allocation.interval_id] = allocation

    batch = Batch(ctx, as_of)
    batch.load_ranges((row[2], row[5], row[6]) for row in light.values())
    counted_ids = [
        row[0]
        for row in light.values()
        if (row[0] in mine or _counts_me(batch, row[2], started[row[0]], me))
        and ctx.allowed(
            "read",
            AuthTarget(
                kind="goal",
                organization_id=row[1],
                team_id=row[2],
                goal_id=row[0],
                created_by=row[3],
                category=row[4],
            ),
        )
    ]
    counted: list[Goal] = []
    if counted_ids:
        counted = list(
            ctx.session.scalars(
                sa.select(Goal).where(Goal.id.in_(counted_ids)).order_by(Goal.start_date, Goal.id)
            )
        )
    slots = _ask_period_and_current(batch, counted, started)

    entries = []
    for goal, whole, slot, interval in slots:
        own = mine.get(goal.id, {}) if goal.split_by_team_members else {}
        period_target = None
        if own:
            period_target = sum((allocation.target for allocation in own.values()), ZERO)
        entry = {
            "goal": goal_summary(goal),
            "period": batch.own_figures(whole, me, period_target),
            "current_interval": None,
        }
        if slot is not None and interval is not None:
            held = own.get(interval.id)
            target = None if held is None else held.target
            entry["current_interval"] = batch.own_figures(slot, me, target)
        entries.append((goal, entry))
    return {
        "as_of": as_of,
        "user_id": me,
        "categories": _group_by_category(batch, categories, entries),
    }


def _counts_me(
    batch: Batch, team_id: str | None, intervals: Sequence[StartedInterval], me: str
) -> bool:
    """Whether the caller is counted in any started interval of a goal of ``team_id``
    (everybody is, without a team)."""
    return team_id is None or any(
        batch.counts_member(team_id, interval.start_date, interval.end_date, me)
        for interval in intervals
    )


def goal_progress(
    ctx: Context, goal_id: int, *, as_of: date, members: slice | None = None
) -> dict[str, Any]:
    """One goal's figures for its whole period and each interval, and per member.

    :param members: the positions of the member rows to answer in every list (the period's
        and each interval's), e.g. ``slice(500, 1000)`` for the second page of 500; ``None``:
        every member. Only those rows are computed. The answer's ``member_count`` is the length
        of the longest list, for the pagination.

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
    # Plain rows: progress reads thousands of allocations and changes none.
    allocations: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for interval_id, user_id, target in _rows(
        ctx,
        sa.select(Allocation.interval_id, Allocation.user_id, Allocation.target)
        .where(Allocation.goal_id == goal.id)
        .order_by(Allocation.interval_id, Allocation.position, Allocation.id),
    ):
        allocations[interval_id].append((user_id, target))

    batch = Batch(ctx, as_of)
    batch.load_calendars([goal])
    slots = list(zip(intervals, batch.ask_intervals(goal, intervals), strict=True))
    whole = batch.ask_period(goal, [slot for _, slot in slots])
    batch.collect()
    answer = batch.answer(goal.category)
    if answer.failed:
        raise MetricSourceError(answer.error)

    # The whole period's member targets: every interval's allocations summed per member.
    totals: dict[str, Decimal] = {}
    for interval in intervals:
        for user_id, target in allocations[interval.id]:
            totals[user_id] = totals.get(user_id, ZERO) + target

    period = batch.figures(whole, goal.aim, batch.actual(whole), stretch_aim=goal.stretch_aim)
    period["members"], member_count = _members(batch, whole, totals, members)
    rows = []
    for interval, slot in slots:
        row = batch.figures(slot, interval.aim, batch.actual(slot))
        targets = dict(allocations[interval.id])
        row["members"], count = _members(batch, slot, targets, members)
        member_count = max(member_count, count)
        rows.append(row)
    state = {k: v for k, v in answer.as_json().items() if k != "category"}
    if state["actuals_error"] is None and period["actuals_error"] is not None:
        state.update(
            actuals_available=False, actuals_reason=FAILED, actuals_error=period["actuals_error"]
        )
    return {
        "as_of": as_of,
        "goal": goal_summary(goal),
        **state,
        "period": period,
        "intervals": rows,
        "member_count": member_count,
    }


def _members(
    batch: Batch, slot: Slot, targets: Mapping[str, Decimal], window: slice | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Member rows of one slot: allocation holders, then counted members without one (those
    at the ``window``'s positions only), and how many there are in all."""
    if slot.user_ids is None:
        users = list(dict.fromkeys([*targets, *batch.reported_users(slot)]))
    else:
        users = list(dict.fromkeys([*targets, *slot.user_ids]))
    shown = users if window is None else users[window]
    return batch.member_rows(slot, shown, targets), len(users)


def goals_period_progress(
    ctx: Context, goals: Sequence[Goal], *, as_of: date
) -> dict[int, dict[str, Any]]:
    """The whole-range figures of many goals at once, each with its member rows, measured as
    :func:`goal_progress` measures ``period`` (the sum of the goal's intervals), for jobs that
    look at every goal of an organization (coaching). No authorization: the caller chose the
    goals.

    :return: goal id → the period's figures with ``members`` and ``actuals_available``
        (``False``, every actual ``null``, when the category's source does not answer or
        failed, or failed for this goal).

    Statements: 2 (intervals, allocations). Hooks: business days once per team, actuals once
    per category.
    """
    if not goals:
        return {}
    goal_ids = [goal.id for goal in goals]
    intervals: dict[int, list[Interval]] = defaultdict(list)
    for interval in ctx.session.scalars(
        sa.select(Interval)
        .where(Interval.goal_id.in_(goal_ids))
        .order_by(Interval.goal_id, Interval.start_date)
    ):
        intervals[interval.goal_id].append(interval)
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for allocation in ctx.session.scalars(
        sa.select(Allocation)
        .where(Allocation.goal_id.in_(goal_ids))
        .order_by(Allocation.goal_id, Allocation.interval_id, Allocation.position, Allocation.id)
    ):
        own = totals[allocation.goal_id]
        own[allocation.user_id] = own.get(allocation.user_id, ZERO) + allocation.target

    batch = Batch(ctx, as_of)
    batch.load_calendars(goals)
    wholes = []
    for goal in goals:
        slots = batch.ask_intervals(goal, intervals[goal.id])
        wholes.append((goal, batch.ask_period(goal, slots)))
    batch.collect()
    progress: dict[int, dict[str, Any]] = {}
    for goal, whole in wholes:
        period = batch.figures(whole, goal.aim, batch.actual(whole), stretch_aim=goal.stretch_aim)
        period["members"] = _members(batch, whole, totals[goal.id])[0]
        period["actuals_available"] = batch.answer(
            goal.category
        ).available is not False and not period.get("actuals_error")
        progress[goal.id] = period
    return progress
