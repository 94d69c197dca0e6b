"""Totals the manager can trust (SPEC §14): goals carry ``intervals_total`` and ``unassigned``,
and every 409 lists every value that would change with the right before and after.

The issue's scenario: a quarter goal of 90,000.00 (30,000.00 a month), November and December
lowered to 10,000.00, then 40,000.00 set for one member in October. The page said "Goal aim:
90,000.00 EUR → 60,000.00 EUR" and then "The goal aim becomes 90,000.00 EUR": the goal aim does
not change at all (60,000.00 is the intervals' total, which stays below 90,000.00).
"""

from __future__ import annotations

from conftest import ApiClient, dump_tables, sales_goal
from test_targets import intervals_of, put_allocations, set_interval_aim

QUARTER = {"start_date": "2026-10-01", "end_date": "2026-12-31", "split_into_subperiods": True}


def quarter_goal(api: ApiClient, **overrides) -> dict:
    body = sales_goal(
        team_id="team-a", split_by_team_members=True, aim="90000.00", **QUARTER, **overrides
    )
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def goal_totals(api: ApiClient, goal_id: int) -> tuple[str, str, str]:
    goal = api.get(f"/goals/{goal_id}").json
    return goal["aim"], goal["intervals_total"], goal["unassigned"]


def test_a_new_goal_has_everything_assigned(api):
    goal = quarter_goal(api)
    assert (goal["aim"], goal["intervals_total"], goal["unassigned"]) == (
        "90000.00",
        "90000.00",
        "0.00",
    )
    listed = api.get("/goals").json
    assert [(g["intervals_total"], g["unassigned"]) for g in listed] == [("90000.00", "0.00")]


def test_lowered_intervals_leave_an_unassigned_rest(api):
    goal = quarter_goal(api)
    _october, november, december = intervals_of(api, goal["id"])
    assert set_interval_aim(api, goal["id"], november["id"], "10000.00").status_code == 200
    assert set_interval_aim(api, goal["id"], december["id"], "10000.00").status_code == 200
    # 30,000 + 10,000 + 10,000 = 50,000 of 90,000: 40,000 in no interval.
    assert goal_totals(api, goal["id"]) == ("90000.00", "50000.00", "40000.00")


def test_the_issue_scenario_409_lists_exactly_what_changes(api, db):
    goal = quarter_goal(api)
    october, november, december = intervals_of(api, goal["id"])
    set_interval_aim(api, goal["id"], november["id"], "10000.00")
    set_interval_aim(api, goal["id"], december["id"], "10000.00")
    before = dump_tables(db)

    refused = put_allocations(
        api, goal["id"], october["id"], [{"user_id": "rep", "target": "40000.00"}]
    )
    assert refused.status_code == 409, refused.json
    body = refused.json
    # Only October's aim changes (30,000 → 40,000); the goal aim stays 90,000 since the
    # intervals' total, 40,000 + 10,000 + 10,000 = 60,000, is below it.
    assert body["changes"] == [
        {
            "field": "aim",
            "interval_id": october["id"],
            "start_date": "2026-10-01",
            "end_date": "2026-10-31",
            "before": "30000.00",
            "after": "40000.00",
        }
    ]
    assert body["intervals_total"] == {"before": "50000.00", "after": "60000.00"}
    assert body["unassigned"] == {"before": "40000.00", "after": "30000.00"}
    assert (body["current_aim"], body["proposed_aim"]) == ("90000.00", "90000.00")
    assert dump_tables(db) == before

    applied = put_allocations(
        api, goal["id"], october["id"], [{"user_id": "rep", "target": "40000.00"}], confirm=True
    )
    assert applied.status_code == 200, applied.json
    assert goal_totals(api, goal["id"]) == ("90000.00", "60000.00", "30000.00")


def test_a_409_that_raises_the_goal_lists_the_goal_and_its_stretch_aim(api):
    goal = quarter_goal(api, stretch_aim="95000.00")
    october = intervals_of(api, goal["id"])[0]
    refused = set_interval_aim(api, goal["id"], october["id"], "40000.00")
    assert refused.status_code == 409, refused.json
    # 40,000 + 30,000 + 30,000 = 100,000 > 90,000: the goal aim rises to 100,000 and the
    # stretch aim (95,000, now below it) with it.
    assert [
        (c["field"], c["interval_id"], c["before"], c["after"]) for c in refused.json["changes"]
    ] == [
        ("aim", october["id"], "30000.00", "40000.00"),
        ("aim", None, "90000.00", "100000.00"),
        ("stretch_aim", None, "95000.00", "100000.00"),
    ]
    assert refused.json["intervals_total"] == {"before": "90000.00", "after": "100000.00"}
    assert refused.json["unassigned"] == {"before": "0.00", "after": "0.00"}
    applied = set_interval_aim(api, goal["id"], october["id"], "40000.00", confirm=True)
    assert applied.status_code == 200
    assert goal_totals(api, goal["id"]) == ("100000.00", "100000.00", "0.00")


def test_a_patched_aim_is_reported_from_the_stored_aim(api):
    # Allocations of 30,000 in October; lowering the goal to 60,000 spreads 20,000 a month,
    # below October's allocations: October would stay at 30,000, so the goal becomes 70,000.
    goal = quarter_goal(api)
    october, november, december = intervals_of(api, goal["id"])
    allocations = [{"user_id": "rep", "target": "30000.00"}]
    assert put_allocations(api, goal["id"], october["id"], allocations).status_code == 200
    path = f"/goals/{goal['id']}"
    refused = api.write("PATCH", path, json={"aim": "60000.00"}, etag_of=path)
    assert refused.status_code == 409, refused.json
    changes = {
        (c["field"], c["interval_id"]): (c["before"], c["after"]) for c in refused.json["changes"]
    }
    # Before is what is stored (90,000 and 30,000 a month), not what the request set; October
    # keeps 30,000 (its allocations), November and December get 20,000 each.
    assert changes == {
        ("aim", november["id"]): ("30000.00", "20000.00"),
        ("aim", december["id"]): ("30000.00", "20000.00"),
        ("aim", None): ("90000.00", "70000.00"),
    }
    assert refused.json["current_aim"] == "60000.00"  # the aim the request asks for
    assert refused.json["intervals_total"] == {"before": "90000.00", "after": "70000.00"}


def test_activity_goals_have_nothing_unassigned(api):
    body = sales_goal(
        category="activities",
        metric="count",
        goal_mode="total",
        aim=None,
        description="Visits",
        **QUARTER,
    )
    body.pop("aim")
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    assert (response.json["intervals_total"], response.json["unassigned"]) == (
        response.json["aim"],
        "0",
    )
