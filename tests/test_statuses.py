"""Statuses are the API's alone (SPEC §14): ``no_target``, ``not_started`` and ``missed`` beside
achieved / on track / behind / at risk, decided once in the domain and reported alike by
progress, both widgets and the leaderboard.

Dates: June 2026 from Monday 1 to Friday 26 has 20 business days; the Q1 2026 goal of
test_tracking_api has 64 (January 22, February 20, March 22), 29 of them passed on 2026-02-10.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_tracking_api import AS_OF, Line, SourceHost, section, set_targets, team_sales_goal, widget

from flask_wiseparts_goals.domain.figures import (
    BusinessCalendar,
    Status,
    Thresholds,
    Timeline,
    compute_figures,
    display_figures,
)
from flask_wiseparts_goals.domain.periods import Period, weekdays

JUNE = Period(date(2026, 6, 1), date(2026, 6, 26))
WEEKDAYS = BusinessCalendar(weekdays(Period(date(2026, 5, 1), date(2026, 7, 31))))


def status_of(target: str | None, actual: str | None, as_of: date, period: Period = JUNE):
    """The status by both paths (the objects and the one-pass dict), which must agree."""
    timeline = Timeline.of(period, as_of, WEEKDAYS)
    target_d = None if target is None else Decimal(target)
    actual_d = None if actual is None else Decimal(actual)
    full = compute_figures(target_d, actual_d, timeline)
    fast = display_figures(
        target_d, actual_d, timeline, Thresholds(), target_places=2, actual_places=2
    )
    assert fast["status"] == (None if full.status is None else full.status.value)
    return full.status, fast["achievement_percent"]


@pytest.mark.parametrize(
    ("target", "actual", "as_of", "expected"),
    [
        # A target of 0 or none is no_target, never achieved, whatever was sold.
        ("0", "120", date(2026, 6, 12), Status.NO_TARGET),
        ("0", "0", date(2026, 6, 30), Status.NO_TARGET),
        (None, "400", date(2026, 6, 12), Status.NO_TARGET),
        ("0", None, date(2026, 6, 12), Status.NO_TARGET),
        # Before the first business day: not started (before the start; a Saturday start).
        ("1000", "0", date(2026, 5, 20), Status.NOT_STARTED),
        # achieved needs actual >= target > 0, even before the end.
        ("1000", "1000", date(2026, 6, 12), Status.ACHIEVED),
        ("1000", "1000.01", date(2026, 6, 30), Status.ACHIEVED),
        # On its last day (26 June) 950 of 1,000 is 95 % of the whole expected: behind.
        ("1000", "950", date(2026, 6, 26), Status.BEHIND),
        # The day after it ended: missed, and it stays missed.
        ("1000", "950", date(2026, 6, 27), Status.MISSED),
        ("1000", "999.99", date(2026, 9, 1), Status.MISSED),
        # 10 of 20 business days by Friday 12 June: expected 500; 495 = 99 % on track,
        # 494.99 behind, 399.99 (< 80 % = 400) at risk.
        ("1000", "495", date(2026, 6, 12), Status.ON_TRACK),
        ("1000", "494.99", date(2026, 6, 12), Status.BEHIND),
        ("1000", "399.99", date(2026, 6, 12), Status.AT_RISK),
        # A target but nothing measured: cannot be said.
        ("1000", None, date(2026, 6, 12), None),
    ],
)
def test_status_rules(target, actual, as_of, expected):
    status, achievement = status_of(target, actual, as_of)
    assert status is expected
    if expected is Status.NO_TARGET:
        assert achievement is None


def test_a_period_starting_on_a_saturday_is_not_started_until_monday():
    period = Period(date(2026, 5, 30), date(2026, 6, 26))
    assert status_of("1000", "30", date(2026, 5, 31), period)[0] is Status.NOT_STARTED
    # Monday 1 June: 1 of 20 business days, expected 50; 30 is 60 %: at risk.
    assert status_of("1000", "30", date(2026, 6, 1), period)[0] is Status.AT_RISK


def test_a_weekend_only_period_is_judged_once_it_ended():
    weekend = Period(date(2026, 6, 6), date(2026, 6, 7))
    assert status_of("10", "4", date(2026, 6, 6), weekend)[0] is Status.NOT_STARTED
    assert status_of("10", "4", date(2026, 6, 8), weekend)[0] is Status.MISSED
    assert status_of("10", "10", date(2026, 6, 8), weekend)[0] is Status.ACHIEVED


@pytest.fixture
def host() -> SourceHost:
    return SourceHost()


def test_every_endpoint_reports_the_same_statuses(api, host, db):
    # 1,000.00 over Jan / Feb / Mar: 333.34, 333.33, 333.33 (equal split, remainder first).
    goal = team_sales_goal(api, split_by_team_members=True)
    set_targets(
        db,
        goal["id"],
        {
            ("2026-01-01", "rep"): "200.00",
            ("2026-01-01", "u2"): "133.34",
            ("2026-01-01", "u3"): "0.00",
            ("2026-02-01", "rep"): "0.00",
        },
    )
    host.lines += [
        Line("rep", date(2026, 1, 15), Decimal("220.00")),
        Line("u2", date(2026, 1, 20), Decimal("100.00")),
        Line("u3", date(2026, 1, 21), Decimal("5.00")),
    ]
    progress = api.get(f"/goals/{goal['id']}/progress", query_string={"as_of": AS_OF}).json
    january, february, march = progress["intervals"]
    # January ended with 325.00 of 333.34: missed.
    assert (january["actual"], january["target"], january["status"]) == (
        "325.00",
        "333.34",
        "missed",
    )
    jan = {m["user_id"]: m["status"] for m in january["members"]}
    # rep 220 of 200 achieved; u2 100 of 133.34 missed; u3 has a target of 0.
    assert jan == {"rep": "achieved", "u2": "missed", "u3": "no_target"}
    # February: 7 of 20 business days passed, nothing sold yet: at risk; rep's target is 0.
    assert february["status"] == "at_risk"
    assert {m["user_id"]: m["status"] for m in february["members"]}["rep"] == "no_target"
    # March has not started; its members have no allocation yet (0): no target comes first.
    assert march["status"] == "not_started"
    assert {m["status"] for m in march["members"]} == {"no_target"}
    # The whole range: 325 of 1,000 with 453.13 expected (29 of 64 days) is 71.7 %: at risk.
    assert progress["period"]["status"] == "at_risk"

    board = api.get(
        f"/goals/{goal['id']}/leaderboard",
        query_string={"as_of": AS_OF, "interval_id": january["interval_id"]},
    ).json
    assert {m["user_id"]: m["status"] for m in board["members"]} == jan

    team = widget(api, team_id="team-a")
    [entry] = [e for e in section(team, "sales")["goals"] if e["goal"]["id"] == goal["id"]]
    assert entry["period"]["status"] == "at_risk"
    assert entry["current_interval"]["status"] == february["status"]

    mine = widget(api.as_user("rep"), "/widgets/me")
    [own] = [e for e in section(mine, "sales")["goals"] if e["goal"]["id"] == goal["id"]]
    # rep's current interval (February) has a target of 0.
    assert own["current_interval"]["status"] == "no_target"


def test_a_goal_with_aim_zero_is_no_target_everywhere(api, host):
    goal = team_sales_goal(api, aim="0.00")
    host.lines.append(Line("rep", date(2026, 1, 15), Decimal("50.00")))
    progress = api.get(f"/goals/{goal['id']}/progress", query_string={"as_of": AS_OF}).json
    assert progress["period"]["status"] == "no_target"
    assert progress["period"]["achievement_percent"] is None
    assert {i["status"] for i in progress["intervals"]} == {"no_target"}
    team = widget(api, team_id="team-a")
    [entry] = [e for e in section(team, "sales")["goals"] if e["goal"]["id"] == goal["id"]]
    assert entry["period"]["status"] == "no_target"
    assert entry["current_interval"]["status"] == "no_target"
