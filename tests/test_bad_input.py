"""A bad-input corpus for every write endpoint.

One table: each case is one request to one write endpoint that must be refused with a clear
4xx in the JSON error shape, naming the offending field path in ``errors`` when it is a
validation error, and leaving every ``goals_*`` table exactly as it was. The kinds of bad input:
malformed JSON (400), a body that is not JSON (415), wrong types, numbers beyond the columns'
precision, too many decimals, 10,000-character strings, text no database can store, empty and
duplicated lists, unknown fields, dates out of order, nulls where none is allowed, a bad query
string (422), and ids that are another organization's or nobody's (404).

Empty lists are refused where they make no sense (``allocations: []``) and accepted where they
mean "no restriction" (filters, ``locked_user_ids``): those are asserted at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import ORG, OTHER_ORG, ApiClient, FakeHost, dump_tables, once_per_module, sales_goal

from flask_wiseparts_goals import hookimpl


@dataclass
class TenantHost(FakeHost):
    """The fake host, with each team known in one organization only: a team id of the other
    organization is as unknown as a made-up one."""

    team_organizations: dict[str, str] = field(
        default_factory=lambda: {"team-a": ORG, "team-b": ORG, "team-x": OTHER_ORG}
    )

    @hookimpl
    def goals_team_members(self, organization_id, team_id, on):
        if self.team_organizations.get(team_id) != organization_id:
            return None
        return FakeHost.goals_team_members(self, organization_id, team_id, on)


@pytest.fixture
def host() -> TenantHost:
    return TenantHost()


# --------------------------------------------------------------------------------------------
# The endpoints, their valid request, and the world they act on
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    #: ``{goal}`` and ``{interval}`` are filled from the world (or a case's ``ids``).
    path: str
    #: A valid body; the cases change it. ``None``: the endpoint takes no body.
    body: dict[str, Any] | None
    #: Whether writes need ``If-Match`` (the ETag of ``GET path``).
    etag: bool


ALLOCATIONS = "/goals/{goal}/intervals/{interval}/allocations"
ENDPOINTS = {
    "POST /goals": Endpoint("POST", "/goals", sales_goal(description="New"), etag=False),
    "PATCH /goals/{id}": Endpoint("PATCH", "/goals/{goal}", {"description": "Renamed"}, True),
    "DELETE /goals/{id}": Endpoint("DELETE", "/goals/{goal}", None, etag=True),
    "PATCH interval": Endpoint(
        "PATCH", "/goals/{goal}/intervals/{interval}", {"aim": "90.00"}, True
    ),
    "POST copy": Endpoint("POST", "/goals/{goal}/intervals/{interval}/copy", {}, etag=False),
    "PUT allocations": Endpoint(
        "PUT", ALLOCATIONS, {"allocations": [{"user_id": "rep", "target": "10.00"}]}, etag=True
    ),
    "POST distribute": Endpoint("POST", ALLOCATIONS + "/distribute", {"strategy": "equal"}, False),
}
WITH_BODY = [name for name, endpoint in ENDPOINTS.items() if endpoint.body is not None]
GOAL_SCOPED = [name for name in ENDPOINTS if name != "POST /goals"]
INTERVAL_SCOPED = [name for name, e in ENDPOINTS.items() if "{interval}" in e.path]
WITH_CONFIRM = [
    "PATCH /goals/{id}",
    "PATCH interval",
    "POST copy",
    "PUT allocations",
    "POST distribute",
]


def created(api: ApiClient, body: dict[str, Any]) -> int:
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    goal_id: int = response.json["id"]
    return goal_id


def first_interval(api: ApiClient, goal_id: int) -> int:
    interval_id: int = api.get(f"/goals/{goal_id}/intervals").json[0]["id"]
    return interval_id


@pytest.fixture
@once_per_module
def world(api: ApiClient) -> dict[str, int]:
    """Goals of both organizations with intervals, allocations and history, so that "nothing
    written" compares full tables."""
    other = api.as_user("other-admin")
    team_goal = dict(team_id="team-a", split_by_team_members=True, split_into_subperiods=True)
    ids = {
        "goal": created(api, sales_goal(aim="300.00", **team_goal)),
        "units": created(
            api,
            sales_goal(metric="quantity", aim="90", team_id="team-a", split_by_team_members=True),
        ),
        "recurring": created(
            api,
            {
                "category": "activities",
                "description": "Visits",
                "start_date": "2026-01-01",
                "end_date": "2026-01-31",
                "recurrence": "monthly",
            },
        ),
        "other_goal": created(
            other, sales_goal(aim="300.00", **{**team_goal, "team_id": "team-x"})
        ),
    }
    ids["interval"] = first_interval(api, ids["goal"])
    ids["units_interval"] = first_interval(api, ids["units"])
    ids["other_interval"] = first_interval(other, ids["other_goal"])
    return ids


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------

#: ``Case.json`` when the endpoint's valid body is sent unchanged.
VALID = object()


@dataclass(frozen=True)
class Case:
    endpoint: str
    status: int
    #: Where ``errors`` names the problem (``json.allocations.0.target``); ``None``: no errors.
    error_path: str | None
    json: Any = VALID
    data: str | bytes | None = None
    content_type: str | None = None
    #: Path ids: a world key (``"other_goal"``) or a literal (``"0"``).
    ids: dict[str, str] = field(default_factory=dict)
    query: str = ""


CASES: list[Any] = []


def add(endpoint: str, name: str, status: int, error_path: str | None, **kwargs: Any) -> None:
    CASES.append(
        pytest.param(Case(endpoint, status, error_path, **kwargs), id=f"{endpoint}: {name}")
    )


def changed(endpoint: str, **changes: Any) -> dict[str, Any]:
    """The endpoint's valid body with some fields set (``None`` is sent as JSON null)."""
    body = ENDPOINTS[endpoint].body
    assert body is not None
    return {**body, **changes}


def entry(**changes: Any) -> dict[str, Any]:
    """A body of PUT allocations whose single entry is changed."""
    return {"allocations": [{"user_id": "rep", "target": "10.00", **changes}]}


def undated(**changes: Any) -> dict[str, Any]:
    """A valid sales goal without start_date and end_date (for the ``period`` shortcut)."""
    body = {k: v for k, v in sales_goal().items() if k not in ("start_date", "end_date")}
    return {**body, **changes}


def activities(**changes: Any) -> dict[str, Any]:
    body = {
        "category": "activities",
        "description": "Visits",
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
    }
    return {**body, **changes}


def orders(**changes: Any) -> dict[str, Any]:
    return sales_goal(category="orders", metric="count", aim="10", **changes)


LONG = "x" * 10_000

# -- malformed JSON: 400 ------------------------------------------------------------------------

MALFORMED: dict[str, str | bytes] = {
    "truncated JSON": '{"description": "x"',
    "a 5,000-digit integer": '{"aim": ' + "9" * 5_000 + "}",
    "arrays nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
}
for endpoint in WITH_BODY:
    for name, data in MALFORMED.items():
        add(endpoint, name, 400, "json", data=data, content_type="application/json")
for name, data in {
    "a trailing comma": '{"description": "x",}',
    "single quotes": "{'description': 'x'}",
    "two documents": "{} {}",
    "objects nested 100,000 deep": '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "invalid UTF-8": b'{"description": "\xff"}',
}.items():
    add("POST /goals", name, 400, "json", data=data, content_type="application/json")

# -- a body that is not JSON: 415 ----------------------------------------------------------------

for endpoint in WITH_BODY:
    add(
        endpoint, "JSON sent as text/plain", 415, "json", data='{"a": 1}', content_type="text/plain"
    )
    add(
        endpoint,
        "a form",
        415,
        "json",
        data="description=x",
        content_type="application/x-www-form-urlencoded",
    )
add("POST /goals", "JSON without a content type", 415, "json", data='{"category": "sales"}')
add("POST /goals", "XML", 415, "json", data="<goal/>", content_type="application/xml")

# -- wrong types: 422 ----------------------------------------------------------------------------

for endpoint in WITH_BODY:
    for name, body in {"a list": [], "a string": "goal", "a number": 42}.items():
        # PUT allocations takes a bare list of allocations: an empty one has none to set.
        where = "json.allocations" if (endpoint, name) == ("PUT allocations", "a list") else None
        add(endpoint, f"the body is {name}", 422, where or "json._schema", json=body)

WRONG_TYPES: dict[str, list[tuple[str, Any, str]]] = {
    "POST /goals": [
        ("a numeric description", changed("POST /goals", description=123), "json.description"),
        ("a category in a list", changed("POST /goals", category=["sales"]), "json.category"),
        ("a date as a number", changed("POST /goals", start_date=20260101), "json.start_date"),
        ("a date as an object", changed("POST /goals", end_date={"y": 2026}), "json.end_date"),
        (
            "a flag as a word",
            changed("POST /goals", split_into_subperiods="maybe"),
            "json.split_into_subperiods",
        ),
        (
            "a flag as a number",
            changed("POST /goals", split_by_team_members=2),
            "json.split_by_team_members",
        ),
        ("filters as a string", changed("POST /goals", filters="brands"), "json.filters._schema"),
        (
            "include/exclude as a list",
            changed("POST /goals", filters={"brands": ["b1"]}),
            "json.filters.brands._schema",
        ),
        (
            "an id as a number",
            changed("POST /goals", filters={"customers": {"include": [7]}}),
            "json.filters.customers.include.0",
        ),
        ("a numeric team", changed("POST /goals", team_id=7), "json.team_id"),
        ("an aim as an object", changed("POST /goals", aim={"value": "1"}), "json.aim"),
        ("a recurrence flag", activities(recurrence=True), "json.recurrence"),
        (
            "a verified flag as a list",
            activities(filters={"verified_only": [True]}),
            "json.filters.verified_only",
        ),
    ],
    "PATCH /goals/{id}": [
        ("a numeric description", {"description": 123}, "json.description"),
        ("a date as a boolean", {"end_date": True}, "json.end_date"),
        ("a stretch aim as a list", {"stretch_aim": []}, "json.stretch_aim"),
        ("a flag as an object", {"split_by_team_members": {}}, "json.split_by_team_members"),
        ("filters as a list", {"filters": []}, "json.filters._schema"),
        ("an aim as a fractional JSON number", {"aim": 300.5}, "json.aim"),
    ],
    "PATCH interval": [
        ("an aim as a boolean", {"aim": True}, "json.aim"),
        ("an aim as a fractional JSON number", {"aim": 90.5}, "json.aim"),
        ("a daily target as an object", {"daily_target": {}}, "json.daily_target"),
    ],
    "PUT allocations": [
        ("allocations as an object", {"allocations": {"rep": "1"}}, "json.allocations"),
        ("an allocation as a string", {"allocations": ["rep"]}, "json.allocations.0._schema"),
        ("a target as a boolean", entry(target=True), "json.allocations.0.target"),
        ("a numeric user id", entry(user_id=5), "json.allocations.0.user_id"),
    ],
    "POST distribute": [
        ("a numeric strategy", {"strategy": 1}, "json.strategy"),
        (
            "locked ids as a string",
            changed("POST distribute", locked_user_ids="rep"),
            "json.locked_user_ids",
        ),
        ("a basis as a list", changed("POST distribute", basis=[]), "json.basis"),
        ("a numeric source", {"strategy": "copy", "source_user_id": 5}, "json.source_user_id"),
    ],
}
for endpoint, cases in WRONG_TYPES.items():
    for name, body, path in cases:
        add(endpoint, name, 422, path, json=body)

# -- amounts beyond the columns (NUMERIC(18, 2)) and too many decimals: 422 ---------------------

DECIMAL_FIELDS: list[tuple[str, str, Any]] = [
    # (endpoint, error path, body builder)
    ("POST /goals", "json.aim", lambda v: changed("POST /goals", aim=v)),
    ("POST /goals", "json.stretch_aim", lambda v: changed("POST /goals", stretch_aim=v)),
    (
        "POST /goals",
        "json.daily_target",
        lambda v: activities(goal_mode="per_business_day", daily_target=v),
    ),
    ("PATCH /goals/{id}", "json.aim", lambda v: {"aim": v}),
    ("PATCH /goals/{id}", "json.stretch_aim", lambda v: {"stretch_aim": v}),
    ("PATCH interval", "json.aim", lambda v: {"aim": v}),
    ("PATCH interval", "json.daily_target", lambda v: {"daily_target": v}),
    ("PUT allocations", "json.allocations.0.target", lambda v: entry(target=v)),
    (
        "PUT allocations",
        "json.allocations.0.daily_target",
        lambda v: {"allocations": [{"user_id": "rep", "daily_target": v}]},
    ),
]
for endpoint, path, build in DECIMAL_FIELDS:
    for name, value in {
        "1e20": "1e20",
        "99999999999999999.99": "99999999999999999.99",
        "a JSON integer of 21 digits": 10**20,
        "a 10,000-digit amount": "1" * 10_000,
        "three decimals": "0.001",
        "decimals in an exponent": "1e-3",
        "10,000 decimals": "0." + "0" * 9_998 + "1",
    }.items():
        add(endpoint, f"{path.rsplit('.', 1)[-1]} {name}", 422, path, json=build(value))
# Whole-number metrics (quantity): the decimals are refused by the goal's metric, not the schema.
add(
    "PATCH interval",
    "cents on a quantity aim",
    422,
    "json.aim",
    json={"aim": "10.5"},
    ids={"goal": "units", "interval": "units_interval"},
)
add(
    "PUT allocations",
    "cents on a quantity target",
    422,
    "json.allocations.0.target",
    json=entry(target="2.5"),
    ids={"goal": "units", "interval": "units_interval"},
)

# -- 10,000-character strings: 422 ---------------------------------------------------------------

LONG_STRINGS: dict[str, list[tuple[str, Any]]] = {
    "POST /goals": [
        ("json.description", changed("POST /goals", description=LONG)),
        ("json.category", changed("POST /goals", category=LONG)),
        ("json.metric", changed("POST /goals", metric=LONG)),
        ("json.team_id", changed("POST /goals", team_id=LONG)),
        ("json.start_date", changed("POST /goals", start_date=LONG)),
        ("json.period", undated(period=LONG)),
        ("json.goal_mode", activities(goal_mode=LONG)),
        ("json.recurrence", activities(recurrence=LONG)),
        (
            "json.filters.brands.include.0",
            changed("POST /goals", filters={"brands": {"include": [LONG]}}),
        ),
        (
            "json.filters.wholesaler_branches.0",
            changed("POST /goals", filters={"wholesaler_branches": [LONG]}),
        ),
        ("json.filters.channels.0", orders(filters={"channels": [LONG]})),
        ("json.filters.activity_types.0", activities(filters={"activity_types": [LONG]})),
        (f"json.{LONG}", changed("POST /goals", **{LONG: 1})),
    ],
    "PATCH /goals/{id}": [
        ("json.description", {"description": LONG}),
        ("json.team_id", {"team_id": LONG}),
        ("json.metric", {"metric": LONG}),
        ("json.filters.customers.exclude.0", {"filters": {"customers": {"exclude": [LONG]}}}),
    ],
    "PUT allocations": [("json.allocations.0.user_id", entry(user_id=LONG))],
    "POST distribute": [
        ("json.strategy", {"strategy": LONG}),
        ("json.basis", {"strategy": "proportional", "basis": LONG}),
        ("json.source_user_id", {"strategy": "copy", "source_user_id": LONG}),
        ("json.locked_user_ids.0", {"strategy": "equal", "locked_user_ids": [LONG]}),
    ],
    "POST copy": [(f"json.{LONG}", {LONG: True})],
}
for endpoint, cases in LONG_STRINGS.items():
    for path, body in cases:
        field_name = "an unknown field" if path.endswith(LONG) else path.split(".", 1)[1]
        add(endpoint, f"10,000 characters in {field_name}", 422, path, json=body)

# -- text no database can store (PostgreSQL refuses NUL; UTF-8 cannot hold lone surrogates) ------

for name, text in {"a NUL character": "Q1\x00revenue", "a lone surrogate": "Q1 \ud800"}.items():
    add(
        "POST /goals",
        f"{name} in the description",
        422,
        "json.description",
        json=changed("POST /goals", description=text),
    )
    add(
        "POST /goals",
        f"{name} in a filter id",
        422,
        "json.filters.brands.include.0",
        json=changed("POST /goals", filters={"brands": {"include": [text]}}),
    )
    add(
        "POST /goals",
        f"{name} in the team",
        422,
        "json.team_id",
        json=changed("POST /goals", team_id=text),
    )
    add(
        "PATCH /goals/{id}",
        f"{name} in the description",
        422,
        "json.description",
        json={"description": text},
    )
    add(
        "PUT allocations",
        f"{name} in a user id",
        422,
        "json.allocations.0.user_id",
        json=entry(user_id=text),
    )
    add(
        "POST distribute",
        f"{name} in a locked id",
        422,
        "json.locked_user_ids.0",
        json={"strategy": "equal", "locked_user_ids": [text]},
    )

# -- empty and duplicated lists: 422 -------------------------------------------------------------

add("PUT allocations", "no allocations", 422, "json.allocations", json={"allocations": []})
add(
    "PUT allocations",
    "a member twice",
    422,
    "json.allocations",
    json={"allocations": [{"user_id": "rep", "target": "1"}, {"user_id": "rep", "target": "2"}]},
)
add(
    "PUT allocations",
    "5,001 allocations",
    422,
    "json.allocations",
    json={"allocations": [{"user_id": f"m{i}", "target": "1"} for i in range(5_001)]},
)
add(
    "POST distribute",
    "a locked member twice",
    422,
    "json.locked_user_ids",
    json={"strategy": "equal", "locked_user_ids": ["rep", "u2", "rep"]},
)
DUPLICATED_FILTERS: list[tuple[str, dict[str, Any], str]] = [
    ("brands", {"brands": {"include": ["b1", "b1"]}}, "json.filters.brands.include"),
    (
        "brand families",
        {"brand_families": {"exclude": ["f", "f"]}},
        "json.filters.brand_families.exclude",
    ),
    (
        "customer branches",
        {"customer_branches": {"include": ["c", "d", "c"]}},
        "json.filters.customer_branches.include",
    ),
    (
        "wholesaler branches",
        {"wholesaler_branches": ["w", "w"]},
        "json.filters.wholesaler_branches",
    ),
]
for name, filters, path in DUPLICATED_FILTERS:
    add(
        "POST /goals", f"duplicated {name}", 422, path, json=changed("POST /goals", filters=filters)
    )
add(
    "POST /goals",
    "duplicated activity types",
    422,
    "json.filters.activity_types",
    json=activities(filters={"activity_types": ["visit", "visit"]}),
)
add(
    "POST /goals",
    "duplicated channels",
    422,
    "json.filters.channels",
    json=orders(filters={"channels": ["web", "web"]}),
)
add(
    "PATCH /goals/{id}",
    "duplicated customers",
    422,
    "json.filters.customers.exclude",
    json={"filters": {"customers": {"exclude": ["c1", "c1"]}}},
)

# -- unknown fields: 422, never dropped ----------------------------------------------------------

UNKNOWN: dict[str, list[tuple[str, Any]]] = {
    "POST /goals": [
        ("json.id", changed("POST /goals", id=1)),
        ("json.created_by", changed("POST /goals", created_by="someone")),
        ("json.source_goal_id", changed("POST /goals", source_goal_id=1)),
        ("json.Description", changed("POST /goals", Description="x")),
    ],
    "PATCH /goals/{id}": [
        ("json.id", {"id": 1, "description": "x"}),
        ("json.intervals", {"intervals": []}),
        ("json.organization_id", {"organization_id": OTHER_ORG}),
        ("json.filters.colour", {"filters": {"colour": ["red"]}}),
    ],
    "PATCH interval": [
        ("json.start_date", {"aim": "90.00", "start_date": "2026-01-02"}),
        ("json.business_days", {"aim": "90.00", "business_days": 30}),
        ("json.allocated", {"aim": "90.00", "allocated": "1"}),
    ],
    "POST copy": [("json.confirm", {"confirm": True}), ("json.to", {"to": [1, 2]})],
    "PUT allocations": [
        ("json.confirm", {**changed("PUT allocations"), "confirm": True}),
        ("json.allocations.0.effective_target", entry(effective_target="10.00")),
    ],
    "POST distribute": [
        ("json.confirm", {"strategy": "equal", "confirm": True}),
        ("json.aim", {"strategy": "equal", "aim": "1"}),
    ],
}
for endpoint, cases in UNKNOWN.items():
    for path, body in cases:
        add(endpoint, f"unknown {path.split('.', 1)[1]}", 422, path, json=body)

# -- dates out of order: 422 ---------------------------------------------------------------------

add(
    "POST /goals",
    "end a day before start",
    422,
    "json.end_date",
    json=changed("POST /goals", start_date="2026-04-01", end_date="2026-03-31"),
)
add(
    "PATCH /goals/{id}",
    "start after the current end",
    422,
    "json.end_date",
    json={"start_date": "2026-04-01"},
)
add(
    "PATCH /goals/{id}",
    "both dates swapped",
    422,
    "json.end_date",
    json={"start_date": "2026-03-31", "end_date": "2026-01-01"},
)
add(
    "PATCH /goals/{id}",
    "recurring until before the start",
    422,
    "json.recurring_until",
    json={"recurring_until": "2025-12-31"},
    ids={"goal": "recurring"},
)

# -- nulls where none is allowed: 422 ------------------------------------------------------------

NULLS: dict[str, list[tuple[str, Any]]] = {
    "POST /goals": [
        ("json.category", changed("POST /goals", category=None)),
        ("json.description", changed("POST /goals", description=None)),
        ("json.metric", changed("POST /goals", metric=None)),
        ("json.start_date", changed("POST /goals", start_date=None)),
        ("json.split_into_subperiods", changed("POST /goals", split_into_subperiods=None)),
        ("json.filters", changed("POST /goals", filters=None)),
        ("json.filters.brands", changed("POST /goals", filters={"brands": None})),
        (
            "json.filters.brands.include",
            changed("POST /goals", filters={"brands": {"include": None}}),
        ),
        (
            "json.filters.brands.include.0",
            changed("POST /goals", filters={"brands": {"include": [None]}}),
        ),
        ("json.filters.verified_only", activities(filters={"verified_only": None})),
        ("json.period", undated(period=None)),
    ],
    "PATCH /goals/{id}": [
        ("json.description", {"description": None}),
        ("json.category", {"category": None}),
        ("json.metric", {"metric": None}),
        ("json.end_date", {"end_date": None}),
        ("json.split_into_subperiods", {"split_into_subperiods": None}),
        ("json.filters", {"filters": None}),
    ],
    "PATCH interval": [("json.aim", {"aim": None}), ("json.daily_target", {"daily_target": None})],
    "PUT allocations": [
        ("json.allocations", {"allocations": None}),
        ("json.allocations.0", {"allocations": [None]}),
        ("json.allocations.0.user_id", entry(user_id=None)),
        ("json.allocations.0.target", entry(target=None)),
    ],
    "POST distribute": [
        ("json.strategy", {"strategy": None}),
        ("json.basis", {"strategy": "proportional", "basis": None}),
        ("json.locked_user_ids", {"strategy": "equal", "locked_user_ids": None}),
        ("json.locked_user_ids.0", {"strategy": "equal", "locked_user_ids": [None]}),
        ("json.source_user_id", {"strategy": "copy", "source_user_id": None}),
    ],
}
for endpoint, cases in NULLS.items():
    for path, body in cases:
        add(endpoint, f"null {path.split('.', 1)[1]}", 422, path, json=body)
for endpoint in WITH_BODY:
    add(endpoint, "a null body", 422, "json._schema", data="null", content_type="application/json")

# -- a bad query string: 422 ---------------------------------------------------------------------

for endpoint in WITH_CONFIRM:
    add(endpoint, "confirm=maybe", 422, "query.confirm", query="?confirm=maybe")

# -- ids of another organization, of nothing, or out of range: 404 -------------------------------

for endpoint in GOAL_SCOPED:
    add(
        endpoint,
        "the other organization's goal",
        404,
        None,
        ids={"goal": "other_goal", "interval": "other_interval"},
    )
    for name, goal_id in {
        "an unknown goal": "987654",
        "goal 0": "0",
        "goal 2**31": str(2**31),
        "a 30-digit goal id": "9" * 30,
        "goal -1": "-1",
        "goal abc": "abc",
    }.items():
        add(endpoint, name, 404, None, ids={"goal": goal_id})
for endpoint in INTERVAL_SCOPED:
    add(
        endpoint,
        "the other organization's interval in my goal",
        404,
        None,
        ids={"interval": "other_interval"},
    )
    add(
        endpoint,
        "my interval under the other organization's goal",
        404,
        None,
        ids={"goal": "other_goal"},
    )
    add(endpoint, "another goal's interval", 404, None, ids={"interval": "units_interval"})
    add(endpoint, "an unknown interval", 404, None, ids={"interval": "987654"})
# Ids of the other organization inside a body are unknown ids: 422 on the field.
add(
    "POST /goals",
    "the other organization's team",
    422,
    "json.team_id",
    json=changed("POST /goals", team_id="team-x"),
)
add(
    "PATCH /goals/{id}",
    "the other organization's team",
    422,
    "json.team_id",
    json={"team_id": "team-x"},
)
add(
    "PUT allocations",
    "the other organization's member",
    422,
    "json.allocations",
    json=entry(user_id="x1"),
)
add(
    "POST distribute",
    "the other organization's member locked",
    422,
    "json.locked_user_ids",
    json={"strategy": "equal", "locked_user_ids": ["x1"]},
)


# --------------------------------------------------------------------------------------------
# Running the corpus
# --------------------------------------------------------------------------------------------


def fill(template: str, world: dict[str, int], ids: dict[str, str]) -> str:
    values = {"goal": str(world["goal"]), "interval": str(world["interval"])}
    for name, value in ids.items():
        values[name] = str(world[value]) if value in world else value
    return template.format(**values)


def current_etag(api: ApiClient, path: str) -> str:
    """The resource's ETag as whoever can read it sees it: the request then fails for its
    input (or its ids), never for a missing or stale If-Match."""
    for user in ("admin", "other-admin"):
        response = api.as_user(user).get(path)
        if response.status_code == 200:
            return str(response.headers["ETag"])
    return '"no such resource"'


def send(api: ApiClient, world: dict[str, int], case: Case) -> Any:
    endpoint = ENDPOINTS[case.endpoint]
    path = fill(endpoint.path, world, case.ids)
    headers = {"If-Match": current_etag(api, path)} if endpoint.etag else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if case.data is not None:
        kwargs["data"] = case.data
        if case.content_type is not None:
            kwargs["content_type"] = case.content_type
    elif case.json is VALID:
        if endpoint.body is not None:
            kwargs["json"] = endpoint.body
    else:
        kwargs["json"] = case.json
    return api.open(endpoint.method, path + case.query, **kwargs)


def error_messages(body: dict[str, Any], path: str) -> list[str]:
    node: Any = body["errors"]
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, (path, body)
        node = node[part]
    assert isinstance(node, list) and node, (path, body)
    assert all(isinstance(message, str) and message for message in node), (path, body)
    return node


def test_the_corpus_covers_every_write_endpoint_and_kind() -> None:
    covered = {param.values[0].endpoint for param in CASES}
    assert covered == set(ENDPOINTS)
    statuses = {(param.values[0].endpoint, param.values[0].status) for param in CASES}
    for endpoint in GOAL_SCOPED:
        assert (endpoint, 404) in statuses
    for endpoint in WITH_BODY:
        assert {(endpoint, 400), (endpoint, 415), (endpoint, 422)} <= statuses


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(api, db, world, case: Case) -> None:
    before = dump_tables(db)
    response = send(api, world, case)
    assert response.status_code == case.status, response.get_data(as_text=True)[:2000]
    body = response.json
    assert body is not None and response.content_type == "application/json"
    assert body["code"] == case.status
    assert isinstance(body["status"], str) and isinstance(body["message"], str)
    if case.error_path is None:
        assert "errors" not in body
    else:
        error_messages(body, case.error_path)
    db.session.rollback()
    assert dump_tables(db) == before


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_the_valid_request_of_each_endpoint_succeeds(api, db, world, endpoint: str) -> None:
    """The corpus changes one thing of a request that works: every refusal above is the bad
    input's doing."""
    response = send(api, world, Case(endpoint, 200, None))
    assert response.status_code in (200, 201, 204), response.json


def test_an_id_too_long_for_an_integer_is_a_404(api, db, world) -> None:
    """More digits than Python converts to an int (4,300): the route does not match at all.
    Werkzeug then answers with the host's own 404 page, not the plugin's JSON."""
    before = dump_tables(db)
    for endpoint in GOAL_SCOPED:
        response = send(api, world, Case(endpoint, 404, None, ids={"goal": "9" * 5_000}))
        assert response.status_code == 404
    assert dump_tables(db) == before


# --------------------------------------------------------------------------------------------
# Empty lists that mean "no restriction"
# --------------------------------------------------------------------------------------------


def test_empty_filter_lists_clear_a_filter(api, world) -> None:
    goal_id = created(
        api, sales_goal(filters={"brands": {"include": ["b1"]}, "wholesaler_branches": ["w1"]})
    )
    response = api.write(
        "PATCH",
        f"/goals/{goal_id}",
        json={"filters": {"brands": {"include": [], "exclude": []}, "wholesaler_branches": []}},
    )
    assert response.status_code == 200, response.json
    assert response.json["filters"] == {}


def test_empty_locked_user_ids_lock_nobody(api, world) -> None:
    path = fill(ALLOCATIONS, world, {}) + "/distribute"
    with_empty = api.post(path, json={"strategy": "equal", "locked_user_ids": []})
    assert with_empty.status_code == 200, with_empty.json
    without = api.post(path, json={"strategy": "equal"})
    assert without.json["allocations"] == with_empty.json["allocations"]
    assert [a["target"] for a in without.json["allocations"]] == ["33.34", "33.33", "33.33"]


@pytest.mark.parametrize("aim", ["1_000", " 1", "1e3", "١٠٠", "+5", "1.", ".5"])
def test_decimal_strings_must_be_plain_ascii_decimals(api, db, aim):
    before = dump_tables(db)
    response = api.post("/goals", json=sales_goal(aim=aim))
    assert response.status_code == 422
    assert "aim" in response.json["errors"]["json"]
    assert dump_tables(db) == before


@pytest.mark.parametrize(
    "path",
    ["/goals/" + "9" * 5000, "/goals/99999999999", "/goals/9999999999", "/goals/0", "/goals/-1"],
)
def test_out_of_range_ids_in_urls_are_json_404s(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.is_json and response.json["code"] == 404
