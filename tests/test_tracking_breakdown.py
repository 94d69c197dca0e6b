"""``GET /goals/{id}/breakdown`` (SPEC §7) against hand-computed figures, with a
``SqlMetricSource`` over a real sales table of the test host.

Goal: Q1 2028 in months, team-a (rep, u2, u3), as of Tuesday 29 February 2028 (a leap day).
A year earlier, 29 February 2028 maps to 28 February 2027 (month end to month end).

==========  =========================  ==========================
brand       February 2028 (1-29 Feb)   February 2027 (1-28 Feb)
==========  =========================  ==========================
b1          50.00 (rep, 29 Feb)        0
b2          200.00 (u2)                80.00 (u2, 28 Feb 2027)
b3          0                          40.00 (u3)
==========  =========================  ==========================

The whole range to date (1 January to 29 February 2028, against 1 January to 28 February 2027)
adds rep's b1 100.00 of January 2028 and 300.00 of January 2027: b1 150.00 against 300.00.
u4 (team-b) and days after as_of never count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from conftest import sales_goal

from flask_wiseparts_goals import Goals
from flask_wiseparts_goals.sources import SqlMapping, SqlMetricSource

META = sa.MetaData()
LINES = sa.Table(
    "host_breakdown_lines",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("user_id", sa.String(64)),
    sa.Column("brand_id", sa.String(16)),
    sa.Column("customer_id", sa.String(16)),
    sa.Column("net", sa.Numeric(18, 2), nullable=False),
)
D = dt.date
ROWS = [
    ("rep", D(2028, 1, 10), "b1", "100.00"),
    ("rep", D(2028, 2, 29), "b1", "50.00"),
    ("u2", D(2028, 2, 15), "b2", "200.00"),
    ("u3", D(2028, 3, 1), "b3", "999.00"),  # after as_of
    ("u4", D(2028, 2, 10), "b1", "500.00"),  # team-b
    ("rep", D(2027, 1, 20), "b1", "300.00"),
    ("u2", D(2027, 2, 28), "b2", "80.00"),
    ("u3", D(2027, 2, 14), "b3", "40.00"),
    ("rep", D(2027, 3, 1), "b1", "700.00"),  # outside the comparison
    ("rep", D(2029, 2, 5), "b1", "10.00"),
]


@pytest.fixture
def source(app, db) -> Iterator[SqlMetricSource]:
    META.drop_all(db.engine)
    META.create_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(LINES),
            [
                {
                    "organization_id": "org-1",
                    "date": day,
                    "user_id": user,
                    "brand_id": brand,
                    "customer_id": "c1",
                    "net": Decimal(net),
                }
                for user, day, brand, net in ROWS
            ],
        )
    source = SqlMetricSource(
        SqlMapping("sales", LINES, metrics={"net": "net"}, filters={"brands": "brand_id"})
    )
    Goals.state(app).plugin_manager.register(source)
    yield source
    db.session.remove()  # PostgreSQL: an open read would block the DROP
    META.drop_all(db.engine)


def create(api, **overrides) -> dict:
    response = api.post("/goals", json=sales_goal(**overrides))
    assert response.status_code == 201, response.json
    return response.json


def q1_2028(api) -> dict:
    return create(
        api,
        start_date="2028-01-01",
        end_date="2028-03-31",
        team_id="team-a",
        split_into_subperiods=True,
    )


def rows(section: dict) -> list[tuple[str, str, str, str, str | None]]:
    return [
        (r["id"], r["actual"], r["compare_actual"], r["difference"], r["difference_percent"])
        for r in section["rows"]
    ]


def test_before_the_range_starts_nothing_is_measured(api, source):
    goal = q1_2028(api)
    body = api.get(f"/goals/{goal['id']}/breakdown?by=brand&as_of=2027-12-31").json
    assert body["current_interval"] is None
    period = body["period"]
    assert (period["measured_start"], period["compare_start"]) == (None, None)
    assert (period["actual"], period["compare_actual"], period["rows"]) == ("0.00", "0.00", [])


def test_breakdown_by_brand_against_the_previous_year_across_a_leap_day(api, source, db):
    goal = q1_2028(api)
    response = api.get(f"/goals/{goal['id']}/breakdown?by=brand&as_of=2028-02-29")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["by"], body["compare"], body["actuals_available"]) == (
        "brand",
        "previous_year",
        True,
    )
    current = body["current_interval"]
    assert (current["measured_start"], current["measured_end"]) == ("2028-02-01", "2028-02-29")
    assert (current["compare_start"], current["compare_end"]) == ("2027-02-01", "2027-02-28")
    assert (current["actual"], current["compare_actual"], current["difference"]) == (
        "250.00",
        "120.00",
        "130.00",
    )
    assert rows(current) == [  # largest shortfall first
        ("b3", "0.00", "40.00", "-40.00", "-100.0"),
        ("b1", "50.00", "0.00", "50.00", None),
        ("b2", "200.00", "80.00", "120.00", "150.0"),
    ]
    period = body["period"]
    assert period["interval_id"] is None
    assert (period["compare_start"], period["compare_end"]) == ("2027-01-01", "2027-02-28")
    assert (period["actual"], period["compare_actual"], period["difference"]) == (
        "350.00",
        "420.00",
        "-70.00",
    )
    assert rows(period) == [
        ("b1", "150.00", "300.00", "-150.00", "-50.0"),
        ("b3", "0.00", "40.00", "-40.00", "-100.0"),
        ("b2", "200.00", "80.00", "120.00", "150.0"),
    ]


def test_the_last_day_of_february_compares_with_the_leap_day(api, source):
    goal = create(api, start_date="2029-02-01", end_date="2029-02-28", team_id="team-a")
    body = api.get(f"/goals/{goal['id']}/breakdown?by=brand&as_of=2029-02-28").json
    section = body["current_interval"]
    assert (section["compare_start"], section["compare_end"]) == ("2028-02-01", "2028-02-29")
    assert rows(section) == [
        ("b2", "0.00", "200.00", "-200.00", "-100.0"),
        ("b1", "10.00", "50.00", "-40.00", "-80.0"),  # rep's 50.00 of the leap day counts
    ]


def test_breakdown_against_the_previous_period(api, source):
    """February 2028 (29 days) against the 29 days before it, 3 to 31 January."""
    goal = q1_2028(api)
    body = api.get(
        f"/goals/{goal['id']}/breakdown?by=brand&as_of=2028-02-29&compare=previous_period"
    ).json
    current = body["current_interval"]
    assert (current["compare_start"], current["compare_end"]) == ("2028-01-03", "2028-01-31")
    assert rows(current) == [
        ("b1", "50.00", "100.00", "-50.00", "-50.0"),
        ("b2", "200.00", "0.00", "200.00", None),
    ]
    # The whole range (91 days) against the 91 days before it: nothing was sold then.
    period = body["period"]
    assert (period["compare_start"], period["compare_end"]) == ("2027-10-02", "2027-11-30")
    assert period["compare_actual"] == "0.00"


def test_one_source_call_and_one_statement(api, source, db):
    goal = q1_2028(api)
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        if "host_breakdown_lines" in statement:
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = api.get(f"/goals/{goal['id']}/breakdown?by=brand&as_of=2028-02-29")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    assert len(seen) == 1


def test_a_dimension_the_source_cannot_group_by_is_422(api, source):
    goal = q1_2028(api)
    response = api.get(f"/goals/{goal['id']}/breakdown?by=customer")
    assert response.status_code == 422
    assert "by" in response.json["errors"]["query"]
    response = api.get(f"/goals/{goal['id']}/breakdown?by=planet")
    assert response.status_code == 422
    assert "by" in response.json["errors"]["query"]
    response = api.get(f"/goals/{goal['id']}/breakdown?by=brand&compare=last_week")
    assert "compare" in response.json["errors"]["query"]
    assert api.get("/goals/999999/breakdown?by=brand").status_code == 404


def test_breakdown_is_in_the_openapi(app):
    spec = app.test_client().get("/api/goals/openapi.json").json
    operation = spec["paths"]["/api/goals/goals/{goal_id}/breakdown"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"by", "as_of", "compare"}
    assert {"200", "404", "422", "502"} <= set(operation["responses"])
    row = spec["components"]["schemas"]["BreakdownRow"]["properties"]
    assert row["difference"]["format"] == "decimal"
