"""The goals API: create, list, read, change and delete goals, and read their intervals.

Every refused write is checked for its exact status code *and* for having written nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from conftest import ORG, ApiClient, dump_tables, sales_goal, table_counts

from flask_wiseparts_goals.models import Goal, Interval

# --- helpers ----------------------------------------------------------------------------------


def activities_goal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "activities",
        "description": "Visits in January",
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
    }
    body.update(overrides)
    return body


def orders_goal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "orders",
        "description": "Orders in Q1",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "metric": "count",
        "aim": "120",
    }
    body.update(overrides)
    return body


def create(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def errors_at(response: Any, path: str) -> list[str]:
    """The messages at ``path`` (``json.filters.brands.exclude``) of a flask-smorest error body."""
    node: Any = response.json["errors"]
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, (path, response.json)
        node = node[part]
    assert isinstance(node, list) and node, (path, response.json)
    return node


def intervals_of(api: ApiClient, goal_id: int) -> list[dict[str, Any]]:
    response = api.get(f"/goals/{goal_id}/intervals")
    assert response.status_code == 200, response.json
    return response.json


def bounds_and_aims(intervals: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(i["start_date"], i["end_date"], i["aim"]) for i in intervals]


@pytest.fixture
def goal(api: ApiClient) -> dict[str, Any]:
    """An existing org-wide sales goal, so that "nothing written" compares non-empty tables."""
    return create(api, sales_goal(split_into_subperiods=True))


# --- create -----------------------------------------------------------------------------------


def test_create_returns_the_goal_with_every_field(api, db):
    response = api.post("/goals", json=sales_goal(stretch_aim="1200.00", team_id="team-a"))
    assert response.status_code == 201
    goal = response.json
    assert isinstance(goal["id"], int)
    assert goal | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None,
        "category": "sales",
        "description": "Q1 revenue",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "metric": "net",
        "aim": "1000.00",
        "intervals_total": "1000.00",  # SPEC §14: new fields
        "unassigned": "0.00",
        "stretch_aim": "1200.00",
        "team_id": "team-a",
        "split_into_subperiods": False,
        "split_by_team_members": False,
        "goal_mode": None,
        "daily_target": None,
        "filters": {},
        "recurrence": None,
        "recurring_until": None,
        "source_goal_id": None,
        "shortfall_policy": "none",
        "created_by": "admin",
        "created_at": None,
        "updated_at": None,
        "permissions": {"update": True, "delete": True, "allocate": True},
    }
    assert "period" not in goal
    assert api.get(f"/goals/{goal['id']}").json == goal
    assert table_counts(db)["goals_goal"] == 1


def test_create_spreads_the_aim_over_months_by_equal_split(api):
    goal = create(api, sales_goal(split_into_subperiods=True))
    assert bounds_and_aims(intervals_of(api, goal["id"])) == [
        ("2026-01-01", "2026-01-31", "333.34"),
        ("2026-02-01", "2026-02-28", "333.33"),
        ("2026-03-01", "2026-03-31", "333.33"),
    ]


def test_create_without_split_has_one_interval_for_the_whole_range(api):
    goal = create(api, sales_goal())
    [interval] = intervals_of(api, goal["id"])
    assert interval["goal_id"] == goal["id"]
    assert (interval["start_date"], interval["end_date"], interval["aim"]) == (
        "2026-01-01",
        "2026-03-31",
        "1000.00",
    )
    assert interval["business_days"] == 64  # 22 + 20 + 22 weekdays
    assert interval["daily_target"] is None


def test_counts_split_in_whole_units(api):
    goal = create(api, sales_goal(metric="quantity", aim="100", split_into_subperiods=True))
    assert goal["aim"] == "100"
    assert [i["aim"] for i in intervals_of(api, goal["id"])] == ["34", "33", "33"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            "2026-01-15",
            "2026-03-10",
            [
                ("2026-01-15", "2026-01-31"),
                ("2026-02-01", "2026-02-28"),
                ("2026-03-01", "2026-03-10"),
            ],
        ),
        ("2028-02-01", "2028-02-29", [("2028-02-01", "2028-02-29")]),
        (
            "2028-01-20",
            "2028-03-05",
            [
                ("2028-01-20", "2028-01-31"),
                ("2028-02-01", "2028-02-29"),
                ("2028-03-01", "2028-03-05"),
            ],
        ),
        ("2026-05-03", "2026-05-20", [("2026-05-03", "2026-05-20")]),
        ("2025-12-15", "2026-01-10", [("2025-12-15", "2025-12-31"), ("2026-01-01", "2026-01-10")]),
    ],
)
def test_intervals_are_calendar_months_clipped_to_the_range(api, start, end, expected):
    goal = create(api, sales_goal(start_date=start, end_date=end, split_into_subperiods=True))
    intervals = intervals_of(api, goal["id"])
    assert [(i["start_date"], i["end_date"]) for i in intervals] == expected
    assert sum(Decimal(i["aim"]) for i in intervals) == Decimal("1000.00")


def test_interval_business_days_default_to_monday_to_friday(api):
    goal = create(api, sales_goal(split_into_subperiods=True))
    assert [i["business_days"] for i in intervals_of(api, goal["id"])] == [22, 20, 22]


def test_interval_business_days_come_from_the_host(api, host):
    host.holidays = {date(2026, 1, 1), date(2026, 1, 6)}
    goal = create(api, sales_goal(split_into_subperiods=True))
    assert [i["business_days"] for i in intervals_of(api, goal["id"])] == [20, 20, 22]


# --- decimals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "sent", "shown"),
    [
        ("net", "1000", "1000.00"),
        ("net", "1000.5", "1000.50"),
        ("net", "0.01", "0.01"),
        ("gross", "1000.00", "1000.00"),
        ("margin", 1000, "1000.00"),  # a JSON integer is exact
        ("quantity", "12", "12"),
        ("quantity", "12.00", "12"),  # the same number, not a rounding
        ("quantity", 12, "12"),
        ("net", "0", "0.00"),
    ],
)
def test_decimals_travel_as_strings(api, metric, sent, shown):
    goal = create(api, sales_goal(metric=metric, aim=sent))
    assert goal["aim"] == shown
    assert api.get(f"/goals/{goal['id']}").json["aim"] == shown
    assert intervals_of(api, goal["id"])[0]["aim"] == shown


@pytest.mark.parametrize(
    "aim",
    [
        "9999999999999999.99",
        "1234567890123.45",
    ],
)
def test_large_amounts_are_stored_exactly(api, aim):
    goal = create(api, sales_goal(aim=aim))
    assert api.get(f"/goals/{goal['id']}").json["aim"] == aim
    assert intervals_of(api, goal["id"])[0]["aim"] == aim


# --- validation: every rule, the exact status, and nothing written -----------------------------

TEAM_MISSING = "no-such-team"

INVALID_CREATES: list[tuple[str, dict[str, Any], str]] = [
    # the body itself
    ("unknown field", sales_goal(colour="red"), "json.colour"),
    ("unknown filter", sales_goal(filters={"colours": ["red"]}), "json.filters.colours"),
    (
        "unknown include key",
        sales_goal(filters={"brands": {"only": ["b"]}}),
        "json.filters.brands.only",
    ),
    (
        "missing category",
        {k: v for k, v in sales_goal().items() if k != "category"},
        "json.category",
    ),
    ("unknown category", sales_goal(category="services"), "json.category"),
    (
        "missing description",
        {k: v for k, v in sales_goal().items() if k != "description"},
        "json.description",
    ),
    ("empty description", sales_goal(description=""), "json.description"),
    ("description too long", sales_goal(description="x" * 201), "json.description"),
    # dates
    (
        "end before start",
        sales_goal(start_date="2026-03-01", end_date="2026-02-28"),
        "json.end_date",
    ),
    ("only a start", {k: v for k, v in sales_goal().items() if k != "end_date"}, "json.end_date"),
    (
        "only an end",
        {k: v for k, v in sales_goal().items() if k != "start_date"},
        "json.start_date",
    ),
    (
        "no dates at all",
        {k: v for k, v in sales_goal().items() if k not in ("start_date", "end_date")},
        "json.start_date",
    ),
    ("period and dates", sales_goal(period="this_month"), "json.period"),
    (
        "unknown period",
        sales_goal(start_date=None, end_date=None, period="next_month"),
        "json.period",
    ),
    ("not a date", sales_goal(start_date="2026-02-30"), "json.start_date"),
    # metric
    (
        "sales without metric",
        {k: v for k, v in sales_goal().items() if k != "metric"},
        "json.metric",
    ),
    ("sales counted", sales_goal(metric="count", aim="10"), "json.metric"),
    ("unknown metric", sales_goal(metric="revenue"), "json.metric"),
    ("activities in money", activities_goal(metric="net"), "json.metric"),
    ("activities in quantity", activities_goal(metric="quantity"), "json.metric"),
    # aim
    ("sales without aim", {k: v for k, v in sales_goal().items() if k != "aim"}, "json.aim"),
    ("sales with a null aim", sales_goal(aim=None), "json.aim"),
    ("orders without aim", {k: v for k, v in orders_goal().items() if k != "aim"}, "json.aim"),
    ("three decimals", sales_goal(aim="1000.005"), "json.aim"),
    ("cents on a quantity", sales_goal(metric="quantity", aim="12.5"), "json.aim"),
    ("cents on a count", orders_goal(aim="12.01"), "json.aim"),
    ("negative", sales_goal(aim="-0.01"), "json.aim"),
    ("beyond precision", sales_goal(aim="1e16"), "json.aim"),
    ("beyond precision, spelled out", sales_goal(aim="10000000000000000.00"), "json.aim"),
    ("NaN", sales_goal(aim="NaN"), "json.aim"),
    ("Infinity", sales_goal(aim="Infinity"), "json.aim"),
    ("not a number", sales_goal(aim="a lot"), "json.aim"),
    ("a boolean", sales_goal(aim=True), "json.aim"),
    ("a fractional JSON number", sales_goal(aim=1000.5), "json.aim"),
    ("activities aim is read-only", activities_goal(aim="10"), "json.aim"),
    ("activities aim, even zero", activities_goal(aim="0"), "json.aim"),
    # stretch aim
    ("stretch below aim", sales_goal(stretch_aim="999.99"), "json.stretch_aim"),
    ("stretch with three decimals", sales_goal(stretch_aim="1000.001"), "json.stretch_aim"),
    ("stretch on activities", activities_goal(stretch_aim="10"), "json.stretch_aim"),
    # team, split, modes
    ("split without team", sales_goal(split_by_team_members=True), "json.split_by_team_members"),
    ("unknown team", sales_goal(team_id=TEAM_MISSING), "json.team_id"),
    (
        "unknown team, split",
        sales_goal(team_id=TEAM_MISSING, split_by_team_members=True),
        "json.team_id",
    ),
    ("empty team id", sales_goal(team_id=""), "json.team_id"),
    ("team id too long", sales_goal(team_id="t" * 65), "json.team_id"),
    ("goal mode on sales", sales_goal(goal_mode="total"), "json.goal_mode"),
    ("daily target on sales", sales_goal(daily_target="1"), "json.daily_target"),
    ("unknown goal mode", activities_goal(goal_mode="weekly"), "json.goal_mode"),
    ("daily target in total mode", activities_goal(daily_target="2"), "json.daily_target"),
    (
        "daily target with three decimals",
        activities_goal(goal_mode="per_business_day", daily_target="2.125"),
        "json.daily_target",
    ),
    # filters
    (
        "activity types on sales",
        sales_goal(filters={"activity_types": ["visit"]}),
        "json.filters.activity_types",
    ),
    (
        "verified only on sales",
        sales_goal(filters={"verified_only": True}),
        "json.filters.verified_only",
    ),
    ("channels on sales", sales_goal(filters={"channels": ["web"]}), "json.filters.channels"),
    (
        "ordered only on sales",
        sales_goal(filters={"ordered_only": True}),
        "json.filters.ordered_only",
    ),
    (
        "brands on activities",
        activities_goal(filters={"brands": {"include": ["b1"]}}),
        "json.filters.brands",
    ),
    (
        "brand families on activities",
        activities_goal(filters={"brand_families": {"exclude": ["f1"]}}),
        "json.filters.brand_families",
    ),
    (
        "wholesaler branches on activities",
        activities_goal(filters={"wholesaler_branches": ["w1"]}),
        "json.filters.wholesaler_branches",
    ),
    (
        "channels on activities",
        activities_goal(filters={"channels": ["web"]}),
        "json.filters.channels",
    ),
    (
        "activity types on orders",
        orders_goal(filters={"activity_types": ["visit"]}),
        "json.filters.activity_types",
    ),
    ("unknown channel", orders_goal(filters={"channels": ["fax"]}), "json.filters.channels.0"),
    (
        "included and excluded",
        sales_goal(filters={"brands": {"include": ["b1", "b2"], "exclude": ["b2"]}}),
        "json.filters.brands.exclude",
    ),
    (
        "customer in both lists",
        activities_goal(filters={"customers": {"include": ["c1"], "exclude": ["c1"]}}),
        "json.filters.customers.exclude",
    ),
    (
        "duplicated id",
        sales_goal(filters={"customers": {"include": ["c1", "c1"]}}),
        "json.filters.customers.include",
    ),
    (
        "wholesaler branches with a team",
        sales_goal(team_id="team-a", filters={"wholesaler_branches": ["w1"]}),
        "json.filters.wholesaler_branches",
    ),
    (
        "a filter that is not a list",
        sales_goal(filters={"wholesaler_branches": "w1"}),
        "json.filters.wholesaler_branches",
    ),
    # recurrence
    ("recurring sales", sales_goal(recurrence="monthly"), "json.recurrence"),
    ("unknown recurrence", activities_goal(recurrence="weekly"), "json.recurrence"),
    (
        "recurring range not a whole period",
        activities_goal(recurrence="monthly", end_date="2026-01-30"),
        "json.start_date",
    ),
    (
        "until without recurrence",
        activities_goal(recurring_until="2026-12-31"),
        "json.recurring_until",
    ),
    (
        "until before start",
        activities_goal(recurrence="monthly", recurring_until="2025-12-31"),
        "json.recurring_until",
    ),
]


@pytest.mark.parametrize(
    ("body", "path"),
    [case[1:] for case in INVALID_CREATES],
    ids=[case[0] for case in INVALID_CREATES],
)
def test_invalid_create_is_a_422_naming_the_field_and_writes_nothing(api, db, goal, body, path):
    before = dump_tables(db)
    response = api.post("/goals", json=body)
    assert response.status_code == 422, response.json
    assert response.json["code"] == 422
    assert response.json["status"] == "Unprocessable Entity"
    assert isinstance(response.json["message"], str)
    errors_at(response, path)
    assert dump_tables(db) == before


def test_a_422_reports_every_problem_at_once(api, db):
    response = api.post(
        "/goals",
        json=sales_goal(
            metric="visits",
            end_date="2025-12-31",
            split_by_team_members=True,
            filters={"activity_types": ["visit"]},
        ),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) >= {"metric"}
    # Schema errors (an unknown metric) come first; once the body parses, every rule is reported.
    response = api.post(
        "/goals",
        json=sales_goal(
            end_date="2025-12-31", split_by_team_members=True, filters={"activity_types": ["visit"]}
        ),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"end_date", "split_by_team_members", "filters"}
    assert table_counts(db)["goals_goal"] == 0


def test_the_unknown_team_error_comes_from_the_host_hook(api, host, db):
    response = api.post("/goals", json=sales_goal(team_id="team-z"))
    assert response.status_code == 422
    assert "team-z" in errors_at(response, "json.team_id")[0]
    assert ("team_members", ("team-z", date(2026, 1, 1))) in host.calls
    host.teams["team-z"] = []  # the host now knows the team (even without members)
    assert api.post("/goals", json=sales_goal(team_id="team-z")).status_code == 201


# --- categories and metrics -------------------------------------------------------------------


def test_activities_count_automatically_and_compute_their_aim(api):
    goal = create(api, activities_goal())
    assert goal["metric"] == "count"
    assert goal["aim"] == "0"
    assert goal["goal_mode"] == "total"
    assert create(api, activities_goal(metric="count"))["metric"] == "count"


def test_activities_per_business_day_apply_the_daily_target_to_every_interval(api):
    goal = create(
        api,
        activities_goal(
            end_date="2026-02-28",
            split_into_subperiods=True,
            goal_mode="per_business_day",
            daily_target="2.50",
        ),
    )
    intervals = intervals_of(api, goal["id"])
    assert [(i["business_days"], i["daily_target"], i["aim"]) for i in intervals] == [
        (22, "2.50", "55.00"),
        (20, "2.50", "50.00"),
    ]
    assert goal["daily_target"] == "2.50"
    assert goal["aim"] == "105.00"


def test_orders_goal_where_the_feature_is_on(api):
    goal = create(api, orders_goal(filters={"channels": ["phone", "web"], "ordered_only": True}))
    assert goal["category"] == "orders"
    assert goal["aim"] == "120"
    assert goal["filters"] == {"channels": ["phone", "web"], "ordered_only": True}


def test_orders_goal_where_the_feature_is_off_is_a_422(api, db, host):
    other = api.as_user("other-admin")  # org-2 has no "orders" feature
    response = other.post("/goals", json=orders_goal())
    assert response.status_code == 422
    assert "not enabled" in errors_at(response, "json.category")[0]
    assert table_counts(db)["goals_goal"] == 0
    host.features["org-2"] = {"orders"}
    assert other.post("/goals", json=orders_goal()).status_code == 201


def test_meta_offers_orders_only_where_enabled(api):
    admin_categories = [c["category"] for c in api.get("/meta").json["categories"]]
    assert admin_categories == ["sales", "activities", "orders"]
    other = api.as_user("other-admin").get("/meta").json
    assert [c["category"] for c in other["categories"]] == ["sales", "activities"]


def test_meta_describes_the_form(api):
    meta = api.get("/meta").json
    by_category = {c["category"]: c for c in meta["categories"]}
    assert by_category["activities"]["metrics"] == ["count"]
    assert by_category["activities"]["default_metric"] == "count"
    assert by_category["activities"]["aim_editable"] is False
    assert by_category["sales"]["aim_editable"] is True
    assert by_category["orders"]["metrics"] == ["count", "net", "gross", "quantity", "margin"]
    assert "channels" in by_category["orders"]["filters"]
    assert "channels" not in by_category["sales"]["filters"]
    assert meta["channels"] == ["phone", "email", "web", "shop", "social"]
    assert meta["goal_modes"] == ["total", "per_business_day"]
    assert meta["recurrences"] == ["monthly", "quarterly", "semester", "yearly"]
    assert set(meta["periods"]) == {"this_month", "this_quarter", "this_semester", "this_year"}


def test_filters_are_stored_without_empty_lists(api):
    goal = create(
        api,
        sales_goal(
            filters={
                "brands": {"include": ["b1"], "exclude": []},
                "customers": {"include": [], "exclude": []},
                "wholesaler_branches": [],
            }
        ),
    )
    assert goal["filters"] == {"brands": {"include": ["b1"]}}


# --- date shortcuts in the organization's timezone ----------------------------------------------

# 12:00 UTC on March 31st: already April 1st on Kiritimati (UTC+14), still March 31st in
# Pago Pago (UTC-11).
INSTANT = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "today", "periods"),
    [
        (
            "Pacific/Kiritimati",
            "2026-04-01",
            {
                "this_month": ("2026-04-01", "2026-04-30"),
                "this_quarter": ("2026-04-01", "2026-06-30"),
                "this_semester": ("2026-01-01", "2026-06-30"),
                "this_year": ("2026-01-01", "2026-12-31"),
            },
        ),
        (
            "Pacific/Pago_Pago",
            "2026-03-31",
            {
                "this_month": ("2026-03-01", "2026-03-31"),
                "this_quarter": ("2026-01-01", "2026-03-31"),
                "this_semester": ("2026-01-01", "2026-06-30"),
                "this_year": ("2026-01-01", "2026-12-31"),
            },
        ),
    ],
)
def test_shortcuts_resolve_in_the_organization_timezone(
    api, host, freeze_now, timezone, today, periods
):
    freeze_now(INSTANT)
    host.timezone = timezone
    meta = api.get("/meta").json
    assert meta["today"] == today
    assert meta["timezone"] == timezone
    assert {k: (v["start_date"], v["end_date"]) for k, v in meta["periods"].items()} == periods
    for shortcut, (start, end) in periods.items():
        body = {
            k: v
            for k, v in sales_goal(period=shortcut).items()
            if k not in ("start_date", "end_date")
        }
        goal = create(api, body)
        assert (goal["start_date"], goal["end_date"]) == (start, end), shortcut


def test_this_year_across_new_year(api, host, freeze_now):
    freeze_now(datetime(2026, 12, 31, 12, 0, tzinfo=UTC))
    host.timezone = "Pacific/Kiritimati"
    assert api.get("/meta").json["periods"]["this_year"] == {
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
    }
    host.timezone = "Pacific/Pago_Pago"
    assert api.get("/meta").json["periods"]["this_year"] == {
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }


def test_a_recurring_goal_defaults_to_the_current_period(api, host, freeze_now):
    freeze_now(INSTANT)
    host.timezone = "Pacific/Kiritimati"
    goal = create(api, {"category": "activities", "description": "Visits", "recurrence": "monthly"})
    assert (goal["start_date"], goal["end_date"]) == ("2026-04-01", "2026-04-30")
    assert goal["recurrence"] == "monthly"


def test_an_unknown_timezone_falls_back_to_the_configured_default(app, api, host, freeze_now):
    freeze_now(INSTANT)
    host.timezone = "Not/A_Zone"
    app.config["GOALS_DEFAULT_TIMEZONE"] = "Pacific/Kiritimati"
    assert api.get("/meta").json["today"] == "2026-04-01"
    app.config["GOALS_DEFAULT_TIMEZONE"] = "UTC"
    assert api.get("/meta").json["today"] == "2026-03-31"


# --- who may do what ------------------------------------------------------------------------------


def test_anonymous_calls_are_401_everywhere_and_write_nothing(api, db, goal):
    anonymous = api.as_user(None)
    goal_id = goal["id"]
    etag = api.get(f"/goals/{goal_id}").headers["ETag"]
    before = dump_tables(db)
    calls = [
        anonymous.get("/meta"),
        anonymous.get("/goals"),
        anonymous.post("/goals", json=sales_goal()),
        anonymous.post("/goals", data="not json", content_type="text/plain"),
        anonymous.get(f"/goals/{goal_id}"),
        anonymous.get(f"/goals/{goal_id}/intervals"),
        anonymous.patch(f"/goals/{goal_id}", json={"description": "x"}, headers={"If-Match": etag}),
        anonymous.delete(f"/goals/{goal_id}", headers={"If-Match": etag}),
        api.as_user("somebody-the-host-does-not-know").get("/goals"),
    ]
    for response in calls:
        assert response.status_code == 401, (response.request.path, response.json)
        assert response.json["code"] == 401
    assert dump_tables(db) == before


def test_a_reader_cannot_write(api, db, goal):
    rep = api.as_user("rep")
    before = dump_tables(db)
    assert rep.get(f"/goals/{goal['id']}").status_code == 200
    assert rep.post("/goals", json=sales_goal()).status_code == 403
    assert rep.post("/goals", json=sales_goal(team_id="team-a")).status_code == 403
    response = rep.write("PATCH", f"/goals/{goal['id']}", json={"description": "mine"})
    assert response.status_code == 403
    assert response.json["code"] == 403
    assert rep.write("DELETE", f"/goals/{goal['id']}").status_code == 403
    assert dump_tables(db) == before


def test_a_manager_writes_only_the_goals_of_their_teams(api, db, goal):
    manager = api.as_user("manager")
    team_goal = create(manager, sales_goal(team_id="team-a"))
    before = dump_tables(db)
    assert manager.post("/goals", json=sales_goal(team_id="team-b")).status_code == 403
    assert manager.post("/goals", json=sales_goal()).status_code == 403
    assert (
        manager.write("PATCH", f"/goals/{goal['id']}", json={"description": "x"}).status_code == 403
    )
    assert manager.write("DELETE", f"/goals/{goal['id']}").status_code == 403
    assert dump_tables(db) == before
    response = manager.write("PATCH", f"/goals/{team_goal['id']}", json={"description": "Team A"})
    assert response.status_code == 200
    assert response.json["description"] == "Team A"


def test_a_team_goal_is_invisible_outside_the_team(api):
    team_b_goal = create(api, sales_goal(team_id="team-b"))
    rep = api.as_user("rep")  # team-a only
    assert rep.get(f"/goals/{team_b_goal['id']}").status_code == 404
    assert rep.get(f"/goals/{team_b_goal['id']}/intervals").status_code == 404
    assert team_b_goal["id"] not in [g["id"] for g in rep.get("/goals").json]


def test_another_organization_goal_is_a_404_everywhere(api, db, goal):
    other = api.as_user("other-admin")
    goal_id = goal["id"]
    etag = api.get(f"/goals/{goal_id}").headers["ETag"]
    before = dump_tables(db)
    responses = [
        other.get(f"/goals/{goal_id}"),
        other.get(f"/goals/{goal_id}/intervals"),
        other.patch(f"/goals/{goal_id}", json={"description": "taken"}, headers={"If-Match": etag}),
        other.patch(
            f"/goals/{goal_id}?confirm=true",
            json={"end_date": "2026-01-31"},
            headers={"If-Match": etag},
        ),
        other.delete(f"/goals/{goal_id}", headers={"If-Match": etag}),
    ]
    for response in responses:
        assert response.status_code == 404, (response.request.path, response.json)
        assert response.json["message"] == f"Goal {goal_id} not found."
    assert other.get("/goals").json == []
    assert dump_tables(db) == before


def test_a_goal_that_does_not_exist_is_a_404(api):
    assert api.get("/goals/987654").status_code == 404
    assert api.get("/goals/987654/intervals").status_code == 404
    assert api.patch("/goals/987654", json={}, headers={"If-Match": '"x"'}).status_code == 404


# --- ETag and If-Match ------------------------------------------------------------------------


def test_reads_carry_an_etag_and_honour_if_none_match(api, goal):
    response = api.get(f"/goals/{goal['id']}")
    etag = response.headers["ETag"]
    assert etag
    assert api.get(f"/goals/{goal['id']}", headers={"If-None-Match": etag}).status_code == 304
    assert api.get(f"/goals/{goal['id']}/intervals").headers["ETag"]


def test_writes_without_if_match_are_428(api, db, goal):
    before = dump_tables(db)
    response = api.patch(f"/goals/{goal['id']}", json={"description": "x"})
    assert response.status_code == 428
    assert response.json["code"] == 428
    assert api.delete(f"/goals/{goal['id']}").status_code == 428
    assert dump_tables(db) == before


def test_writes_with_a_stale_etag_are_412(api, db, goal):
    path = f"/goals/{goal['id']}"
    stale = api.get(path).headers["ETag"]
    response = api.patch(path, json={"description": "first"}, headers={"If-Match": stale})
    assert response.status_code == 200
    fresh = response.headers["ETag"]
    assert fresh != stale
    assert fresh == api.get(path).headers["ETag"]

    before = dump_tables(db)
    response = api.patch(path, json={"description": "second"}, headers={"If-Match": stale})
    assert response.status_code == 412
    assert response.json["code"] == 412
    assert api.delete(path, headers={"If-Match": stale}).status_code == 412
    assert (
        api.patch(path, json={"description": "x"}, headers={"If-Match": '"nonsense"'}).status_code
        == 412
    )
    assert dump_tables(db) == before
    assert api.get(path).json["description"] == "first"


# --- list -------------------------------------------------------------------------------------


@pytest.fixture
def listed(api: ApiClient) -> dict[str, int]:
    """Four goals of org-1 and one of org-2, by name."""
    ids = {
        "q1_sales": create(api, sales_goal())["id"],
        "q2_team_a": create(
            api, sales_goal(start_date="2026-04-01", end_date="2026-06-30", team_id="team-a")
        )["id"],
        "feb_team_b": create(
            api, activities_goal(start_date="2026-02-01", end_date="2026-02-28", team_id="team-b")
        )["id"],
        "march_orders": create(api, orders_goal(start_date="2026-03-01", end_date="2026-03-31"))[
            "id"
        ],
    }
    ids["other_org"] = create(api.as_user("other-admin"), sales_goal())["id"]
    return ids


def listed_ids(api: ApiClient, query: str = "") -> list[int]:
    response = api.get(f"/goals{query}")
    assert response.status_code == 200, response.json
    return [goal["id"] for goal in response.json]


def test_list_is_newest_period_first_and_only_of_the_caller_organization(api, listed):
    assert listed_ids(api) == [
        listed["q2_team_a"],
        listed["march_orders"],
        listed["feb_team_b"],
        listed["q1_sales"],
    ]
    assert listed_ids(api.as_user("other-admin")) == [listed["other_org"]]


def test_list_shows_a_reader_the_org_wide_goals_and_those_of_their_teams(api, listed):
    assert listed_ids(api.as_user("rep")) == [
        listed["q2_team_a"],
        listed["march_orders"],
        listed["q1_sales"],
    ]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?category=sales", ["q2_team_a", "q1_sales"]),
        ("?category=activities", ["feb_team_b"]),
        ("?category=orders", ["march_orders"]),
        ("?team_id=team-a", ["q2_team_a"]),
        ("?team_id=team-b", ["feb_team_b"]),
        ("?team_id=team-x", []),
        ("?active_on=2026-03-15", ["march_orders", "q1_sales"]),
        ("?active_on=2026-03-31", ["march_orders", "q1_sales"]),
        ("?active_on=2026-04-01", ["q2_team_a"]),
        ("?active_on=2026-02-01", ["feb_team_b", "q1_sales"]),
        ("?active_on=2025-12-31", []),
        ("?category=sales&active_on=2026-03-15", ["q1_sales"]),
        ("?category=activities&team_id=team-a", []),
        ("?unrelated=1", ["q2_team_a", "march_orders", "feb_team_b", "q1_sales"]),
    ],
)
def test_list_filters(api, listed, query, names):
    assert listed_ids(api, query) == [listed[name] for name in names]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("?category=services", "query.category"),
        ("?active_on=2026-02-30", "query.active_on"),
        ("?team_id=", "query.team_id"),
    ],
)
def test_list_filters_are_validated(api, query, path):
    response = api.get(f"/goals{query}")
    assert response.status_code == 422
    errors_at(response, path)


def test_list_pagination(api, listed):
    everything = listed_ids(api)
    first = api.get("/goals?page_size=3")
    assert [g["id"] for g in first.json] == everything[:3]
    pagination = json.loads(first.headers["X-Pagination"])
    assert pagination["total"] == 4
    assert pagination["total_pages"] == 2
    assert pagination["page"] == 1
    assert pagination["next_page"] == 2
    second = api.get("/goals?page_size=3&page=2")
    assert [g["id"] for g in second.json] == everything[3:]
    assert json.loads(second.headers["X-Pagination"])["page"] == 2
    assert api.get("/goals?page_size=101").status_code == 422
    assert api.get("/goals?page=0").status_code == 422


def test_list_pagination_counts_only_visible_goals(api, listed):
    pagination = json.loads(api.as_user("rep").get("/goals").headers["X-Pagination"])
    assert pagination["total"] == 3


# --- change -----------------------------------------------------------------------------------


def test_patch_changes_only_what_it_is_given(api, goal):
    path = f"/goals/{goal['id']}"
    response = api.write(
        "PATCH", path, json={"description": "Q1, revised", "stretch_aim": "1100.00"}
    )
    assert response.status_code == 200
    changed = response.json
    assert changed["description"] == "Q1, revised"
    assert changed["stretch_aim"] == "1100.00"
    unchanged = {
        k: v for k, v in goal.items() if k not in ("description", "stretch_aim", "updated_at")
    }
    assert {k: changed[k] for k in unchanged} == unchanged
    assert api.get(path).json == changed


def test_patch_an_aim_spreads_it_again(api, goal):
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"aim": "100.00"})
    assert response.status_code == 200
    assert response.json["aim"] == "100.00"
    assert [i["aim"] for i in intervals_of(api, goal["id"])] == ["33.34", "33.33", "33.33"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"category": "orders"}, "json.category"),
        ({"category": "activities"}, "json.category"),
        ({"category": "services"}, "json.category"),
        ({"unknown": 1}, "json.unknown"),
        ({"aim": "1.001"}, "json.aim"),
        ({"aim": "-5"}, "json.aim"),
        ({"aim": None}, "json.aim"),
        ({"stretch_aim": "999.99"}, "json.stretch_aim"),
        ({"metric": "count"}, "json.metric"),
        ({"end_date": "2025-12-31"}, "json.end_date"),
        ({"description": ""}, "json.description"),
        ({"split_by_team_members": True}, "json.split_by_team_members"),
        ({"team_id": "no-such-team"}, "json.team_id"),
        ({"filters": {"activity_types": ["visit"]}}, "json.filters.activity_types"),
        ({"period": "this_month", "start_date": "2026-01-01"}, "json.period"),
        ({"goal_mode": "total"}, "json.goal_mode"),
    ],
)
def test_invalid_patch_is_a_422_and_writes_nothing(api, db, goal, body, path):
    before = dump_tables(db)
    response = api.write("PATCH", f"/goals/{goal['id']}", json=body)
    assert response.status_code == 422, response.json
    errors_at(response, path)
    assert dump_tables(db) == before


def test_patch_with_the_same_category_is_accepted(api, goal):
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"category": "sales"})
    assert response.status_code == 200
    assert response.json["category"] == "sales"


def test_patch_metric_to_a_whole_number_metric_refuses_cents(api, db):
    goal = create(api, sales_goal(aim="1000.50"))
    before = dump_tables(db)
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"metric": "quantity"})
    assert response.status_code == 422
    errors_at(response, "json.aim")
    assert dump_tables(db) == before


def test_patch_aim_of_an_activity_goal_is_refused(api, db):
    goal = create(api, activities_goal())
    before = dump_tables(db)
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"aim": "10"})
    assert response.status_code == 422
    errors_at(response, "json.aim")
    assert dump_tables(db) == before


def _set_interval_aims(db: Any, goal_id: int, aims: list[str]) -> None:
    """What a user does with ``PATCH .../intervals/{id}``, done on the rows directly."""
    intervals = db.session.scalars(
        Interval.__table__.select().where(Interval.goal_id == goal_id).order_by(Interval.start_date)
    ).all()
    for interval_id, aim in zip(intervals, aims, strict=True):
        db.session.get(Interval, interval_id).aim = Decimal(aim)
    db.session.commit()


def test_patch_dates_keeps_the_intervals_whose_bounds_are_unchanged(api, db, goal):
    _set_interval_aims(db, goal["id"], ["500.00", "250.00", "250.00"])
    before = intervals_of(api, goal["id"])
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"end_date": "2026-04-30"})
    assert response.status_code == 200, response.json
    after = intervals_of(api, goal["id"])
    assert after[:3] == before  # same ids, aims, business days
    assert bounds_and_aims(after[3:]) == [("2026-04-01", "2026-04-30", "0.00")]
    assert response.json["aim"] == "1000.00"


def test_patch_dates_gives_new_intervals_the_rest_of_the_aim(api, db):
    goal = create(api, sales_goal(end_date="2026-02-28", split_into_subperiods=True))
    _set_interval_aims(db, goal["id"], ["400.00", "200.00"])
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"end_date": "2026-04-30"})
    assert response.status_code == 200
    assert [i["aim"] for i in intervals_of(api, goal["id"])] == [
        "400.00",
        "200.00",
        "200.00",
        "200.00",
    ]


def test_patch_dropping_a_non_zero_aim_needs_confirmation(api, db, goal):
    path = f"/goals/{goal['id']}"
    before = dump_tables(db)
    response = api.write("PATCH", path, json={"end_date": "2026-02-28"})
    assert response.status_code == 409
    assert response.json["code"] == 409
    assert response.json["dropped"] == [
        {
            "interval_start": "2026-03-01",
            "interval_end": "2026-03-31",
            "field": "aim",
            "value": "333.33",
            "user_id": None,
        }
    ]
    assert dump_tables(db) == before

    response = api.write("PATCH", f"{path}?confirm=true", json={"end_date": "2026-02-28"})
    assert response.status_code == 200, response.json
    assert response.json["end_date"] == "2026-02-28"
    assert bounds_and_aims(intervals_of(api, goal["id"])) == [
        ("2026-01-01", "2026-01-31", "333.34"),
        ("2026-02-01", "2026-02-28", "333.33"),
    ]
    assert table_counts(db)["goals_interval"] == 2


def test_patch_turning_split_on_rebuilds_after_confirmation(api, db):
    goal = create(api, sales_goal())
    path = f"/goals/{goal['id']}"
    before = dump_tables(db)
    response = api.write("PATCH", path, json={"split_into_subperiods": True})
    assert response.status_code == 409
    assert [(d["interval_start"], d["value"]) for d in response.json["dropped"]] == [
        ("2026-01-01", "1000.00")
    ]
    assert dump_tables(db) == before
    response = api.write("PATCH", f"{path}?confirm=true", json={"split_into_subperiods": True})
    assert response.status_code == 200
    assert [i["aim"] for i in intervals_of(api, goal["id"])] == ["333.34", "333.33", "333.33"]


def test_patch_dropping_only_zero_aims_needs_no_confirmation(api):
    goal = create(api, sales_goal(aim="0.00", split_into_subperiods=True))
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"end_date": "2026-01-31"})
    assert response.status_code == 200
    assert len(intervals_of(api, goal["id"])) == 1


def test_patch_with_a_period_shortcut(api, goal, freeze_now):
    freeze_now(datetime(2026, 5, 10, 12, 0, tzinfo=UTC))
    response = api.write(
        "PATCH", f"/goals/{goal['id']}?confirm=true", json={"period": "this_quarter"}
    )
    assert response.status_code == 200
    assert (response.json["start_date"], response.json["end_date"]) == ("2026-04-01", "2026-06-30")


# --- delete -----------------------------------------------------------------------------------


def test_delete_hides_the_goal_but_keeps_the_row(api, db, goal):
    path = f"/goals/{goal['id']}"
    etag = api.get(path).headers["ETag"]
    response = api.delete(path, headers={"If-Match": etag})
    assert response.status_code == 204
    assert response.get_data() == b""
    assert api.get(path).status_code == 404
    assert api.get(f"{path}/intervals").status_code == 404
    assert api.get("/goals").json == []
    assert api.patch(path, json={"description": "x"}, headers={"If-Match": etag}).status_code == 404
    assert api.delete(path, headers={"If-Match": etag}).status_code == 404

    db.session.expire_all()
    row = db.session.get(Goal, goal["id"])
    assert row is not None
    assert row.deleted_at is not None
    assert row.deleted_by == "admin"
    assert table_counts(db)["goals_interval"] == 3


# --- transport: content type, JSON, error shape -------------------------------------------------


def test_a_body_that_is_not_json_is_a_415(api, db, goal):
    before = dump_tables(db)
    response = api.post("/goals", data=json.dumps(sales_goal()), content_type="text/plain")
    assert response.status_code == 415
    assert response.json["code"] == 415
    response = api.post("/goals", data={"category": "sales"})  # a form
    assert response.status_code == 415
    etag = api.get(f"/goals/{goal['id']}").headers["ETag"]
    response = api.patch(
        f"/goals/{goal['id']}",
        data="description=x",
        content_type="application/x-www-form-urlencoded",
        headers={"If-Match": etag},
    )
    assert response.status_code == 415
    assert dump_tables(db) == before


def test_malformed_json_is_a_400(api, db, goal):
    before = dump_tables(db)
    response = api.post("/goals", data='{"category": "sales",', content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 400
    assert "json" in response.json["errors"]
    assert dump_tables(db) == before


def test_a_json_body_that_is_not_an_object_is_a_422(api, db):
    response = api.post("/goals", json=["sales"])
    assert response.status_code == 422
    assert table_counts(db)["goals_goal"] == 0


def test_error_shape(api):
    response = api.post("/goals", json=sales_goal(aim="-1"))
    assert set(response.json) == {"code", "status", "message", "errors"}
    assert response.json["errors"] == {"json": {"aim": ["Must be greater than or equal to 0."]}}
    assert response.content_type == "application/json"


def test_organization_ids_are_never_taken_from_the_body(api, db):
    response = api.post("/goals", json=sales_goal(organization_id="org-2"))
    assert response.status_code == 422
    errors_at(response, "json.organization_id")
    goal = create(api, sales_goal())
    assert db.session.get(Goal, goal["id"]).organization_id == ORG


def test_goal_range_is_bounded(api, db):
    before = dump_tables(db)
    too_long = api.post("/goals", json=sales_goal(start_date="2000-01-01", end_date="2100-12-31"))
    assert too_long.status_code == 422
    assert "end_date" in too_long.json["errors"]["json"]
    too_late = api.post("/goals", json=sales_goal(start_date="9999-12-01", end_date="9999-12-31"))
    assert too_late.status_code == 422
    assert set(too_late.json["errors"]["json"]) == {"start_date", "end_date"}
    assert dump_tables(db) == before


def test_orders_goals_stay_editable_after_the_feature_is_switched_off(api, host):
    goal = api.post("/goals", json=sales_goal(category="orders", metric="count", aim="10")).json
    host.features["org-1"] = set()
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"description": "Closed"})
    assert response.status_code == 200, response.json
    refused = api.post("/goals", json=sales_goal(category="orders", metric="count", aim="10"))
    assert refused.status_code == 422
