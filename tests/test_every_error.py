"""Every error at once (SPEC §14): a 422 lists every invalid or missing field of the request,
not the first round of them, and a derived amount out of range names the exact input path."""

from __future__ import annotations

import pytest
from conftest import ApiClient, dump_tables, sales_goal

DATES = "Missing data; give start_date and end_date, or a period shortcut."
REQUIRED = "Missing data for required field."
SALES_METRIC = "Missing data for required field; one of: net, gross, quantity, margin."


def errors_of(response) -> dict:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]["json"]


def test_an_empty_sales_form_flags_every_missing_field_at_once(api: ApiClient, db):
    before = dump_tables(db)
    errors = errors_of(api.post("/goals", json={"category": "sales"}))
    assert errors == {
        "description": [REQUIRED],
        "start_date": [DATES],
        "end_date": [DATES],
        "aim": [REQUIRED],
        "metric": [SALES_METRIC],
    }
    assert dump_tables(db) == before


def test_an_empty_body_flags_category_description_and_dates(api: ApiClient):
    assert errors_of(api.post("/goals", json={})) == {
        "category": [REQUIRED],
        "description": [REQUIRED],
        "start_date": [DATES],
        "end_date": [DATES],
    }


def test_a_schema_valid_body_lists_dates_aim_and_metric_together(api: ApiClient):
    errors = errors_of(api.post("/goals", json={"category": "sales", "description": "Q1"}))
    assert errors == {
        "start_date": [DATES],
        "end_date": [DATES],
        "aim": [REQUIRED],
        "metric": [SALES_METRIC],
    }


def test_field_errors_come_with_the_rules_between_fields(api: ApiClient):
    body = {
        "category": "sales",
        "description": "   ",
        "metric": "count",
        "period": "this_month",
        "start_date": "2026-01-01",
        "split_by_team_members": True,
    }
    errors = errors_of(api.post("/goals", json=body))
    assert errors == {
        "description": ["Must not be empty or only whitespace."],
        "period": ["Give either period or start_date and end_date, not both."],
        "metric": ["'count' is not a metric of sales goals; one of: net, gross, quantity, margin."],
        "aim": [REQUIRED],
        "split_by_team_members": ["Splitting by team members needs a team_id."],
    }


def test_an_invalid_field_is_told_once_not_also_as_missing(api: ApiClient):
    body = sales_goal(aim="abc", description="", start_date="2026-13-01")
    body["end_date"] = "2026-01-31"
    errors = errors_of(api.post("/goals", json=body))
    assert errors == {
        "aim": ["Not a valid number."],
        "description": ["Must not be empty or only whitespace."],
        "start_date": ["Not a valid date: use YYYY-MM-DD."],
    }


def test_the_end_before_the_start_with_other_problems(api: ApiClient):
    body = sales_goal(description="", start_date="2026-02-01", end_date="2026-01-01")
    body.pop("aim")
    errors = errors_of(api.post("/goals", json=body))
    assert errors == {
        "description": ["Must not be empty or only whitespace."],
        "end_date": ["Must be on or after start_date."],
        "aim": [REQUIRED],
    }


def test_a_patch_lists_date_and_other_problems_together(api: ApiClient):
    goal = api.post("/goals", json=sales_goal(stretch_aim="1200.00")).get_json()
    path = f"/goals/{goal['id']}"
    response = api.write(
        "PATCH",
        path,
        json={"period": "this_month", "start_date": "2026-01-01", "stretch_aim": "10.00"},
        etag_of=path,
    )
    assert errors_of(response) == {
        "period": ["Give either period or start_date and end_date, not both."],
        "stretch_aim": ["Must be greater than or equal to aim."],
    }


# -- derived amounts name the exact input -----------------------------------------------------

PER_DAY = {
    "category": "activities",
    "description": "Visits",
    "start_date": "2026-01-01",
    "end_date": "2026-01-31",
    "goal_mode": "per_business_day",
    "daily_target": "1",
    "team_id": "team-a",
    "split_by_team_members": True,
}
HUGE = "1000000000000000"  # 1e15 a day: valid alone; × 22 business days of January, too much


@pytest.fixture
def per_day(api: ApiClient) -> tuple[dict, dict]:
    goal = api.post("/goals", json=PER_DAY).get_json()
    interval = api.get(f"/goals/{goal['id']}/intervals").get_json()[0]
    return goal, interval


def put(api: ApiClient, goal: dict, interval: dict, entries: list[dict]):
    path = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations"
    return api.write("PUT", path, json={"allocations": entries}, etag_of=path)


def test_a_derived_amount_names_its_entry(api: ApiClient, db, per_day):
    goal, interval = per_day
    assert interval["business_days"] == 22
    before = dump_tables(db)
    entries = [{"user_id": "rep", "daily_target": "2"}, {"user_id": "u2", "daily_target": HUGE}]
    errors = errors_of(put(api, goal, interval, entries))
    # Only u2's entry is at fault: its target, 22 × 1e15, and the totals it makes.
    assert list(errors) == ["allocations"]
    assert list(errors["allocations"]) == ["1"]
    messages = errors["allocations"]["1"]["daily_target"]
    assert messages[0] == (
        "This would make the target of u2 22000000000000000.00, above the maximum 9999999999999999.99."
    )
    assert dump_tables(db) == before


def test_a_derived_amount_as_the_first_entry(api: ApiClient, per_day):
    goal, interval = per_day
    errors = errors_of(put(api, goal, interval, [{"user_id": "rep", "daily_target": HUGE}]))
    assert set(errors["allocations"]["0"]) == {"daily_target"}


def test_a_total_of_valid_entries_names_every_entry(api: ApiClient):
    body = sales_goal(aim="1.00", team_id="team-a", split_by_team_members=True)
    goal = api.post("/goals", json=body).get_json()
    interval = api.get(f"/goals/{goal['id']}/intervals").get_json()[0]
    maximum = "9999999999999999.99"
    path = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations"
    response = api.write(
        "PUT",
        path + "?confirm=true",
        json={
            "allocations": [
                {"user_id": "rep", "target": maximum},
                {"user_id": "u2", "target": maximum},
            ]
        },
        etag_of=path,
    )
    errors = errors_of(response)
    # Each target fits; their sum (the interval's and the goal's aim) does not: both entries.
    assert set(errors["allocations"]) == {"0", "1"}
    assert all(set(errors["allocations"][k]) == {"target"} for k in ("0", "1"))
