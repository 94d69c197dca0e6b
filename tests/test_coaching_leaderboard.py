"""``GET /goals/{id}/leaderboard``: members ranked by achievement %, then actual (SPEC §10).

Q1 2026, 64 business days; on 2026-02-10, 29 have passed (see test_tracking_api).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_tracking_api import AS_OF, Line, SourceHost, set_targets, team_sales_goal


@pytest.fixture
def host() -> SourceHost:
    return SourceHost()


def board(api, goal_id: int, **params) -> dict:
    params.setdefault("as_of", AS_OF)
    response = api.get(f"/goals/{goal_id}/leaderboard", query_string=params)
    assert response.status_code == 200, response.json
    return response.json


def ranks(body: dict) -> list[tuple[int | None, str, str | None, str | None]]:
    return [
        (m["rank"], m["user_id"], m["achievement_percent"], m["actual"]) for m in body["members"]
    ]


def test_ranked_by_achievement_then_actual_with_ties(api, host, db):
    goal = team_sales_goal(api, split_by_team_members=True)
    set_targets(
        db,
        goal["id"],
        {
            ("2026-01-01", "rep"): "100.00",
            ("2026-01-01", "u2"): "200.00",
            ("2026-01-01", "u3"): "100.00",
        },
    )
    host.lines += [
        Line("rep", date(2026, 1, 10), Decimal("50.00")),  # 50 %
        Line("u2", date(2026, 1, 12), Decimal("100.00")),  # 50 %, larger actual
        Line("u3", date(2026, 1, 12), Decimal("50.00")),  # 50 %, same actual as rep: a tie
    ]
    body = board(api, goal["id"])
    assert body["interval_id"] is None
    assert body["start_date"] == "2026-01-01" and body["end_date"] == "2026-03-31"
    assert ranks(body) == [
        (1, "u2", "50.0", "100.00"),
        (2, "rep", "50.0", "50.00"),
        (2, "u3", "50.0", "50.00"),
    ]
    first = body["members"][0]
    assert first["target"] == "200.00"
    assert first["forecast"] == "220.69"  # 100 * 64 / 29
    assert first["status"] == "on_track"  # expected 200 * 29/64 = 90.63


def test_interval_leaderboard_and_foreign_interval(api, host, db):
    goal = team_sales_goal(api, split_by_team_members=True)
    other = team_sales_goal(api)
    set_targets(db, goal["id"], {("2026-02-01", "rep"): "10.00", ("2026-02-01", "u2"): "40.00"})
    host.lines += [
        Line("rep", date(2026, 1, 10), Decimal("500.00")),  # January: not in February's board
        Line("rep", date(2026, 2, 2), Decimal("5.00")),  # 50 %
        Line("u2", date(2026, 2, 3), Decimal("30.00")),  # 75 %
    ]
    intervals = api.get(f"/goals/{goal['id']}/intervals").json
    february = next(i for i in intervals if i["start_date"] == "2026-02-01")
    body = board(api, goal["id"], interval_id=february["id"])
    assert body["interval_id"] == february["id"]
    assert ranks(body)[:2] == [(1, "u2", "75.0", "30.00"), (2, "rep", "50.0", "5.00")]
    # u3 has a target of 0: no percentage, ranked after every member with one.
    assert ranks(body)[2] == (3, "u3", None, "0.00")

    foreign = api.get(f"/goals/{other['id']}/intervals").json[0]["id"]
    response = api.get(
        f"/goals/{goal['id']}/leaderboard", query_string={"interval_id": foreign, "as_of": AS_OF}
    )
    assert response.status_code == 422
    assert "interval_id" in response.json["errors"]["query"]


def test_member_who_left_is_listed_last_without_rank(api, host, db):
    goal = team_sales_goal(api, split_by_team_members=True)
    set_targets(db, goal["id"], {("2026-01-01", "rep"): "100.00", ("2026-01-01", "u3"): "100.00"})
    host.lines += [
        Line("u3", date(2026, 1, 5), Decimal("90.00")),
        Line("rep", date(2026, 1, 5), Decimal("10.00")),
    ]
    host.teams["team-a"] = ["rep", "u2"]  # u3 left the team: still holds an allocation
    body = board(api, goal["id"])
    assert [(m["rank"], m["user_id"], m["counted"]) for m in body["members"]] == [
        (1, "rep", True),
        (2, "u2", True),
        (None, "u3", False),
    ]
    assert body["members"][2]["actual"] is None


def test_members_without_targets_ranked_by_actual(api, host):
    goal = team_sales_goal(api)  # not split by members: nobody has a target
    host.lines += [
        Line("u3", date(2026, 1, 5), Decimal("7.00")),
        Line("rep", date(2026, 1, 6), Decimal("9.00")),
    ]
    body = board(api, goal["id"])
    assert ranks(body) == [
        (1, "rep", None, "9.00"),
        (2, "u3", None, "7.00"),
        (3, "u2", None, "0.00"),
    ]
    # SPEC §14: a member without a target is "no_target" (was null).
    assert all(m["target"] is None and m["status"] == "no_target" for m in body["members"])


def test_leaderboard_is_confined_to_the_organization_and_in_openapi(api, host):
    goal = team_sales_goal(api)
    response = api.as_user("other-admin").get(f"/goals/{goal['id']}/leaderboard")
    assert response.status_code == 404
    spec = api.get("/openapi.json").json
    operation = spec["paths"]["/api/goals/goals/{goal_id}/leaderboard"]["get"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {
        "as_of",
        "interval_id",
    }
    assert "200" in operation["responses"]


def test_leaderboard_rejects_bad_interval_id(api, host):
    goal = team_sales_goal(api)
    response = api.get(f"/goals/{goal['id']}/leaderboard?interval_id=0")
    assert response.status_code == 422
    assert "interval_id" in response.json["errors"]["query"]
