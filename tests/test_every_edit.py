"""Every edit works with any host (SPEC §6): each goal field PATCH accepts, changed on every
kind of goal, while the host's hooks (members, business days, identity) query the host's
tables in the request's session (the suite's ``FakeHost`` after ``install``).

A host that reads its database during a write triggers SQLAlchemy's autoflush; half-built
intervals and allocations must never reach the database that way.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ApiClient

SALES = {
    "category": "sales",
    "description": "Q1 revenue",
    "start_date": "2026-01-01",
    "end_date": "2026-03-31",
    "metric": "net",
    "aim": "900.00",
}
ACTIVITIES_TOTAL = {
    "category": "activities",
    "description": "Q1 visits",
    "start_date": "2026-01-01",
    "end_date": "2026-03-31",
    "goal_mode": "total",
}
ACTIVITIES_PER_DAY = {**ACTIVITIES_TOTAL, "goal_mode": "per_business_day", "daily_target": "2"}

KINDS: dict[str, dict[str, Any]] = {
    "sales single": SALES,
    "sales months": {**SALES, "split_into_subperiods": True},
    "sales months team": {**SALES, "split_into_subperiods": True, "team_id": "team-a"},
    "sales months members": {
        **SALES,
        "split_into_subperiods": True,
        "team_id": "team-a",
        "split_by_team_members": True,
    },
    "activities total months": {**ACTIVITIES_TOTAL, "split_into_subperiods": True},
    "activities per day months team": {
        **ACTIVITIES_PER_DAY,
        "split_into_subperiods": True,
        "team_id": "team-a",
    },
    "activities per day months members": {
        **ACTIVITIES_PER_DAY,
        "split_into_subperiods": True,
        "team_id": "team-a",
        "split_by_team_members": True,
    },
}

EDITS: dict[str, dict[str, Any]] = {
    "description": {"description": "Renamed"},
    "dates": {"start_date": "2026-01-01", "end_date": "2026-04-30"},
    "split into months on": {"split_into_subperiods": True},
    "split into months off": {"split_into_subperiods": False},
    "team": {"team_id": "team-b"},
    "team and members": {"team_id": "team-a", "split_by_team_members": True},
    "members off": {"split_by_team_members": False},
    "organization-wide": {"team_id": None, "split_by_team_members": False},
}


def _patch(api: ApiClient, goal_id: int, body: dict[str, Any]):
    return api.write("PATCH", f"/goals/{goal_id}?confirm=true", json=body)


@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_every_edit_of_every_kind_of_goal(api: ApiClient, kind, edit):
    created = api.post("/goals", json=kind)
    assert created.status_code == 201, created.json
    goal_id = created.json["id"]
    body = dict(edit)
    if body.get("split_by_team_members") and "team_id" not in body and not kind.get("team_id"):
        body["team_id"] = "team-a"
    response = _patch(api, goal_id, body)
    assert response.status_code == 200, response.json
    for key, value in body.items():
        assert response.json[key] == value, key
    intervals = api.get(f"/goals/{goal_id}/intervals").json
    assert intervals[0]["start_date"] == response.json["start_date"]
    assert intervals[-1]["end_date"] == response.json["end_date"]
    if response.json["split_by_team_members"]:
        allocations = api.get(f"/goals/{goal_id}/intervals/{intervals[0]['id']}/allocations")
        assert allocations.status_code == 200
        members = {"team-a": ["rep", "u2", "u3"], "team-b": ["u4", "u5"]}[response.json["team_id"]]
        assert [a["user_id"] for a in allocations.json["allocations"]] == members


@pytest.mark.parametrize("team_id", ["team-b", None], ids=["another team", "organization-wide"])
def test_a_manager_cannot_move_a_goal_out_of_their_reach(api: ApiClient, db, team_id):
    from conftest import dump_tables

    goal = api.post("/goals", json={**SALES, "team_id": "team-a"})
    assert goal.status_code == 201
    manager = api.as_user("manager")
    before = dump_tables(db)
    response = manager.write("PATCH", f"/goals/{goal.json['id']}", json={"team_id": team_id})
    assert response.status_code == 403, response.json
    assert dump_tables(db) == before
    # the same manager may still change what stays in their team
    renamed = manager.write("PATCH", f"/goals/{goal.json['id']}", json={"description": "Mine"})
    assert renamed.status_code == 200


def _interval_aim(api: ApiClient, goal_id: int, interval_id: int, aim: str, confirm: bool):
    path = f"/goals/{goal_id}/intervals/{interval_id}"
    query = "?confirm=true" if confirm else ""
    return api.write("PATCH", path + query, json={"aim": aim}, etag_of=path)


def test_a_confirmed_cascade_raises_the_stretch_aim_and_the_goal_stays_editable(api: ApiClient):
    goal = api.post(
        "/goals", json={**SALES, "split_into_subperiods": True, "stretch_aim": "950.00"}
    ).json
    january = api.get(f"/goals/{goal['id']}/intervals").json[0]
    refused = _interval_aim(api, goal["id"], january["id"], "400.00", confirm=False)
    assert refused.status_code == 409
    assert refused.json["current_stretch_aim"] == "950.00"
    assert refused.json["proposed_stretch_aim"] == "1000.00"
    assert refused.json["proposed_aim"] == "1000.00"
    assert api.get(f"/goals/{goal['id']}").json["stretch_aim"] == "950.00"
    applied = _interval_aim(api, goal["id"], january["id"], "400.00", confirm=True)
    assert applied.status_code == 200, applied.json
    after = api.get(f"/goals/{goal['id']}").json
    assert (after["aim"], after["stretch_aim"]) == ("1000.00", "1000.00")
    edited = api.write("PATCH", f"/goals/{goal['id']}", json={"description": "Still valid"})
    assert edited.status_code == 200, edited.json
    history = api.get(f"/goals/{goal['id']}/history?page_size=500").json
    assert any(
        h["field"] == "stretch_aim" and (h["old_value"], h["new_value"]) == ("950.00", "1000.00")
        for h in history
    )


def test_the_409_of_an_interval_copy_lists_every_interval_it_would_change(api: ApiClient, db):
    from conftest import dump_tables

    goal = api.post("/goals", json={**SALES, "split_into_subperiods": True}).json
    january, february, march = api.get(f"/goals/{goal['id']}/intervals").json
    assert _interval_aim(api, goal["id"], january["id"], "400.00", confirm=True).status_code == 200
    before = dump_tables(db)
    refused = api.post(f"/goals/{goal['id']}/intervals/{january['id']}/copy")
    assert refused.status_code == 409, refused.json
    assert dump_tables(db) == before
    assert [
        (i["interval_id"], i["current_aim"], i["proposed_aim"]) for i in refused.json["intervals"]
    ] == [(february["id"], "300.00", "400.00"), (march["id"], "300.00", "400.00")]
    assert (refused.json["current_aim"], refused.json["proposed_aim"]) == ("1000.00", "1200.00")
    confirmed = api.post(f"/goals/{goal['id']}/intervals/{january['id']}/copy?confirm=true")
    assert confirmed.status_code == 200, confirmed.json
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "1200.00"
