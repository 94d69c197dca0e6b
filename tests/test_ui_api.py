"""What the goal UI asks of the API: ``permissions`` in goal responses, names via ``goals_entities``."""

from __future__ import annotations

import pytest
from conftest import ApiClient, sales_goal

ALL = {"update": True, "delete": True, "allocate": True}
NONE = {"update": False, "delete": False, "allocate": False}


@pytest.fixture
def goals(api: ApiClient) -> dict[str, int]:
    """One goal of team-a, one of team-b, one organization-wide (created by the admin)."""
    return {
        name: api.post("/goals", json=sales_goal(description=name, team_id=team)).json["id"]
        for name, team in (("a", "team-a"), ("b", "team-b"), ("org", None))
    }


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("admin", {"a": ALL, "b": ALL, "org": ALL}),
        ("manager", {"a": ALL, "org": NONE}),
        ("rep", {"a": NONE, "org": NONE}),
    ],
)
def test_goal_responses_say_what_the_caller_may_do(api, goals, user, expected):
    caller = api.as_user(user)
    listed = {g["description"]: g["permissions"] for g in caller.get("/goals").json}
    assert listed == expected
    for name, permissions in expected.items():
        assert caller.get(f"/goals/{goals[name]}").json["permissions"] == permissions


def test_permissions_follow_the_host_hook(api, goals, host):
    host.users["manager"]["teams"] = ["team-b"]
    caller = api.as_user("manager")
    assert caller.get(f"/goals/{goals['b']}").json["permissions"] == ALL
    assert caller.get(f"/goals/{goals['org']}").json["permissions"] == NONE


def test_a_patch_answers_the_permissions_after_the_change(api, goals):
    response = api.write("PATCH", f"/goals/{goals['a']}", json={"description": "renamed"})
    assert response.status_code == 200
    assert response.json["permissions"] == ALL


def test_permissions_are_documented_in_openapi(api):
    spec = api.client.get("/api/goals/openapi.json").json
    schemas = spec["components"]["schemas"]
    goal = schemas["Goal"]["properties"]["permissions"]
    assert "description" in goal or "allOf" in goal
    assert set(schemas["Permissions"]["properties"]) == {"update", "delete", "allocate"}
    assert goal.get("readOnly") or schemas["Goal"]["properties"]["permissions"]
