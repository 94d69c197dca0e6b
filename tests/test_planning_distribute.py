"""Seasonality: spreading a goal's aim over its intervals (SPEC §11), hand-computed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import FakeHost, dump_tables, sales_goal

from flask_wiseparts_goals import ActualsResult, hookimpl
from flask_wiseparts_goals.domain.distribution import year_before


class SalesHost(FakeHost):
    """A host whose metric source sums daily sales (one amount per day, the whole team)."""

    def __init__(self) -> None:
        super().__init__()
        self.daily: dict[date, Decimal] = {}
        self.queries: list = []
        self.answers = True

    @hookimpl
    def goals_collect_actuals(self, organization_id, category, queries):
        if not self.answers:
            return None
        self.queries.extend(queries)
        return {
            q.key: ActualsResult(
                total=sum(
                    (v for day, v in self.daily.items() if q.start <= day <= q.end), Decimal(0)
                )
            )
            for q in queries
        }


@pytest.fixture
def host() -> SalesHost:
    return SalesHost()


def year_goal(api, **overrides):
    fields = {
        "start_date": "2025-01-01",
        "end_date": "2025-12-31",
        "split_into_subperiods": True,
        "metric": "quantity",
        "aim": "1200",
        **overrides,
    }
    body = sales_goal(**fields)
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def spread(api, goal_id, confirm=False, **body):
    return api.post(
        f"/goals/{goal_id}/intervals/distribute" + ("?confirm=true" if confirm else ""), json=body
    )


def aims(api, goal_id):
    return [i["aim"] for i in api.get(f"/goals/{goal_id}/intervals").json]


def test_year_before_keeps_whole_months_across_leap_years():
    assert year_before(date(2025, 2, 1), date(2025, 2, 28)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert year_before(date(2024, 2, 1), date(2024, 2, 29)) == (date(2023, 2, 1), date(2023, 2, 28))
    assert year_before(date(2024, 2, 29), date(2024, 3, 10)) == (
        date(2023, 2, 28),
        date(2023, 3, 10),
    )
    assert year_before(date(2025, 1, 15), date(2025, 4, 30)) == (
        date(2024, 1, 15),
        date(2024, 4, 30),
    )


def test_previous_year_weights_by_last_years_months_with_a_zero_month_and_a_leap_february(
    api, host
):
    # 2024 (a leap year): 1 sale a day, except nothing in August; February counts 29 days.
    day = date(2024, 1, 1)
    while day.year == 2024:
        host.daily[day] = Decimal(0 if day.month == 8 else 1)
        day += timedelta(days=1)
    goal = year_goal(api, aim="1000")
    response = spread(api, goal["id"], strategy="previous_year")
    assert response.status_code == 200, response.json
    assert response.json["fell_back_to_equal"] is False
    # Weights: 31, 29, 31, 30, 31, 30, 31, 0, 30, 31, 30, 31 (sum 335); 1000/335 per unit:
    # 31 days → 92.537, 29 → 86.567, 30 → 89.552, August 0. Floors: 6 × 92 + 4 × 89 + 86 = 994;
    # the 6 units left go to the largest remainders: February (.567), then the 30-day months
    # (.552: April, June, September, November), then January (.537, the first 31-day month).
    assert aims(api, goal["id"]) == [
        "93", "87", "92", "90", "92", "90", "92", "0", "90", "92", "90", "92"
    ]  # fmt: skip
    assert sum(Decimal(a) for a in aims(api, goal["id"])) == 1000
    february = host.queries[1]
    assert (february.start, february.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert len(host.queries) == 12  # one call, one query per interval
    assert response.json["weights"][1] == "29"
    history = api.get(f"/goals/{goal['id']}/history").json
    assert {row["operation"] for row in history} >= {"distribute"}


def test_profile_weights_with_money_and_remainders(api):
    goal = year_goal(
        api, metric="net", aim="100.00", start_date="2026-01-01", end_date="2026-03-31"
    )
    response = spread(api, goal["id"], strategy="profile", weights=[1, 1, 1])
    assert response.status_code == 200, response.json
    assert aims(api, goal["id"]) == ["33.34", "33.33", "33.33"]
    response = spread(api, goal["id"], strategy="profile", weights=["2", "1", "0"])
    assert aims(api, goal["id"]) == ["66.67", "33.33", "0.00"]
    assert response.json["weights"] == ["2", "1", "0"]
    response = spread(api, goal["id"], strategy="profile", weights=[0.5, 0.25, 0.25])
    assert response.status_code == 200, response.json
    assert aims(api, goal["id"]) == ["50.00", "25.00", "25.00"]


def test_profile_of_the_wrong_length_or_negative_is_422_and_writes_nothing(api, db):
    goal = year_goal(api, start_date="2026-01-01", end_date="2026-03-31")
    before = dump_tables(db)
    response = spread(api, goal["id"], strategy="profile", weights=[1, 2])
    assert response.status_code == 422
    assert "weights" in response.json["errors"]["json"]
    response = spread(api, goal["id"], strategy="profile", weights=[1, -2, 1])
    assert response.status_code == 422
    assert "weights" in response.json["errors"]["json"]
    response = spread(api, goal["id"], strategy="equal", weights=[1, 2, 3])
    assert response.status_code == 422
    response = spread(api, goal["id"], strategy="profile")
    assert response.status_code == 422
    assert dump_tables(db) == before


def test_fallback_to_equal_with_a_note(api, host):
    goal = year_goal(api, aim="100", start_date="2026-01-01", end_date="2026-03-31")
    response = spread(api, goal["id"], strategy="profile", weights=[0, 0, 0])
    assert response.json["fell_back_to_equal"] is True
    assert response.json["notes"]
    assert aims(api, goal["id"]) == ["34", "33", "33"]
    response = spread(api, goal["id"], strategy="previous_year")  # no sales a year earlier
    assert response.json["fell_back_to_equal"] is True
    assert "one year earlier" in response.json["notes"][0]
    host.answers = False
    response = spread(api, goal["id"], strategy="previous_year")
    assert response.json["fell_back_to_equal"] is True
    assert "No metric source" in response.json["notes"][0]
    assert response.json["weights"] is None


def test_equal_is_todays_rule(api):
    goal = year_goal(api, aim="100", start_date="2026-01-01", end_date="2026-03-31")
    spread(api, goal["id"], strategy="profile", weights=[1, 0, 0])
    assert aims(api, goal["id"]) == ["100", "0", "0"]
    response = spread(api, goal["id"], strategy="equal")
    assert response.status_code == 200
    assert aims(api, goal["id"]) == ["34", "33", "33"]


def test_aims_below_the_members_allocations_are_409_then_confirmed(api, db):
    goal = year_goal(
        api,
        aim="90",
        start_date="2026-01-01",
        end_date="2026-03-31",
        team_id="team-a",
        split_by_team_members=True,
    )
    january = api.get(f"/goals/{goal['id']}/intervals").json[0]
    path = f"/goals/{goal['id']}/intervals/{january['id']}/allocations/distribute"
    assert api.post(path, json={"strategy": "equal"}).status_code == 200  # 10, 10, 10
    before = dump_tables(db)
    response = spread(api, goal["id"], strategy="profile", weights=[0, 1, 1])
    assert response.status_code == 409
    # January keeps 30 (its members' allocations), February and March get 45 each.
    assert response.json["current_aim"] == "90"
    assert response.json["proposed_aim"] == "120"
    assert [i["proposed_aim"] for i in response.json["intervals"]] == ["45", "45"]
    assert dump_tables(db) == before
    response = spread(api, goal["id"], confirm=True, strategy="profile", weights=[0, 1, 1])
    assert response.status_code == 200
    assert aims(api, goal["id"]) == ["30", "45", "45"]
    assert api.get(f"/goals/{goal['id']}").json["aim"] == "120"


def test_activity_goals_cannot_be_spread(api):
    response = api.post(
        "/goals",
        json={
            "category": "activities",
            "description": "Visits",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "goal_mode": "total",
            "split_into_subperiods": True,
        },
    )
    assert response.status_code == 201, response.json
    response = spread(api, response.json["id"], strategy="equal")
    assert response.status_code == 422
    assert "strategy" in response.json["errors"]["json"]


def test_another_organizations_goal_is_404(api):
    goal = year_goal(api)
    response = spread(api.as_user("other-admin"), goal["id"], strategy="equal")
    assert response.status_code == 404


def test_a_stale_if_match_is_412(api, db):
    goal = year_goal(api, aim="100", start_date="2026-01-01", end_date="2026-03-31")
    etag = api.get(f"/goals/{goal['id']}/intervals").headers["ETag"]
    assert spread(api, goal["id"], strategy="profile", weights=[1, 0, 0]).status_code == 200
    before = dump_tables(db)
    response = api.post(
        f"/goals/{goal['id']}/intervals/distribute",
        json={"strategy": "equal"},
        headers={"If-Match": etag},
    )
    assert response.status_code == 412
    assert dump_tables(db) == before
