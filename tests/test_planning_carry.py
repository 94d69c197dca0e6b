"""Shortfall carry-forward (SPEC §11): applied once when an interval ends, by the planning job."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import conftest
import pytest
import sqlalchemy as sa
from conftest import dump_tables, make_app, sales_goal
from test_planning_distribute import SalesHost

from flask_wiseparts_goals.jobs import run_job
from flask_wiseparts_goals.models import HistoryEntry


@pytest.fixture(autouse=True)
def _planned_in_december(freeze_now):
    """The goals are set up before the quarter starts (the job's days come from ``as_of``)."""
    freeze_now(datetime(2025, 12, 20, 12, tzinfo=UTC))


@pytest.fixture
def host() -> SalesHost:
    host = SalesHost()
    host.daily = {date(2026, 1, 15): Decimal(79), date(2026, 2, 15): Decimal(100)}
    return host


def quarter_goal(api, policy, **overrides):
    body = sales_goal(
        metric="quantity", aim="300", split_into_subperiods=True, shortfall_policy=policy
    )
    body.update(overrides)
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    assert response.json["shortfall_policy"] == policy
    return response.json


def state(api, goal_id):
    intervals = api.get(f"/goals/{goal_id}/intervals").json
    return [(i["aim"], i["original_aim"]) for i in intervals]


def carries(api, goal_id):
    history = api.get(f"/goals/{goal_id}/history").json
    return [
        (row["interval_start"], Decimal(row["old_value"]), Decimal(row["new_value"]))
        for row in history
        if row["operation"] == "carry_forward"
    ]


def run(app, day):
    summary = run_job(app, "planning", as_of=day)
    assert summary.ok, summary.errors
    return summary


# Jan, Feb, Mar 100 each. January sells 79 (shortfall 21), February 100.
EXPECTED = {
    "none": {
        date(2026, 2, 1): [("100", "100"), ("100", "100"), ("100", "100")],
        date(2026, 3, 1): [("100", "100"), ("100", "100"), ("100", "100")],
    },
    # Feb 1: January's 21 to February (121). Mar 1: February misses 21 of 121 → March 121.
    "next_interval": {
        date(2026, 2, 1): [("79", "100"), ("121", "100"), ("100", "100")],
        date(2026, 3, 1): [("79", "100"), ("100", "100"), ("121", "100")],
    },
    # Feb 1: 21 over February and March: 11, 10. Mar 1: February misses 11 of 111 → March 121
    # (March had started at 110: its original aim).
    "spread_remaining": {
        date(2026, 2, 1): [("79", "100"), ("111", "100"), ("110", "110")],
        date(2026, 3, 1): [("79", "100"), ("100", "100"), ("121", "110")],
    },
}


@pytest.mark.parametrize("policy", list(EXPECTED))
def test_carry_forward_across_three_intervals_run_twice(api, app, db, policy):
    goal = quarter_goal(api, policy)
    for day, expected in EXPECTED[policy].items():
        run(app, day)
        assert state(api, goal["id"]) == expected, day
        history = carries(api, goal["id"])
        tables = dump_tables(db)
        run(app, day)  # the same day again: nothing carried twice
        assert state(api, goal["id"]) == expected, day
        assert carries(api, goal["id"]) == history
        assert dump_tables(db) == tables
    run(app, date(2026, 4, 1))  # March is the last interval: nowhere to carry
    assert state(api, goal["id"]) == EXPECTED[policy][date(2026, 3, 1)]
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "300"
    if policy == "next_interval":
        assert carries(api, goal["id"]) == [
            ("2026-01-01", 100, 79),
            ("2026-02-01", 100, 121),
            ("2026-02-01", 121, 100),
            ("2026-03-01", 100, 121),
        ]
    if policy == "none":
        assert carries(api, goal["id"]) == []


def test_catch_up_after_downtime_carries_in_order(api, app):
    goal = quarter_goal(api, "spread_remaining")
    summary = run(app, date(2026, 3, 5))  # January and February ended, nobody ran the job
    assert (summary.carried, summary.settled) == (2, 0)
    # January: 21 → 11, 10; February: 111 − 100 = 11 → March 110 + 11.
    assert [aim for aim, _ in state(api, goal["id"])] == ["79", "100", "121"]


def test_an_achieved_interval_is_settled_without_history(api, app, host):
    host.daily[date(2026, 1, 15)] = Decimal(150)
    goal = quarter_goal(api, "next_interval")
    summary = run(app, date(2026, 2, 1))
    assert (summary.carried, summary.settled) == (0, 1)
    assert carries(api, goal["id"]) == []
    assert [aim for aim, _ in state(api, goal["id"])] == ["100", "100", "100"]


def test_without_a_metric_source_nothing_is_settled_and_a_later_run_catches_up(api, app, host):
    goal = quarter_goal(api, "next_interval")
    host.answers = False
    summary = run(app, date(2026, 2, 1))
    assert summary.unmeasured == 1
    assert [aim for aim, _ in state(api, goal["id"])] == ["100", "100", "100"]
    host.answers = True
    run(app, date(2026, 2, 1))
    assert [aim for aim, _ in state(api, goal["id"])] == ["79", "121", "100"]


def test_the_carry_changes_the_intervals_etag(api, app):
    goal = quarter_goal(api, "next_interval")
    etag = api.get(f"/goals/{goal['id']}/intervals").headers["ETag"]
    run(app, date(2026, 2, 1))
    assert api.get(f"/goals/{goal['id']}/intervals").headers["ETag"] != etag


def test_split_goals_keep_members_targets(api, app):
    goal = quarter_goal(api, "next_interval", team_id="team-a", split_by_team_members=True)
    january = api.get(f"/goals/{goal['id']}/intervals").json[0]
    path = f"/goals/{goal['id']}/intervals/{january['id']}/allocations"
    api.post(path + "/distribute", json={"strategy": "equal"})  # 34, 33, 33
    run(app, date(2026, 2, 1))
    january, february, _ = api.get(f"/goals/{goal['id']}/intervals").json
    assert (january["aim"], january["allocated"], january["unallocated"]) == ("79", "100", "-21")
    assert (february["aim"], february["allocated"], february["unallocated"]) == ("121", "0", "121")


def test_the_cli_runs_the_job(app, api):
    goal = quarter_goal(api, "next_interval")
    result = app.test_cli_runner().invoke(
        args=["goals", "planning", "run", "--as-of", "2026-02-01"]
    )
    assert result.exit_code == 0, result.output
    assert "carried 1" in result.output
    assert [aim for aim, _ in state(api, goal["id"])] == ["79", "121", "100"]


def test_policy_validation_and_history(api, db):
    response = api.post(
        "/goals",
        json={
            "category": "activities",
            "description": "Visits",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "goal_mode": "total",
            "shortfall_policy": "next_interval",
        },
    )
    assert response.status_code == 422
    assert "shortfall_policy" in response.json["errors"]["json"]
    response = api.post("/goals", json=sales_goal(shortfall_policy="later"))
    assert response.status_code == 422
    goal = quarter_goal(api, "none")
    response = api.write(
        "PATCH", f"/goals/{goal['id']}", json={"shortfall_policy": "spread_remaining"}
    )
    assert response.status_code == 200, response.json
    assert response.json["shortfall_policy"] == "spread_remaining"
    history = api.get(f"/goals/{goal['id']}/history").json
    assert any(
        row["field"] == "shortfall_policy" and row["new_value"] == "spread_remaining"
        for row in history
    )


def test_the_scheduled_job_opens_its_own_app_context(app, api, monkeypatch):
    from flask_wiseparts_goals import scheduler

    goal = quarter_goal(api, "next_interval")
    monkeypatch.setattr(
        scheduler,
        "run_job",
        lambda app_, name: run_job(app_, name, as_of=date(2026, 2, 1)),
    )
    summary = scheduler.planning_job(app.import_name)
    assert summary.carried == 1
    assert [aim for aim, _ in state(api, goal["id"])] == ["79", "121", "100"]


# -- several processes at once (PostgreSQL) --------------------------------------------------


def _plan_in_process(as_of: date, barrier: Any, results: Any) -> None:
    """One runner: its own app, engine and connections, like a worker on another host."""
    host = SalesHost()
    host.daily = {date(2026, 1, 15): Decimal(79), date(2026, 2, 15): Decimal(100)}
    app = make_app(host)
    with app.app_context():
        barrier.wait(60)
        summary = run_job(app, "planning", as_of=as_of)
        results.put((summary.carried, summary.skipped, summary.failed, summary.errors))
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(conftest.DATABASE_URL is None, reason="needs GOALS_TEST_DATABASE_URL")
def test_four_processes_carry_each_shortfall_exactly_once(api, db):
    goals = [quarter_goal(api, "spread_remaining")["id"] for _ in range(12)]
    db.session.remove()
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(4)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=_plan_in_process, args=(date(2026, 3, 5), barrier, results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert sum(o[2] for o in outcomes) == 0, [o[3] for o in outcomes]
    assert sum(o[0] for o in outcomes) == 12 * 2  # January's and February's of each goal
    for goal_id in goals:
        assert [aim for aim, _ in state(api, goal_id)] == ["79", "100", "121"]
    carried = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(HistoryEntry)
        .where(HistoryEntry.operation == "carry_forward")
    )
    assert carried == 12 * (3 + 2)  # Jan → Feb, Mar; Feb → Mar (one row per interval changed)
