"""Recurring activity goals: creation rules, clone plans, the job (exactly once, catch-up,
failures), the scheduler registration and the ``flask goals recurrence run`` command."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import conftest
import pytest
import sqlalchemy as sa
from conftest import ORG, ApiClient, FakeHost, _reset, dump_tables, make_app
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from flask_wiseparts_goals import Goals, Notification, hookimpl
from flask_wiseparts_goals.domain.periods import Period, Recurrence, next_period, period_containing
from flask_wiseparts_goals.domain.recurrence import (
    IntervalValues,
    Step,
    carry_interval,
    carry_values,
    next_step,
    source_index,
)
from flask_wiseparts_goals.jobs.recurrence import RecurrenceSummary, run_recurrence
from flask_wiseparts_goals.models import Allocation, Goal, HistoryEntry
from flask_wiseparts_goals.plugins import HostHooks
from flask_wiseparts_goals.scheduler import (
    JOB_ID,
    MISFIRE_GRACE_SECONDS,
    parse_schedule,
    recurrence_job,
    register_jobs,
)
from flask_wiseparts_goals.services.context import today_in
from flask_wiseparts_goals.services.structure import recompute_totals

D = Decimal


def d(text: str) -> date:
    return date.fromisoformat(text)


def p(start: str, end: str) -> Period:
    return Period(d(start), d(end))


# -- the host ----------------------------------------------------------------------------------


@dataclass
class RecurrenceHost(FakeHost):
    """The fake host, plus notifications captured, teams whose calendar raises, and a hook
    to act in the middle of a clone (as another runner would)."""

    notifications: list[tuple[str, Notification]] = field(default_factory=list)
    failing_teams: set[str] = field(default_factory=set)
    failing_notify: bool = False
    during_clone: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.teams["team-5"] = [f"m{i:02d}" for i in range(5)]
        self.teams["team-25"] = [f"m{i:02d}" for i in range(25)]

    @hookimpl
    def goals_notify(self, organization_id: str, notification: Notification) -> None:
        if self.failing_notify:
            raise ConnectionError("mail server down")
        self.notifications.append((organization_id, notification))

    @hookimpl
    def goals_business_days(
        self, organization_id: str, team_id: str | None, start: date, end: date
    ) -> Any:
        if team_id in self.failing_teams:
            raise RuntimeError(f"the calendar of {team_id} is unavailable")
        if self.during_clone is not None:
            action, self.during_clone = self.during_clone, None
            action()
        return FakeHost.goals_business_days(self, organization_id, team_id, start, end)


@pytest.fixture
def host() -> RecurrenceHost:
    return RecurrenceHost()


# -- helpers -----------------------------------------------------------------------------------


def activity_goal(**overrides: Any) -> dict[str, Any]:
    """A monthly per-business-day goal of team-a split by members, January 2026."""
    body: dict[str, Any] = {
        "category": "activities",
        "description": "Customer visits",
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
        "team_id": "team-a",
        "split_by_team_members": True,
        "goal_mode": "per_business_day",
        "recurrence": "monthly",
        "filters": {"activity_types": ["visit"], "verified_only": True},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def create(api: ApiClient, **overrides: Any) -> int:
    response = api.post("/goals", json=activity_goal(**overrides))
    assert response.status_code == 201, response.json
    goal_id: int = response.json["id"]
    return goal_id


def set_members(
    db: SQLAlchemy,
    goal_id: int,
    values: dict[str, str] | list[dict[str, str]],
    attribute: str = "daily_target",
) -> None:
    """Members' targets (``attribute="target"``) or daily targets, through the ORM: one mapping
    for every interval, or one per interval."""
    goal = db.session.get(Goal, goal_id)
    assert goal is not None
    for position, interval in enumerate(goal.intervals):
        interval_values = values[position] if isinstance(values, list) else values
        for allocation in interval.allocations:
            setattr(allocation, attribute, D(interval_values[allocation.user_id]))
    recompute_totals(goal)
    db.session.commit()


def run(app: Flask, **kwargs: Any) -> RecurrenceSummary:
    """One run with a fresh hooks façade, as the job and the CLI do."""
    state = app.extensions["goals"]
    return run_recurrence(
        state.session, HostHooks(state.plugin_manager), config=app.config, **kwargs
    )


def goal(db: SQLAlchemy, goal_id: int) -> Goal:
    found = db.session.get(Goal, goal_id)
    assert found is not None
    return found


def all_goals(db: SQLAlchemy) -> list[Goal]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Goal).order_by(Goal.start_date, Goal.id)))


def clone_of(db: SQLAlchemy, goal_id: int) -> Goal | None:
    db.session.expire_all()
    return db.session.scalars(sa.select(Goal).where(Goal.source_goal_id == goal_id)).one_or_none()


def members(interval: Any, attribute: str = "target") -> dict[str, Decimal]:
    return {a.user_id: getattr(a, attribute) for a in interval.allocations}


# -- domain: the next period ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recurrence", "period", "expected"),
    [
        ("monthly", p("2026-01-01", "2026-01-31"), p("2026-02-01", "2026-02-28")),
        ("monthly", p("2026-04-01", "2026-04-30"), p("2026-05-01", "2026-05-31")),
        ("monthly", p("2026-12-01", "2026-12-31"), p("2027-01-01", "2027-01-31")),
        ("monthly", p("2028-01-01", "2028-01-31"), p("2028-02-01", "2028-02-29")),
        ("monthly", p("2028-02-01", "2028-02-29"), p("2028-03-01", "2028-03-31")),
        ("quarterly", p("2026-01-01", "2026-03-31"), p("2026-04-01", "2026-06-30")),
        ("quarterly", p("2026-10-01", "2026-12-31"), p("2027-01-01", "2027-03-31")),
        ("quarterly", p("2027-10-01", "2027-12-31"), p("2028-01-01", "2028-03-31")),
        ("semester", p("2026-01-01", "2026-06-30"), p("2026-07-01", "2026-12-31")),
        ("semester", p("2026-07-01", "2026-12-31"), p("2027-01-01", "2027-06-30")),
        ("yearly", p("2027-01-01", "2027-12-31"), p("2028-01-01", "2028-12-31")),
    ],
)
def test_next_period_of_each_frequency(recurrence: str, period: Period, expected: Period) -> None:
    decision = next_step(recurrence, period, None, expected.start)
    assert decision == next_step(recurrence, period, None, expected.start)
    assert decision.next_period == expected == next_period(recurrence, period)
    assert decision.step is Step.CLONE
    before = next_step(recurrence, period, None, period.end)
    assert before.step is Step.WAIT


def test_leap_year_period_lengths() -> None:
    assert (
        next_step("yearly", p("2027-01-01", "2027-12-31"), None, d("2028-01-01")).next_period.days
        == 366
    )
    assert period_containing(Recurrence.MONTHLY, d("2028-02-10")).days == 29


@pytest.mark.parametrize(
    ("until", "today", "step"),
    [
        # the next period (February) starts after recurring_until: the flag goes once it passed
        ("2026-01-31", "2026-01-31", Step.WAIT),
        ("2026-01-31", "2026-02-01", Step.END),
        ("2026-01-20", "2026-01-21", Step.END),
        # on or after the next start: cloned when February starts
        ("2026-02-01", "2026-01-31", Step.WAIT),
        ("2026-02-01", "2026-02-01", Step.CLONE),
        ("2026-02-15", "2026-02-01", Step.CLONE),
        (None, "2026-02-01", Step.CLONE),
        (None, "2026-03-31", Step.CLONE),
    ],
)
def test_next_step_with_recurring_until(until: str | None, today: str, step: Step) -> None:
    decision = next_step(
        "monthly", p("2026-01-01", "2026-01-31"), d(until) if until else None, d(today)
    )
    assert decision.step is step
    assert decision.next_period == p("2026-02-01", "2026-02-28")


# -- domain: which values a clone starts with ------------------------------------------------


def test_new_member_gets_the_common_value() -> None:
    source = IntervalValues({"a": D("5"), "b": D("5.00"), "gone": D("5")})
    plan = carry_interval(source, ["a", "new", "b"])
    assert plan.members == {"a": D("5"), "new": D("5"), "b": D("5.00")}
    assert list(plan.members) == ["a", "new", "b"]
    assert (plan.dropped, plan.joined, plan.zeroed) == (("gone",), ("new",), ())


def test_new_member_gets_zero_when_values_differ() -> None:
    # The departed member's 7 counts: the manager chose different targets.
    source = IntervalValues({"a": D("5"), "gone": D("7")})
    plan = carry_interval(source, ["a", "new"])
    assert plan.members == {"a": D("5"), "new": D("0")}
    assert plan.zeroed == ("new",)


def test_members_of_an_empty_interval_get_zero_for_review() -> None:
    plan = carry_interval(IntervalValues({}), ["new"])
    assert plan.members == {"new": D("0")}
    assert plan.zeroed == ("new",)


def test_values_are_copied_position_wise() -> None:
    source = [IntervalValues({"a": D(k), "b": D(k + 10)}) for k in (1, 2, 3)]
    plan = carry_values(source, [["a", "b"], ["b", "c"], ["a"]])
    assert [dict(i.members) for i in plan.intervals] == [
        {"a": D(1), "b": D(11)},
        {"b": D(12), "c": D(0)},
        {"a": D(3)},
    ]
    assert plan.zeroed == ("c",)
    assert plan.dropped == ("a", "b")
    assert plan.needs_review


def test_more_intervals_copy_the_last_fewer_are_truncated() -> None:
    source = [IntervalValues({}, D(k)) for k in (1, 2)]
    longer = carry_values(source, [[], [], []])
    assert [i.value for i in longer.intervals] == [D(1), D(2), D(2)]
    assert [i.source_index for i in longer.intervals] == [0, 1, 1]
    shorter = carry_values(source, [[]])
    assert [i.value for i in shorter.intervals] == [D(1)]
    assert source_index(0, 0) is None
    assert carry_values([], [["a"]]).intervals[0].members == {"a": D(0)}


# -- creation rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("recurrence", [r.value for r in Recurrence])
def test_date_range_defaults_to_the_current_period(api: ApiClient, recurrence: str) -> None:
    before = today_in("UTC")
    response = api.post(
        "/goals", json=activity_goal(start_date=None, end_date=None, recurrence=recurrence)
    )
    assert response.status_code == 201, response.json
    expected = {period_containing(recurrence, day) for day in (before, today_in("UTC"))}
    got = Period(d(response.json["start_date"]), d(response.json["end_date"]))
    assert got in expected
    assert response.json["recurrence"] == recurrence


@pytest.mark.parametrize(
    ("recurrence", "start", "end"),
    [
        ("monthly", "2026-01-02", "2026-01-31"),
        ("monthly", "2026-01-01", "2026-02-28"),
        ("quarterly", "2026-01-01", "2026-02-28"),
        ("quarterly", "2026-02-01", "2026-04-30"),
        ("semester", "2026-01-01", "2026-03-31"),
        ("semester", "2026-04-01", "2026-09-30"),
        ("yearly", "2026-01-01", "2026-06-30"),
    ],
)
def test_recurring_range_must_be_one_whole_period(
    api: ApiClient, recurrence: str, start: str, end: str
) -> None:
    body = activity_goal(recurrence=recurrence, start_date=start, end_date=end)
    response = api.post("/goals", json=body)
    assert response.status_code == 422
    assert "start_date" in response.json["errors"]["json"]


@pytest.mark.parametrize(
    ("recurrence", "start", "end"),
    [
        ("monthly", "2028-02-01", "2028-02-29"),
        ("quarterly", "2026-04-01", "2026-06-30"),
        ("semester", "2026-07-01", "2026-12-31"),
        ("yearly", "2027-01-01", "2027-12-31"),
    ],
)
def test_whole_periods_are_accepted(api: ApiClient, recurrence: str, start: str, end: str) -> None:
    response = api.post(
        "/goals", json=activity_goal(recurrence=recurrence, start_date=start, end_date=end)
    )
    assert response.status_code == 201, response.json


def test_only_activity_goals_recur(api: ApiClient) -> None:
    response = api.post(
        "/goals",
        json={
            "category": "sales",
            "description": "Revenue",
            "period": "this_month",
            "metric": "net",
            "aim": "100.00",
            "recurrence": "monthly",
        },
    )
    assert response.status_code == 422
    assert "recurrence" in response.json["errors"]["json"]


def test_recurring_until_rules(api: ApiClient) -> None:
    without = api.post("/goals", json=activity_goal(recurrence=None, recurring_until="2026-06-30"))
    assert without.status_code == 422
    assert "recurring_until" in without.json["errors"]["json"]
    early = api.post("/goals", json=activity_goal(recurring_until="2025-12-31"))
    assert early.status_code == 422
    assert "recurring_until" in early.json["errors"]["json"]
    response = api.post("/goals", json=activity_goal(recurring_until="2026-01-01"))
    assert response.status_code == 201, response.json


# -- the clone ---------------------------------------------------------------------------------


def test_clone_copies_settings_and_recomputes_per_day_totals(
    app: Flask, api: ApiClient, db: SQLAlchemy, host: RecurrenceHost
) -> None:
    goal_id = create(api)
    set_members(db, goal_id, {"rep": "5", "u2": "4.5", "u3": "3"})
    january = goal(db, goal_id)
    assert [(i.business_days, i.aim) for i in january.intervals] == [(22, D("275.00"))]
    host.holidays = {d("2026-02-16")}

    summary = run(app, as_of=d("2026-02-01"))

    assert (summary.created, summary.ended, summary.failed, summary.skipped) == (1, 0, 0, 0)
    clone = clone_of(db, goal_id)
    assert clone is not None
    assert summary.clones[0].goal_id == clone.id
    assert (clone.start_date, clone.end_date) == (d("2026-02-01"), d("2026-02-28"))
    for name in (
        "organization_id",
        "category",
        "description",
        "metric",
        "team_id",
        "split_into_subperiods",
        "split_by_team_members",
        "goal_mode",
        "filters",
        "timezone",
        "created_by",
    ):
        assert getattr(clone, name) == getattr(january, name), name
    assert clone.filters == {"activity_types": ["visit"], "verified_only": True}
    assert (clone.recurrence, clone.source_goal_id) == ("monthly", goal_id)
    assert (january.recurrence, january.recurring_until) == (None, None)

    [interval] = clone.intervals
    assert interval.business_days == 19  # 20 weekdays, one holiday
    assert members(interval, "daily_target") == {"rep": D("5"), "u2": D("4.5"), "u3": D("3")}
    assert members(interval) == {"rep": D("95"), "u2": D("85.5"), "u3": D("57")}
    assert (interval.daily_target, interval.aim, clone.aim) == (D("12.5"), D("237.5"), D("237.5"))
    # January is untouched
    assert members(january.intervals[0]) == {"rep": D("110"), "u2": D("99"), "u3": D("66")}

    rows = db.session.scalars(
        sa.select(HistoryEntry).where(HistoryEntry.operation == "recurrence")
    ).all()
    assert {row.changed_by for row in rows} == {"system"}
    assert (goal_id, "recurrence", "monthly", None) in {
        (r.goal_id, r.field, r.old_value, r.new_value) for r in rows
    }
    clone_rows = {(r.field, r.user_id, r.new_value) for r in rows if r.goal_id == clone.id}
    assert ("goal", None, "created") in clone_rows
    assert ("target", "u2", "85.50") in clone_rows
    assert ("daily_target", "u3", "3.00") in clone_rows
    assert host.notifications == []


def test_total_targets_are_copied_interval_by_interval(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    goal_id = create(
        api,
        recurrence="quarterly",
        start_date="2026-01-01",
        end_date="2026-03-31",
        split_into_subperiods=True,
        goal_mode="total",
    )
    set_members(
        db,
        goal_id,
        [
            {"rep": "10", "u2": "20", "u3": "30"},
            {"rep": "11", "u2": "21", "u3": "31"},
            {"rep": "12", "u2": "22", "u3": "32"},
        ],
        attribute="target",
    )
    assert run(app, as_of=d("2026-04-01")).created == 1
    clone = clone_of(db, goal_id)
    assert clone is not None
    assert [(i.start_date, i.end_date) for i in clone.intervals] == [
        (d("2026-04-01"), d("2026-04-30")),
        (d("2026-05-01"), d("2026-05-31")),
        (d("2026-06-01"), d("2026-06-30")),
    ]
    assert [members(i) for i in clone.intervals] == [
        {"rep": D(10), "u2": D(20), "u3": D(30)},
        {"rep": D(11), "u2": D(21), "u3": D(31)},
        {"rep": D(12), "u2": D(22), "u3": D(32)},
    ]
    assert [i.aim for i in clone.intervals] == [D(60), D(63), D(66)]
    assert clone.aim == D(189)
    assert all(a.daily_target is None for i in clone.intervals for a in i.allocations)


@pytest.mark.parametrize(
    ("mode", "attribute", "value", "expected_aim"),
    [("per_business_day", "daily_target", "7.5", D("150")), ("total", "aim", "120", D("120"))],
)
def test_goals_without_members_copy_the_interval_value(
    app: Flask,
    api: ApiClient,
    db: SQLAlchemy,
    mode: str,
    attribute: str,
    value: str,
    expected_aim: Decimal,
) -> None:
    goal_id = create(api, team_id=None, split_by_team_members=False, goal_mode=mode)
    january = goal(db, goal_id)
    setattr(january.intervals[0], attribute, D(value))
    recompute_totals(january)
    db.session.commit()
    assert run(app, as_of=d("2026-02-01")).created == 1
    clone = clone_of(db, goal_id)
    assert clone is not None
    assert getattr(clone.intervals[0], attribute) == D(value)
    assert clone.intervals[0].aim == clone.aim == expected_aim  # February: 20 business days


MODES = pytest.mark.parametrize(
    ("mode", "attribute"), [("per_business_day", "daily_target"), ("total", "target")]
)


@MODES
def test_same_values_go_to_new_members_and_departed_ones_are_dropped(
    app: Flask, api: ApiClient, db: SQLAlchemy, host: RecurrenceHost, mode: str, attribute: str
) -> None:
    goal_id = create(api, goal_mode=mode)
    set_members(db, goal_id, {"rep": "4", "u2": "4", "u3": "4"}, attribute)
    host.teams["team-a"] = ["rep", "u6", "u3", "u7"]  # u2 left; u6 and u7 joined
    assert run(app, as_of=d("2026-02-01")).notified == 0
    clone = clone_of(db, goal_id)
    assert clone is not None
    allocations = clone.intervals[0].allocations
    assert [(a.user_id, a.position, getattr(a, attribute)) for a in allocations] == [
        ("rep", 0, D(4)),
        ("u6", 1, D(4)),
        ("u3", 2, D(4)),
        ("u7", 3, D(4)),
    ]
    # per day: 4 a day over February's 20 business days; total: 4 for the month
    assert clone.aim == (D(320) if mode == "per_business_day" else D(16))
    assert host.notifications == []
    assert ("team_members", ("team-a", d("2026-02-01"))) in host.calls


@MODES
def test_different_values_give_new_members_zero_and_one_notification(
    app: Flask, api: ApiClient, db: SQLAlchemy, host: RecurrenceHost, mode: str, attribute: str
) -> None:
    goal_id = create(
        api,
        recurrence="quarterly",
        start_date="2026-01-01",
        end_date="2026-03-31",
        split_into_subperiods=True,
        goal_mode=mode,
    )
    set_members(db, goal_id, {"rep": "10", "u2": "20", "u3": "10"}, attribute)
    host.teams["team-a"] = ["rep", "u3", "u6", "u7"]

    summary = run(app, as_of=d("2026-04-01"))

    assert (summary.created, summary.notified) == (1, 1)
    clone = clone_of(db, goal_id)
    assert clone is not None
    for interval in clone.intervals:
        assert members(interval, attribute) == {"rep": D(10), "u3": D(10), "u6": D(0), "u7": D(0)}
    [(organization_id, note)] = host.notifications  # one for the clone, not one per interval
    assert organization_id == ORG
    assert note.kind == "review"
    assert (note.recipient_id, note.goal_id) == ("admin", clone.id)
    assert note.data["new_member_ids"] == ["u6", "u7"]
    assert note.data["source_goal_id"] == goal_id
    assert "u6, u7" in note.message
    assert "Customer visits" in note.message

    # the next clone has no new member: u6 and u7 are members now (with 0), nobody is told
    host.notifications.clear()
    assert run(app, as_of=d("2026-07-01")).created == 1
    assert host.notifications == []


@pytest.mark.parametrize(
    ("recurrence", "start", "end", "next_start", "next_end", "intervals"),
    [
        ("semester", "2026-07-01", "2026-12-31", "2027-01-01", "2027-06-30", 6),
        ("yearly", "2027-01-01", "2027-12-31", "2028-01-01", "2028-12-31", 12),
        ("monthly", "2028-01-01", "2028-01-31", "2028-02-01", "2028-02-29", 1),
    ],
)
def test_split_goals_of_every_length_are_cloned_month_by_month(
    app: Flask,
    api: ApiClient,
    db: SQLAlchemy,
    recurrence: str,
    start: str,
    end: str,
    next_start: str,
    next_end: str,
    intervals: int,
) -> None:
    goal_id = create(
        api, recurrence=recurrence, start_date=start, end_date=end, split_into_subperiods=True
    )
    months = len(goal(db, goal_id).intervals)
    set_members(
        db,
        goal_id,
        [{"rep": str(k), "u2": "1", "u3": "1"} for k in range(1, months + 1)],
    )
    assert run(app, as_of=d(next_start)).created == 1
    clone = clone_of(db, goal_id)
    assert clone is not None
    assert (clone.start_date, clone.end_date) == (d(next_start), d(next_end))
    assert len(clone.intervals) == intervals
    assert clone.intervals[-1].end_date == d(next_end)
    assert [members(i, "daily_target")["rep"] for i in clone.intervals] == [
        D(k) for k in range(1, intervals + 1)
    ]


def test_notification_is_part_of_the_clone_transaction(
    app: Flask, api: ApiClient, db: SQLAlchemy, host: RecurrenceHost
) -> None:
    """A notification plugin that raises rolls the clone back: it is retried, not lost."""
    goal_id = create(api)
    set_members(db, goal_id, {"rep": "1", "u2": "2", "u3": "3"})
    host.teams["team-a"] = ["rep", "u2", "u3", "u9"]
    host.failing_notify = True
    summary = run(app, as_of=d("2026-02-01"))
    assert (summary.created, summary.failed) == (0, 1)
    assert "mail server down" in summary.errors[0]
    assert clone_of(db, goal_id) is None
    assert goal(db, goal_id).recurrence == "monthly"


# -- recurring until ---------------------------------------------------------------------------


def test_recurring_until_before_the_next_start_ends_the_recurrence(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    goal_id = create(api, recurring_until="2026-01-31")
    assert run(app, as_of=d("2026-01-31")).ended == 0
    summary = run(app, as_of=d("2026-02-01"))
    assert (summary.created, summary.ended) == (0, 1)
    january = goal(db, goal_id)
    assert (january.recurrence, january.recurring_until) == (None, None)
    assert clone_of(db, goal_id) is None
    events = db.session.execute(
        sa.select(HistoryEntry.field, HistoryEntry.old_value, HistoryEntry.new_value).where(
            HistoryEntry.goal_id == goal_id, HistoryEntry.operation == "recurrence"
        )
    ).all()
    assert set(events) == {("recurrence", "monthly", None), ("recurring_until", "2026-01-31", None)}
    assert run(app, as_of=d("2026-06-01")).created == 0


def test_recurring_until_on_the_next_start_makes_one_last_clone(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    goal_id = create(api, recurring_until="2026-02-01")
    summary = run(app, as_of=d("2026-02-01"))
    assert (summary.created, summary.ended) == (1, 0)
    february = clone_of(db, goal_id)
    assert february is not None
    assert (february.recurrence, february.recurring_until) == ("monthly", d("2026-02-01"))
    # the day after, the end date has passed: February stays the last one
    summary = run(app, as_of=d("2026-03-05"))
    assert (summary.created, summary.ended) == (0, 1)
    assert clone_of(db, february.id) is None
    assert goal(db, february.id).recurrence is None


def test_recurring_until_after_the_next_start(app: Flask, api: ApiClient, db: SQLAlchemy) -> None:
    goal_id = create(api, recurring_until="2026-02-15")
    summary = run(app, as_of=d("2026-04-01"))  # one run: the clone, then its end
    assert (summary.created, summary.ended) == (1, 1)
    goals = all_goals(db)
    assert [(g.start_date, g.recurrence, g.recurring_until) for g in goals] == [
        (d("2026-01-01"), None, None),
        (d("2026-02-01"), None, None),
    ]
    assert goals[1].source_goal_id == goal_id


# -- catch-up, exactly once, failures ---------------------------------------------------------


def test_catch_up_creates_every_missed_period_in_order(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    goal_id = create(api)
    set_members(db, goal_id, {"rep": "2", "u2": "3", "u3": "4"})
    summary = run(app, as_of=d("2026-04-10"))
    assert (summary.created, summary.failed) == (3, 0)
    goals = all_goals(db)
    assert [(g.start_date, g.end_date) for g in goals] == [
        (d("2026-01-01"), d("2026-01-31")),
        (d("2026-02-01"), d("2026-02-28")),
        (d("2026-03-01"), d("2026-03-31")),
        (d("2026-04-01"), d("2026-04-30")),
    ]
    # each clone is the clone of the previous one; only the latest recurs
    assert [g.source_goal_id for g in goals] == [None, goals[0].id, goals[1].id, goals[2].id]
    assert [g.recurrence for g in goals] == [None, None, None, "monthly"]
    assert [c.goal_id for c in summary.clones] == [g.id for g in goals[1:]]
    # daily targets carried all the way, effective targets on each month's business days
    assert [g.intervals[0].allocations[2].target for g in goals] == [
        D(88),
        D(80),
        D(88),
        D(88),
    ]

    again = run(app, as_of=d("2026-04-10"))
    assert (again.checked, again.created) == (0, 0)
    assert len(all_goals(db)) == 4


def test_the_job_run_twice_creates_nothing_new(
    app: Flask, api: ApiClient, db: SQLAlchemy, freeze_now: Any
) -> None:
    create(api)
    freeze_now(datetime(2026, 3, 15, 12, tzinfo=UTC))
    first = recurrence_job(app.import_name)
    assert first.created == 2
    before = dump_tables(db)
    second = recurrence_job(app.import_name)
    assert (second.created, second.ended, second.failed) == (0, 0, 0)
    assert dump_tables(db) == before


def test_the_job_runs_without_an_app_context(
    app: Flask, api: ApiClient, db: SQLAlchemy, freeze_now: Any
) -> None:
    """APScheduler calls the job from a worker thread, where no app context exists."""
    create(api)
    freeze_now(datetime(2026, 2, 1, 0, 30, tzinfo=UTC))
    results: list[RecurrenceSummary | BaseException] = []

    def target() -> None:
        try:
            results.append(recurrence_job(app.import_name))
        except BaseException as error:
            results.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    [result] = results
    assert isinstance(result, RecurrenceSummary), result
    assert result.created == 1


def test_today_is_each_goal_own_today(
    app: Flask, api: ApiClient, db: SQLAlchemy, host: RecurrenceHost, freeze_now: Any
) -> None:
    host.timezone = "Asia/Tokyo"
    tokyo = create(api)
    host.timezone = "America/Los_Angeles"
    los_angeles = create(api)
    # 2026-02-01 01:00 in Tokyo, 2026-01-31 08:00 in Los Angeles
    freeze_now(datetime(2026, 1, 31, 16, tzinfo=UTC))
    summary = run(app)
    assert (summary.checked, summary.created) == (2, 1)
    assert clone_of(db, tokyo) is not None
    assert clone_of(db, los_angeles) is None
    freeze_now(datetime(2026, 2, 1, 8, 30, tzinfo=UTC))
    assert run(app).created == 1
    assert clone_of(db, los_angeles) is not None


def test_deleted_and_non_recurring_goals_are_left_alone(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    deleted = create(api)
    goal(db, deleted).deleted_at = datetime.now(UTC)
    create(api, recurrence=None)
    db.session.commit()
    summary = run(app, as_of=d("2026-05-01"))
    assert (summary.checked, summary.created) == (0, 0)
    assert len(all_goals(db)) == 2


def test_a_failing_plugin_fails_its_goal_only(
    app: Flask,
    api: ApiClient,
    db: SQLAlchemy,
    host: RecurrenceHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = create(api, team_id="team-a")
    failing = create(api, team_id="team-b")
    last = create(api, team_id="team-a", description="Calls")
    host.failing_teams = {"team-b"}
    before = dump_tables(db)
    caplog.set_level(logging.ERROR, logger="flask_wiseparts_goals")

    summary = run(app, as_of=d("2026-03-01"))

    assert (summary.created, summary.failed) == (4, 1)
    assert summary.errors == [
        f"goal {failing}: RuntimeError: the calendar of team-b is unavailable"
    ]
    assert f"goal {failing} failed" in caplog.text
    assert clone_of(db, failing) is None
    assert goal(db, failing).recurrence == "monthly"
    assert clone_of(db, first) is not None and clone_of(db, last) is not None
    assert len(all_goals(db)) == len(before["goals_goal"]) + 4

    host.failing_teams = set()
    retry = run(app, as_of=d("2026-03-01"))
    assert (retry.created, retry.failed) == (2, 0)  # February and March of the failed one


def test_an_unknown_team_fails_its_goal(
    app: Flask, api: ApiClient, db: SQLAlchemy, host: RecurrenceHost
) -> None:
    goal_id = create(api, team_id="team-b")
    del host.teams["team-b"]
    summary = run(app, as_of=d("2026-02-01"))
    assert summary.failed == 1
    assert "team-b" in summary.errors[0]
    assert clone_of(db, goal_id) is None


def test_dry_run_writes_nothing(app: Flask, api: ApiClient, db: SQLAlchemy, host: Any) -> None:
    goal_id = create(api)
    set_members(db, goal_id, {"rep": "1", "u2": "2", "u3": "3"})
    host.teams["team-a"] = ["rep", "u2", "u3", "u9"]
    before = dump_tables(db)
    summary = run(app, as_of=d("2026-04-01"), dry_run=True)
    assert summary.dry_run
    assert (summary.created, summary.notified, summary.failed) == (3, 1, 0)
    assert [(c.start_date, c.goal_id) for c in summary.clones] == [
        (d("2026-02-01"), None),
        (d("2026-03-01"), None),
        (d("2026-04-01"), None),
    ]
    assert dump_tables(db) == before
    assert host.notifications == []


def test_pending_changes_are_refused(app: Flask, db: SQLAlchemy) -> None:
    db.session.add(Goal(organization_id=ORG))
    with pytest.raises(RuntimeError, match="pending changes"):
        run(app, as_of=d("2026-02-01"))
    db.session.rollback()


def test_progress_is_reported_per_due_goal(app: Flask, api: ApiClient) -> None:
    create(api)
    create(api, team_id="team-b")
    calls: list[tuple[int, int]] = []
    run(app, as_of=d("2026-03-01"), on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (1, 2), (2, 2)]


# -- bulk writes -------------------------------------------------------------------------------


def test_statements_per_clone_do_not_grow_with_members(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    """Cloning writes rows in bulk: 5 or 25 members, the same statements per goal (and every
    member has a non-zero daily target, so every allocation has history rows too)."""
    host_teams = RecurrenceHost().teams
    for team in ("team-5", "team-25"):
        goal_id = create(
            api,
            team_id=team,
            recurrence="quarterly",
            start_date="2026-01-01",
            end_date="2026-03-31",
            split_into_subperiods=True,
        )
        set_members(db, goal_id, {user: str(1 + n % 3) for n, user in enumerate(host_teams[team])})
    statements: list[str] = []
    marks: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        summary = run(
            app,
            as_of=d("2026-04-01"),
            on_progress=lambda done, total: marks.append(len(statements)),
            chunk_size=1,  # one goal per transaction: statements per goal
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert summary.created == 2
    per_goal = [marks[1] - marks[0], marks[2] - marks[1]]
    print(f"statements per clone (5 members, 25 members): {per_goal}; whole run {len(statements)}")
    assert per_goal[0] == per_goal[1]
    assert per_goal[0] <= 20
    history = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(HistoryEntry)
        .where(HistoryEntry.operation == "recurrence", HistoryEntry.user_id.is_not(None))
    )
    assert history == 2 * 3 * (5 + 25)  # target and daily target of every allocation
    rows = db.session.execute(
        sa.select(Allocation.goal_id, sa.func.count()).group_by(Allocation.goal_id)
    ).all()
    assert sorted(n for _, n in rows) == [15, 15, 75, 75]


def test_statements_per_chunk_do_not_grow_with_its_goals(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    """One chunk of 2 goals or of 6: the same statements (one claim, one read per table, one
    UPDATE of the sources, one INSERT per table)."""
    counts = []
    for goals in (2, 6):
        for _ in range(goals):
            create(api)
        statements: list[str] = []

        def count(
            conn: Any, cursor: Any, statement: str, *args: Any, sink: list[str] = statements
        ) -> None:
            if "host_" not in statement:  # the extension's own statements
                sink.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            summary = run(app, as_of=d("2026-02-01"))
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert (summary.created, summary.failed) == (goals, 0)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_chunk_boundaries_clone_every_goal_exactly_once(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    """5 due goals in chunks of 2 (the last one alone), each with a catch-up clone: every
    period once, in order, and progress once per due goal."""
    sources = [create(api, team_id=team) for team in ("team-a", "team-b") * 2 + ("team-a",)]
    calls: list[tuple[int, int]] = []
    summary = run(
        app,
        as_of=d("2026-03-01"),
        chunk_size=2,
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert (summary.created, summary.skipped, summary.failed) == (10, 0, 0)
    assert calls == [(n, 5) for n in range(6)]
    for source in sources:
        february = clone_of(db, source)
        assert february is not None and february.start_date == d("2026-02-01")
        march = clone_of(db, february.id)
        assert march is not None and march.start_date == d("2026-03-01")
        assert march.recurrence == "monthly" and clone_of(db, march.id) is None
    per_source = db.session.execute(
        sa.select(Goal.source_goal_id, sa.func.count())
        .where(Goal.source_goal_id.is_not(None))
        .group_by(Goal.source_goal_id)
    ).all()
    assert len(per_source) == 10 and {n for _, n in per_source} == {1}


def test_a_failing_goal_is_retried_alone_and_the_rest_of_its_chunk_commits(
    app: Flask,
    api: ApiClient,
    db: SQLAlchemy,
    host: RecurrenceHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The chunk rolls back, runs again without the goal at fault, then that goal alone, which
    fails again: one failure counted, the others cloned."""
    goals = [create(api, team_id=team) for team in ("team-a", "team-b", "team-a", "team-a")]
    host.failing_teams = {"team-b"}
    caplog.set_level(logging.INFO, logger="flask_wiseparts_goals")

    summary = run(app, as_of=d("2026-02-01"))

    assert (summary.created, summary.failed, summary.skipped) == (3, 1, 0)
    assert summary.errors == [
        f"goal {goals[1]}: RuntimeError: the calendar of team-b is unavailable"
    ]
    assert f"goal {goals[1]} failed in a chunk of 4" in caplog.text
    assert clone_of(db, goals[1]) is None and goal(db, goals[1]).recurrence == "monthly"
    for other in (goals[0], goals[2], goals[3]):
        clone = clone_of(db, other)
        assert clone is not None and len(clone.intervals) == 1
        assert goal(db, other).recurrence is None
    history = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(HistoryEntry)
        .where(HistoryEntry.operation == "recurrence", HistoryEntry.field == "goal")
    )
    assert history == 3


def test_many_failing_goals_end_up_one_per_transaction(
    app: Flask,
    api: ApiClient,
    db: SQLAlchemy,
    host: RecurrenceHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hook down for most goals: three are isolated one by one, then the rest of the chunk
    runs one goal per transaction; every failure counted once, the healthy goal cloned."""
    failing = [create(api, team_id="team-b") for _ in range(6)]
    healthy = create(api, team_id="team-a")
    host.failing_teams = {"team-b"}
    caplog.set_level(logging.INFO, logger="flask_wiseparts_goals")

    summary = run(app, as_of=d("2026-02-01"))

    assert (summary.created, summary.failed) == (1, 6)
    assert sorted(summary.errors) == sorted(
        f"goal {g}: RuntimeError: the calendar of team-b is unavailable" for g in failing
    )
    assert caplog.text.count("re-running the chunk without it") == 3
    assert clone_of(db, healthy) is not None
    assert all(clone_of(db, g) is None for g in failing)


# -- exactly once when another runner wins ---------------------------------------------------


@pytest.fixture
def file_app(host: RecurrenceHost, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database that a second connection can write to meanwhile."""
    url = conftest.DATABASE_URL or f"sqlite:///{tmp_path / 'goals.db'}"
    app = make_app(host, SQLALCHEMY_DATABASE_URI=url)
    _reset(app)
    with app.app_context():
        yield app
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


def test_a_clone_made_meanwhile_by_another_runner_is_skipped(
    file_app: Flask, host: RecurrenceHost
) -> None:
    """The lock is not the guarantee: the UNIQUE source_goal_id is. Another runner commits the
    clone while this one builds its own; this one's INSERT fails and nothing of it remains."""
    api = ApiClient(file_app)
    db = file_app.extensions["sqlalchemy"]
    goal_id = create(api)
    url = db.engine.url

    def another_runner() -> None:
        engine = sa.create_engine(url)
        try:
            with Session(engine) as session, session.begin():
                session.add(
                    Goal(
                        organization_id=ORG,
                        category="activities",
                        description="Customer visits",
                        metric="count",
                        start_date=d("2026-02-01"),
                        end_date=d("2026-02-28"),
                        source_goal_id=goal_id,
                        created_by="admin",
                    )
                )
        finally:
            engine.dispose()

    host.during_clone = another_runner
    summary = run(file_app, as_of=d("2026-02-01"))
    assert (summary.created, summary.skipped, summary.failed) == (0, 1, 0)
    clones = db.session.scalars(sa.select(Goal).where(Goal.source_goal_id == goal_id)).all()
    assert len(clones) == 1
    assert clones[0].created_by == "admin" and not clones[0].intervals
    history = db.session.scalars(
        sa.select(HistoryEntry).where(HistoryEntry.operation == "recurrence")
    ).all()
    assert history == []


def test_a_clone_made_meanwhile_fails_the_chunk_which_is_re_run_in_halves(
    file_app: Flask, host: RecurrenceHost
) -> None:
    """The failing INSERT does not say which goal of the chunk was cloned meanwhile: the chunk
    is re-run in halves, and the re-claim leaves that goal out (skipped)."""
    api = ApiClient(file_app)
    db = file_app.extensions["sqlalchemy"]
    first, meanwhile, last = (create(api) for _ in range(3))
    url = db.engine.url

    def another_runner() -> None:
        engine = sa.create_engine(url)
        try:
            with Session(engine) as session, session.begin():
                session.add(
                    Goal(
                        organization_id=ORG,
                        category="activities",
                        description="Customer visits",
                        metric="count",
                        start_date=d("2026-02-01"),
                        end_date=d("2026-02-28"),
                        source_goal_id=meanwhile,
                        created_by="admin",
                    )
                )
        finally:
            engine.dispose()

    host.during_clone = another_runner
    summary = run(file_app, as_of=d("2026-02-01"))
    assert (summary.created, summary.skipped, summary.failed) == (2, 1, 0)
    assert {clone.source_goal_id for clone in summary.clones} == {first, last}
    clones = db.session.scalars(sa.select(Goal).where(Goal.source_goal_id == meanwhile)).all()
    assert len(clones) == 1 and clones[0].created_by == "admin"
    created = db.session.scalars(
        sa.select(HistoryEntry.goal_id).where(
            HistoryEntry.operation == "recurrence", HistoryEntry.field == "goal"
        )
    ).all()
    assert sorted(created) == sorted(c.goal_id for c in summary.clones)


# -- the scheduler -----------------------------------------------------------------------------


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Flask-APScheduler's start, recorded instead of starting a background thread."""
    from flask_apscheduler import APScheduler

    started: list[Any] = []
    monkeypatch.setattr(APScheduler, "start", lambda self, paused=False: started.append(self))
    return started


def cron_fields(job: Any) -> dict[str, str]:
    return {f.name: str(f) for f in job.trigger.fields if not f.is_default}


def test_scheduler_registers_an_hourly_job_by_default(
    host: RecurrenceHost, starts: list[Any]
) -> None:
    app = make_app(host, GOALS_SCHEDULER_ENABLED=True)
    job = app.apscheduler.get_job(JOB_ID)  # type: ignore[attr-defined]
    assert job is not None
    assert job.func is recurrence_job
    assert job.args == (app.import_name,)
    assert cron_fields(job) == {"hour": "*", "minute": "5"}
    assert str(job.trigger.timezone) == "UTC"
    assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (
        MISFIRE_GRACE_SECONDS,
        True,
        1,
    )
    assert MISFIRE_GRACE_SECONDS >= 3600
    assert starts == [app.apscheduler]  # type: ignore[attr-defined]


def test_scheduler_reuses_the_host_scheduler_and_leaves_starting_it_to_the_host(
    host: RecurrenceHost,
) -> None:
    from flask_apscheduler import APScheduler

    app = Flask("scheduled_host")
    app.config.update(
        SQLALCHEMY_DATABASE_URI="sqlite://",
        GOALS_SCHEDULER_ENABLED=True,
        GOALS_SCHEDULER_TIME="02:30",
        GOALS_SCHEDULER_TIMEZONE="Europe/Berlin",
    )
    SQLAlchemy(model_class=conftest.HostBase).init_app(app)
    scheduler = APScheduler()
    scheduler.init_app(app)
    Goals(app, plugins=[host], entry_points=False)
    assert app.apscheduler is scheduler  # type: ignore[attr-defined]
    assert not scheduler.running
    assert sorted(j.id for j in scheduler.get_jobs()) == [
        "goals-coaching",
        "goals-planning",
        JOB_ID,
    ]
    job = scheduler.get_job(JOB_ID)
    assert cron_fields(job) == {"hour": "2", "minute": "30"}
    assert str(job.trigger.timezone) == "Europe/Berlin"
    register_jobs(scheduler, app)  # replace_existing: still one job each
    assert sorted(j.id for j in scheduler.get_jobs()) == [
        "goals-coaching",
        "goals-planning",
        JOB_ID,
    ]


@pytest.mark.parametrize(
    ("enabled", "testing", "registered"),
    # None outside testing: nothing at init_app, the first request starts it (test_coexistence).
    [(False, False, False), (None, True, False), (None, False, False), (True, True, True)],
)
def test_scheduler_enabled_setting(
    host: RecurrenceHost, starts: list[Any], enabled: bool | None, testing: bool, registered: bool
) -> None:
    app = make_app(host, GOALS_SCHEDULER_ENABLED=enabled) if testing else None
    if app is None:
        app = Flask("untested_host")
        app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", GOALS_SCHEDULER_ENABLED=enabled)
        SQLAlchemy(model_class=conftest.HostBase).init_app(app)
        Goals(app, plugins=[host], entry_points=False)
    scheduler = getattr(app, "apscheduler", None)
    assert (scheduler is not None and scheduler.get_job(JOB_ID) is not None) is registered
    assert len(starts) == int(registered)


def test_a_real_scheduler_plans_the_next_run(host: RecurrenceHost) -> None:
    app = make_app(host, GOALS_SCHEDULER_ENABLED=True, GOALS_SCHEDULER_TIME="*:45")
    scheduler = app.apscheduler  # type: ignore[attr-defined]
    try:
        assert scheduler.running
        job = scheduler.get_job(JOB_ID)
        assert job.next_run_time.minute == 45
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize("value", ["24:00", "7:5", "daily", "*:60", ""])
def test_a_bad_scheduler_time_is_refused(host: RecurrenceHost, value: str) -> None:
    with pytest.raises(ValueError, match="GOALS_SCHEDULER_TIME"):
        make_app(host, GOALS_SCHEDULER_TIME=value)


def test_parse_schedule() -> None:
    assert parse_schedule("*:05") == {"hour": "*", "minute": "5"}
    assert parse_schedule("00:15") == {"hour": "00", "minute": "15"}
    assert parse_schedule("23:59") == {"hour": "23", "minute": "59"}


# -- the command -------------------------------------------------------------------------------


def test_cli_dry_run_writes_nothing(app: Flask, api: ApiClient, db: SQLAlchemy) -> None:
    create(api)
    before = dump_tables(db)
    result = app.test_cli_runner().invoke(
        args=["goals", "recurrence", "run", "--as-of", "2026-03-01", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "created 2, ended 0, notified 0, failed 0" in result.output
    assert "dry run" in result.output
    assert dump_tables(db) == before


def test_cli_run_creates_and_summarizes(app: Flask, api: ApiClient, db: SQLAlchemy) -> None:
    goal_id = create(api)
    result = app.test_cli_runner().invoke(
        args=["goals", "recurrence", "run", "--as-of", "2026-02-01"]
    )
    assert result.exit_code == 0, result.output
    clone = clone_of(db, goal_id)
    assert clone is not None
    assert f"goal {goal_id} → goal {clone.id} (2026-02-01 to 2026-02-28)" in result.output
    assert "Recurring goals: created 1, ended 0, notified 0, failed 0, skipped 0" in result.output
    again = app.test_cli_runner().invoke(
        args=["goals", "recurrence", "run", "--as-of", "2026-02-01"]
    )
    assert "created 0" in again.output


def test_cli_exits_non_zero_when_a_goal_failed(
    app: Flask, api: ApiClient, host: RecurrenceHost
) -> None:
    create(api, team_id="team-b")
    create(api)
    host.failing_teams = {"team-b"}
    result = app.test_cli_runner().invoke(
        args=["goals", "recurrence", "run", "--as-of", "2026-02-01"]
    )
    assert result.exit_code == 1
    assert "created 1, ended 0, notified 0, failed 1" in result.output
    assert "the calendar of team-b is unavailable" in result.output


def test_cli_rejects_a_bad_date(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["goals", "recurrence", "run", "--as-of", "soon"])
    assert result.exit_code == 2


# -- several processes at once (PostgreSQL) --------------------------------------------------


def _run_in_process(as_of: str, barrier: Any, results: Any) -> None:
    """One runner: its own app, engine and connections, like a worker on another host."""
    app = make_app(RecurrenceHost())
    with app.app_context():
        barrier.wait(60)
        summary = run(app, as_of=d(as_of))
        results.put((summary.created, summary.skipped, summary.failed, summary.errors))
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(conftest.DATABASE_URL is None, reason="needs GOALS_TEST_DATABASE_URL")
def test_four_processes_create_each_clone_exactly_once(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    sources = [create(api, team_id=team) for team in ("team-a", "team-b") for _ in range(12)]
    for goal_id in sources[:12]:
        set_members(db, goal_id, {"rep": "1", "u2": "2", "u3": "3"})
    db.session.commit()
    db.session.remove()

    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(4)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=_run_in_process, args=("2026-04-15", barrier, results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0

    print(f"created, skipped per process: {[(o[0], o[1]) for o in outcomes]}")
    assert sum(o[2] for o in outcomes) == 0, [o[3] for o in outcomes]
    assert sum(o[0] for o in outcomes) == 24 * 3  # February, March, April of each
    per_source = db.session.execute(
        sa.select(Goal.source_goal_id, sa.func.count())
        .where(Goal.source_goal_id.is_not(None))
        .group_by(Goal.source_goal_id)
    ).all()
    assert len(per_source) == 24 * 3
    assert {count for _, count in per_source} == {1}
    goals = all_goals(db)
    assert len(goals) == 24 * 4
    assert sum(g.recurrence == "monthly" for g in goals) == 24
    assert {g.start_date for g in goals if g.recurrence} == {d("2026-04-01")}
    created_events = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(HistoryEntry)
        .where(HistoryEntry.operation == "recurrence", HistoryEntry.field == "goal")
    )
    assert created_events == 24 * 3


def test_recurrence_cannot_be_set_again_on_a_goal_already_cloned(
    app: Flask, api: ApiClient, db: SQLAlchemy
) -> None:
    first = create(api)
    run(app, as_of=d("2026-02-01"))
    response = api.write("PATCH", f"/goals/{first}", json={"recurrence": "monthly"})
    assert response.status_code == 422
    assert "recurrence" in response.json["errors"]["json"]
    latest = all_goals(db)[-1]
    assert latest.recurrence == "monthly"
