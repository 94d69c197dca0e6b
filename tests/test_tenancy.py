"""Tenancy and authorization: every endpoint of the OpenAPI document × every kind of caller.

Callers: nobody, an admin of the other organization, a rep, a manager of another team, the
manager of the goal's team, an admin. Each cell asserts the status, that no data of another
tenant appears anywhere in the response (bodies, lists, widgets, pagination counts), that the
host's hooks were asked about the caller's organization only, and that a refused write wrote
nothing while an accepted one touched the caller's organization only.

The list of endpoints comes from the spec, so a new endpoint fails
``test_every_endpoint_has_an_expectation`` until it is added to :data:`EXPECTED`.

Read rules: ``DefaultPlugin.goals_authorize`` (organization-wide goals, and goals of the
caller's teams); write rules: the fake host's ``goals_authorize`` (admin everything of its
organization, manager the goals of the teams it leads, rep nothing). Both organizations have a
team called ``team-a``: team ids are the host's opaque ids, unique per organization only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import (
    ORG,
    OTHER_ORG,
    ApiClient,
    FakeHost,
    dump_tables,
    make_app,
    once_per_module,
    sales_goal,
)

from flask_wiseparts_goals import hookimpl
from flask_wiseparts_goals.models import Goal

PREFIX = "/api/goals"
AS_OF = "2026-02-10"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}

# --------------------------------------------------------------------------------------------
# The host: teams per organization, a metric source, and who asked about which organization
# --------------------------------------------------------------------------------------------

TEAMS = {
    ORG: {"team-a": ["rep", "u2", "u3"], "team-b": ["u4", "u5"]},
    # The same team id in the other organization, with other people.
    OTHER_ORG: {"team-a": ["org2-a1", "org2-a2"], "team-x": ["org2-x1", "org2-x2"]},
}


@dataclass
class TenantHost(FakeHost):
    """The fake host with teams per organization, a manager of team-b, and a metric source
    answering for any category; every hook call records the organization it was asked about."""

    asked: list[tuple[str, str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.users["manager-b"] = {"organization_id": ORG, "role": "manager", "teams": ["team-b"]}
        self.users["other-admin"]["teams"] = ["team-a", "team-x"]  # the other org's team-a

    @hookimpl
    def goals_team_members(self, organization_id, team_id, on):
        self.asked.append(("team_members", organization_id, team_id))
        return TEAMS.get(organization_id, {}).get(team_id)

    @hookimpl
    def goals_business_days(self, organization_id, team_id, start, end):
        self.asked.append(("business_days", organization_id, team_id))
        return None

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        self.asked.append(("collect_actuals", organization_id, list(queries)))
        return {
            query.key: {"total": "3", "per_user": {user: "1" for user in query.user_ids or ()}}
            for query in queries
        }


@pytest.fixture
def host() -> TenantHost:
    return TenantHost()


# --------------------------------------------------------------------------------------------
# Endpoints from the spec, and what each caller gets
# --------------------------------------------------------------------------------------------


def spec_operations() -> list[tuple[str, str]]:
    """(METHOD, path under the prefix) of every operation in the plugin's OpenAPI document."""
    app = make_app(TenantHost(), SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        try:
            spec = app.test_client().get(f"{PREFIX}/openapi.json").json
        finally:
            app.extensions["sqlalchemy"].engine.dispose()
    return sorted(
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in spec["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    )


OPERATIONS = spec_operations()

CALLERS = ["nobody", "other-org admin", "rep", "manager of another team", "manager", "admin"]
USER_OF = {
    "nobody": None,
    "other-org admin": "other-admin",
    "rep": "rep",
    "manager of another team": "manager-b",
    "manager": "manager",
    "admin": "admin",
}


def statuses(*codes: int) -> dict[str, int]:
    return dict(zip(CALLERS, codes, strict=True))


#: The goal's own readers and writers. Another organization's goal, and a goal of a team the
#: caller does not belong to, do not exist for the caller (404); a reader may not write (403).
GOAL_READ = statuses(401, 404, 200, 404, 200, 200)
GOAL_WRITE = statuses(401, 404, 403, 404, 200, 200)
EVERYONE = statuses(401, 200, 200, 200, 200, 200)


@dataclass(frozen=True)
class Call:
    status: dict[str, int]
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    #: Writes needing If-Match send the resource's current ETag.
    if_match: bool = False
    #: A ``text/csv`` body instead of JSON.
    csv: str | None = None


INTERVAL = "/goals/{goal_id}/intervals/{interval_id}"
EXPECTED: dict[tuple[str, str], list[Call]] = {
    ("GET", "/meta"): [Call(EVERYONE)],
    # Names come from goals_entities, asked for the caller's organization only.
    ("GET", "/meta/entities"): [
        Call(EVERYONE, {"kind": "team"}),
        Call(EVERYONE, {"kind": "brand", "search": "bosch"}),
    ],
    ("GET", "/goals"): [Call(EVERYONE), Call(EVERYONE, {"team_id": "team-a"})],
    # Writes land in the caller's organization: the other admin creates in its own team-a.
    ("POST", "/goals"): [
        Call(
            statuses(401, 201, 403, 403, 201, 201),
            body=sales_goal(team_id="team-a", description="Made by the matrix"),
        )
    ],
    ("GET", "/goals/{goal_id}"): [Call(GOAL_READ)],
    ("PATCH", "/goals/{goal_id}"): [
        Call(GOAL_WRITE, body={"description": "Renamed"}, if_match=True)
    ],
    ("DELETE", "/goals/{goal_id}"): [
        Call({**GOAL_WRITE, "manager": 204, "admin": 204}, if_match=True)
    ],
    ("GET", "/goals/{goal_id}/intervals"): [Call(GOAL_READ)],
    ("GET", INTERVAL): [Call(GOAL_READ)],
    ("PATCH", INTERVAL): [Call(GOAL_WRITE, body={"aim": "90.00"}, if_match=True)],
    ("POST", INTERVAL + "/copy"): [Call(GOAL_WRITE)],
    ("GET", INTERVAL + "/allocations"): [Call(GOAL_READ)],
    ("PUT", INTERVAL + "/allocations"): [
        Call(
            GOAL_WRITE, body={"allocations": [{"user_id": "rep", "target": "10.00"}]}, if_match=True
        )
    ],
    ("POST", INTERVAL + "/allocations/distribute"): [Call(GOAL_WRITE, body={"strategy": "equal"})],
    ("POST", "/goals/{goal_id}/intervals/distribute"): [
        Call(GOAL_WRITE, body={"strategy": "equal"})
    ],
    ("GET", "/goals/{goal_id}/targets.csv"): [Call(GOAL_READ)],
    ("PUT", "/goals/{goal_id}/targets.csv"): [
        Call(GOAL_WRITE, csv="interval_start,user_id,target\n", if_match=True)
    ],
    ("GET", "/goals/{goal_id}/history"): [Call(GOAL_READ)],
    ("GET", "/goals/{goal_id}/progress"): [Call(GOAL_READ, {"as_of": AS_OF})],
    ("GET", "/goals/{goal_id}/breakdown"): [
        Call(GOAL_READ, {"by": "brand", "as_of": AS_OF, "compare": "previous_year"})
    ],
    ("GET", "/widgets/team"): [
        Call(EVERYONE, {"as_of": AS_OF}),
        # A team's dashboard: for its members, and the admin; the other admin sees its own
        # organization's team-a.
        Call(statuses(401, 200, 200, 403, 200, 200), {"as_of": AS_OF, "team_id": "team-a"}),
        Call(statuses(401, 403, 403, 200, 403, 200), {"as_of": AS_OF, "team_id": "team-b"}),
    ],
    ("GET", "/widgets/me"): [Call(EVERYONE, {"as_of": AS_OF})],
    ("GET", "/goals/{goal_id}/leaderboard"): [Call(GOAL_READ, {"as_of": AS_OF})],
    # Each caller's own settings, in the caller's organization.
    ("GET", "/me/notification-settings"): [Call(EVERYONE)],
    ("PUT", "/me/notification-settings"): [Call(EVERYONE, body={"digest": False})],
}


def test_every_endpoint_has_an_expectation() -> None:
    assert OPERATIONS, "the spec lists no operation"
    missing = sorted(set(OPERATIONS) - set(EXPECTED))
    assert not missing, f"endpoints without a tenancy expectation: {missing}"
    stale = sorted(set(EXPECTED) - set(OPERATIONS))
    assert not stale, f"expectations for endpoints the spec does not have: {stale}"


# --------------------------------------------------------------------------------------------
# Two tenants with distinguishable data
# --------------------------------------------------------------------------------------------


@dataclass
class Tenant:
    organization_id: str
    #: goal id → (team id, deleted)
    goals: dict[int, tuple[str | None, bool]] = field(default_factory=dict)
    interval_ids: set[int] = field(default_factory=set)
    #: Strings only this tenant's data contains (user and team ids, created_by).
    names: set[str] = field(default_factory=set)
    #: A substring of every description of this tenant.
    marker: str = ""

    def visible_to(self, teams: list[str]) -> set[int]:
        """What the default read rule shows: organization-wide goals and the caller's teams'."""
        return {
            goal_id
            for goal_id, (team_id, deleted) in self.goals.items()
            if not deleted and (team_id is None or team_id in teams)
        }


@dataclass
class World:
    tenants: dict[str, Tenant]
    goal_id: int
    interval_id: int


def _create(api: ApiClient, tenant: Tenant, body: dict[str, Any], *, delete: bool = False) -> int:
    body = {**body, "description": f"{tenant.marker} {body['description']}"}
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    goal_id: int = response.json["id"]
    tenant.goals[goal_id] = (body.get("team_id"), delete)
    tenant.interval_ids |= {i["id"] for i in api.get(f"/goals/{goal_id}/intervals").json}
    if delete:
        assert api.write("DELETE", f"/goals/{goal_id}").status_code == 204
    return goal_id


def _allocate(api: ApiClient, goal_id: int, user_id: str, target: str) -> None:
    interval_id = api.get(f"/goals/{goal_id}/intervals").json[0]["id"]
    path = f"/goals/{goal_id}/intervals/{interval_id}/allocations"
    body = {"allocations": [{"user_id": user_id, "target": target}]}
    assert api.write("PUT", path, json=body).status_code == 200


@pytest.fixture
@once_per_module
def world(api: ApiClient) -> World:
    """Both organizations with goals of every kind (team, other team, organization-wide,
    deleted), intervals, allocations and history. The goal under test is org-1's team-a
    sales goal, split by members and into months."""
    mine = Tenant(
        ORG,
        names={"rep", "u2", "u3", "u4", "u5", "admin", "manager", "team-b"},
        marker="ORG1-MARKER",
    )
    theirs = Tenant(
        OTHER_ORG,
        names={"org2-a1", "org2-a2", "org2-x1", "org2-x2", "other-admin", "team-x"},
        marker="ORG2-MARKER",
    )
    split = {"split_by_team_members": True, "split_into_subperiods": True}
    visits = {
        "category": "activities",
        "description": "visits",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
    }
    goal_id = _create(
        api, mine, sales_goal(team_id="team-a", aim="300.00", description="sales", **split)
    )
    _allocate(api, goal_id, "rep", "40.00")
    _create(
        api,
        mine,
        sales_goal(
            team_id="team-b", category="orders", metric="count", aim="90", description="orders"
        ),
    )
    _create(api, mine, {**visits, "goal_mode": "per_business_day", "daily_target": "2"})
    _create(api, mine, sales_goal(description="deleted"), delete=True)

    other = api.as_user("other-admin")
    their_goal = _create(
        other, theirs, sales_goal(team_id="team-a", aim="500.00", description="sales", **split)
    )
    _allocate(other, their_goal, "org2-a1", "70.00")
    _create(other, theirs, {**visits, "team_id": "team-x", "split_by_team_members": True})
    _create(other, theirs, sales_goal(description="organization-wide"))
    _create(other, theirs, sales_goal(team_id="team-x", description="deleted"), delete=True)

    interval_id = api.get(f"/goals/{goal_id}/intervals").json[0]["id"]
    return World({ORG: mine, OTHER_ORG: theirs}, goal_id, interval_id)


# --------------------------------------------------------------------------------------------
# Scanning responses for the other tenant's data
# --------------------------------------------------------------------------------------------


def foreign_data(node: Any, tenants: list[Tenant], where: str = "$") -> Iterator[str]:
    """Where ``node`` shows data of one of ``tenants``: its description marker, user and team
    ids, goal ids (as a goal's ``id`` or any ``goal_id``) and interval ids."""
    goal_ids = {goal_id for tenant in tenants for goal_id in tenant.goals}
    interval_ids = {interval_id for tenant in tenants for interval_id in tenant.interval_ids}
    names = {name for tenant in tenants for name in tenant.names}
    markers = [tenant.marker for tenant in tenants]
    if isinstance(node, dict):
        is_goal = "category" in node and "id" in node
        is_interval = "business_days" in node and "id" in node
        for key, value in node.items():
            at = f"{where}.{key}"
            names_goal = key in ("goal_id", "source_goal_id") or (key == "id" and is_goal)
            names_interval = key == "interval_id" or (key == "id" and is_interval)
            if names_goal and value in goal_ids:
                yield f"{at} = goal {value}"
            if names_interval and value in interval_ids:
                yield f"{at} = interval {value}"
            if key in names:
                yield f"{at} (a key)"
            yield from foreign_data(value, tenants, at)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from foreign_data(item, tenants, f"{where}[{index}]")
    elif isinstance(node, str) and (node in names or any(m in node for m in markers)):
        yield f"{where} = {node!r}"


def rows_of(db: Any, organization_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every goals_* row of one organization."""
    goal_ids = set(
        db.session.scalars(sa.select(Goal.id).where(Goal.organization_id == organization_id))
    )
    rows = dump_tables(db)
    index = {"goals_goal": 0}
    result = {}
    for table, table_rows in rows.items():
        columns = [c.name for c in Goal.metadata.tables[table].columns]
        position = index.get(table, columns.index("goal_id") if "goal_id" in columns else None)
        result[table] = [
            row for row in table_rows if position is not None and row[position] in goal_ids
        ]
    return result


# --------------------------------------------------------------------------------------------
# The matrix
# --------------------------------------------------------------------------------------------


def _fill(path: str, world: World) -> str:
    return path.format(goal_id=world.goal_id, interval_id=world.interval_id)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_tenancy_matrix(api, db, host, world, operation, caller) -> None:
    calls = EXPECTED.get(operation)
    if calls is None:
        pytest.fail(f"{operation} has no expectation in EXPECTED")
    method, template = operation
    user = USER_OF[caller]
    own = ORG if user is None else host.users[user]["organization_id"]
    foreign = [t for org, t in world.tenants.items() if user is None or org != own]
    path = _fill(template, world)

    for call in calls:
        headers = {}
        if call.if_match:
            headers["If-Match"] = api.get(path).headers["ETag"]  # the real, current one
        db.session.rollback()
        before = dump_tables(db)
        foreign_before = {t.organization_id: rows_of(db, t.organization_id) for t in foreign}
        host.asked.clear()

        if call.csv is not None:
            headers["Content-Type"] = "text/csv"
            payload: dict[str, Any] = {"data": call.csv.encode()}
        else:
            payload = {"json": call.body}
        response = api.as_user(user).open(
            method, path, query_string=call.query, headers=headers, **payload
        )

        expected = call.status[caller]
        described = f"{method} {path}?{call.query} as {caller}"
        assert response.status_code == expected, (described, response.get_data(as_text=True)[:500])
        text = response.get_data(as_text=True)
        if response.mimetype == "text/csv":
            body = list(csv.reader(io.StringIO(text)))  # every cell is checked
        else:
            body = json.loads(text or "null")
        leaks = list(foreign_data(body, foreign))
        assert not leaks, (described, leaks)
        if user is None:
            assert host.asked == [], described  # nothing was asked about anybody
        for hook, organization_id, detail in host.asked:
            assert organization_id == own, (described, hook, organization_id)
            if hook == "collect_actuals":
                for query in detail:
                    assert query.goal_id in world.tenants[own].goals, (described, query)
                    assert not set(query.user_ids or ()) & {n for t in foreign for n in t.names}

        db.session.rollback()
        if response.status_code >= 400 or method == "GET":
            assert dump_tables(db) == before, described
        for tenant in foreign:
            assert rows_of(db, tenant.organization_id) == foreign_before[tenant.organization_id]

        if response.status_code == 200 and method == "GET" and template == "/goals":
            _check_list(response, world.tenants[own], host.users[user]["teams"], call.query)
        if response.status_code == 200 and template == "/widgets/team":
            shown = {e["goal"]["id"] for c in body["categories"] for e in c["goals"]}
            teams = host.users[user]["teams"]
            if "team_id" in call.query:
                teams = [t for t in teams if t == call.query["team_id"]]
                assert shown == {
                    g
                    for g in world.tenants[own].visible_to(teams)
                    if world.tenants[own].goals[g][0] == call.query["team_id"]
                }
            else:
                assert shown == world.tenants[own].visible_to(teams)
        if response.status_code == 201:
            created = db.session.get(Goal, body["id"])
            assert created.organization_id == own


def _check_list(response: Any, tenant: Tenant, teams: list[str], query: dict[str, str]) -> None:
    """``GET /goals`` shows exactly what the read rule allows, and counts nothing else."""
    visible = tenant.visible_to(teams)
    if "team_id" in query:
        visible = {g for g in visible if tenant.goals[g][0] == query["team_id"]}
    assert {goal["id"] for goal in response.json} == visible
    assert json.loads(response.headers["X-Pagination"])["total"] == len(visible)


def test_history_and_pagination_count_only_the_goal(api, world) -> None:
    """A page's total counts the goal's own history rows, not the other organization's."""
    response = api.get(f"/goals/{world.goal_id}/history", query_string={"page_size": 1})
    total = json.loads(response.headers["X-Pagination"])["total"]
    everything = api.get(f"/goals/{world.goal_id}/history", query_string={"page_size": 500}).json
    assert total == len(everything) > 0
    assert {entry["goal_id"] for entry in everything} == {world.goal_id}
