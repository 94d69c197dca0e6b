"""What the goal UI asks of the API: ``permissions`` in goal responses, names via ``goals_entities``."""

from __future__ import annotations

import pytest
from conftest import ORG, ApiClient, FakeHost, make_app, sales_goal

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


# --- names: goals_entities and GET /meta/entities -------------------------------------------


def test_a_search_finds_names_of_the_callers_organization(api):
    response = api.get("/meta/entities?kind=brand&search=BOS")
    assert response.status_code == 200
    assert response.json == {
        "kind": "brand",
        "named": True,
        "entities": [{"id": "brand-bosch", "name": "Bosch"}],
    }
    other = api.as_user("other-admin").get("/meta/entities?kind=brand&search=bosch").json
    assert other["entities"] == [{"id": "brand-bosch-x", "name": "Bosch (other org)"}]


def test_ids_are_named_in_the_order_asked_and_unknown_ids_keep_their_id(api):
    response = api.get("/meta/entities?kind=team&ids=team-b&ids=team-zz&ids=team-a&ids=team-b")
    assert response.json["entities"] == [
        {"id": "team-b", "name": "Team B"},
        {"id": "team-zz", "name": "team-zz"},
        {"id": "team-a", "name": "Team A"},
    ]


def test_names_follow_the_host_tables(api, host):
    host.names[ORG]["brand"]["brand-bosch"] = "Robert Bosch"
    names = api.get("/meta/entities?kind=brand&limit=2").json["entities"]
    assert names == [{"id": "brand-febi", "name": "Febi"}, {"id": "brand-mahle", "name": "Mahle"}]
    assert api.get("/meta/entities?kind=brand&ids=brand-bosch").json["entities"] == [
        {"id": "brand-bosch", "name": "Robert Bosch"}
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=warehouse", "kind"),
        ("", "kind"),
        ("kind=brand&limit=0", "limit"),
        ("kind=brand&limit=201", "limit"),
        ("kind=brand&search=", "search"),
    ],
)
def test_bad_entity_queries_are_a_422_naming_the_field(api, query, field):
    response = api.get(f"/meta/entities?{query}")
    assert response.status_code == 422
    assert field in response.json["errors"]["query"]


def test_entities_need_an_identity(api):
    assert api.as_user(None).get("/meta/entities?kind=brand").status_code == 401


def test_without_the_hook_ids_are_their_own_names():
    app = make_app(FakeHost())  # not installed: its goals_entities defers (returns None)
    client = ApiClient(app)
    try:
        with app.app_context():
            response = client.get("/meta/entities?kind=customer&ids=cust-1&ids=cust-2")
            assert response.status_code == 200, response.json
            assert response.json == {
                "kind": "customer",
                "named": False,
                "entities": [
                    {"id": "cust-1", "name": "cust-1"},
                    {"id": "cust-2", "name": "cust-2"},
                ],
            }
            assert client.get("/meta/entities?kind=customer&search=c").json["entities"] == []
    finally:
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
