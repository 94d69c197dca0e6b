"""Strict inputs and bounded numbers (SPEC §6): canonical ids in URLs, one date format, strict
booleans, no duplicated JSON keys, capped lists and bodies, bounded pages and derived amounts,
and CLI errors as one line."""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
from typing import Any

import pytest
from conftest import ApiClient, dump_tables, make_app, sales_goal, table_counts
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_wiseparts_goals.api.common import MAX_PAGE
from flask_wiseparts_goals.models import Base as GoalsBase
from flask_wiseparts_goals.schemas.fields import MAX_FILTER_IDS


def test_id_with_leading_zero_is_404(api: ApiClient) -> None:
    response = api.post("/goals", json=sales_goal())
    assert response.status_code == 201, response.get_json()
    goal_id = response.get_json()["id"]
    assert api.get(f"/goals/{goal_id}").status_code == 200
    response = api.get(f"/goals/0{goal_id}")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


# -- dates, booleans, text, lists ----------------------------------------------------------


@pytest.mark.parametrize("value", ["20260101", "2026-W01-1", "2026-001", "2026-1-1", 20260101])
def test_dates_only_as_yyyy_mm_dd(api: ApiClient, db: SQLAlchemy, value: Any) -> None:
    before = table_counts(db)
    response = api.post("/goals", json=sales_goal(start_date=value))
    assert response.status_code == 422, response.get_json()
    assert "start_date" in response.get_json()["errors"]["json"]
    assert table_counts(db) == before


def test_query_dates_only_as_yyyy_mm_dd(api: ApiClient) -> None:
    assert api.get("/goals?active_on=2026-02-01").status_code == 200
    response = api.get("/goals?active_on=20260201")
    assert response.status_code == 422
    assert "active_on" in response.get_json()["errors"]["query"]


@pytest.mark.parametrize("value", ["yes", "on", "t", "y", "True", "TRUE"])
def test_boolean_query_values_only_true_false(api: ApiClient, value: str) -> None:
    goal = api.post("/goals", json=sales_goal()).get_json()
    response = api.write("PATCH", f"/goals/{goal['id']}?confirm={value}", json={"aim": "5.00"})
    assert response.status_code == 422, response.get_json()
    assert "confirm" in response.get_json()["errors"]["query"]


@pytest.mark.parametrize("value", ["true", "1"])
def test_boolean_query_true_and_one_confirm(api: ApiClient, value: str) -> None:
    goal = api.post("/goals", json=sales_goal(split_into_subperiods=True)).get_json()
    assert api.write("PATCH", f"/goals/{goal['id']}?confirm={value}", json={}).status_code == 200


def test_boolean_body_values_are_json_booleans(api: ApiClient) -> None:
    response = api.post("/goals", json=sales_goal(split_into_subperiods="yes"))
    assert response.status_code == 422
    assert "split_into_subperiods" in response.get_json()["errors"]["json"]


def test_duplicated_json_key_is_400(api: ApiClient, db: SQLAlchemy) -> None:
    before = table_counts(db)
    body = (
        '{"category": "sales", "description": "Q1", "start_date": "2026-01-01", '
        '"end_date": "2026-03-31", "metric": "net", "aim": "1.00", "aim": "2.00"}'
    )
    response = api.post("/goals", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_json()
    payload = response.get_json()
    assert payload["code"] == 400
    assert "aim" in payload["message"]
    assert table_counts(db) == before


def test_duplicated_key_in_a_nested_object_is_400(api: ApiClient) -> None:
    body = (
        '{"category": "sales", "description": "Q1", "start_date": "2026-01-01", '
        '"end_date": "2026-03-31", "aim": "1.00", '
        '"filters": {"brands": {"include": ["a"], "include": ["b"]}}}'
    )
    response = api.post("/goals", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "include" in response.get_json()["message"]


@pytest.mark.parametrize("description", [" ", "\t\n", "\u2003"])
def test_whitespace_only_description_is_422(api: ApiClient, description: str) -> None:
    response = api.post("/goals", json=sales_goal(description=description))
    assert response.status_code == 422
    assert "description" in response.get_json()["errors"]["json"]
    goal = api.post("/goals", json=sales_goal()).get_json()
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"description": description})
    assert response.status_code == 422
    assert "description" in response.get_json()["errors"]["json"]


def test_filter_id_lists_are_capped(api: ApiClient, db: SQLAlchemy) -> None:
    ids = [f"b{n}" for n in range(MAX_FILTER_IDS + 1)]
    before = table_counts(db)
    response = api.post("/goals", json=sales_goal(filters={"brands": {"include": ids}}))
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    assert errors["filters"]["brands"]["include"]
    assert table_counts(db) == before
    response = api.post("/goals", json=sales_goal(filters={"brands": {"include": ids[:-1]}}))
    assert response.status_code == 201


def test_filter_list_cap_is_in_the_openapi(api: ApiClient) -> None:
    spec = api.client.get("/api/goals/openapi.json").get_json()
    include = spec["components"]["schemas"]["IncludeExclude"]["properties"]["include"]
    assert include["maxItems"] == MAX_FILTER_IDS


# -- body size ---------------------------------------------------------------------------


def test_body_above_the_limit_is_413_before_parsing(app: Flask, db: SQLAlchemy) -> None:
    app.config["GOALS_MAX_BODY_BYTES"] = 1000
    api = ApiClient(app)
    before = table_counts(db)
    body = sales_goal(description="x" * 100, filters={"brands": {"include": ["b" * 60] * 20}})
    response = api.post("/goals", json=body)
    assert response.status_code == 413
    payload = response.get_json()
    assert payload["code"] == 413 and "1000" in payload["message"]
    assert table_counts(db) == before
    assert api.post("/goals", json=sales_goal()).status_code == 201


def test_body_limit_defaults_to_one_mebibyte(app: Flask, api: ApiClient) -> None:
    assert app.config["GOALS_MAX_BODY_BYTES"] == 1024 * 1024
    padding = "x" * (1024 * 1024)
    response = api.post("/goals", json=sales_goal(description=padding))
    assert response.status_code == 413


def test_chunked_body_above_the_limit_is_413(app: Flask) -> None:
    """A chunked body has no Content-Length: the limit applies while it is read (servers that
    accept chunked bodies, like gunicorn, say so with ``wsgi.input_terminated``)."""
    app.config["GOALS_MAX_BODY_BYTES"] = 1000
    client = app.test_client()
    payload = json.dumps(sales_goal(description="x" * 5000)).encode()
    response = client.post(
        "/api/goals/goals",
        input_stream=io.BytesIO(payload),
        headers={
            "X-User": "admin",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


# -- pagination bounds -------------------------------------------------------------------


@pytest.mark.parametrize("page", ["99999999999999999999", str(MAX_PAGE + 1)])
@pytest.mark.parametrize("user", ["admin", "manager", "rep"])
def test_page_beyond_the_maximum_is_422(api: ApiClient, page: str, user: str) -> None:
    goal = api.post("/goals", json=sales_goal(team_id="team-a")).get_json()
    for path in (f"/goals/{goal['id']}/history", "/goals"):
        response = api.as_user(user).get(f"{path}?page={page}")
        assert response.status_code == 422, (path, response.get_json())
        assert "page" in response.get_json()["errors"]["query"]
    assert api.get(f"/goals/{goal['id']}/history?page={MAX_PAGE}").status_code == 200


def test_page_maximum_is_in_the_openapi(api: ApiClient) -> None:
    spec = api.client.get("/api/goals/openapi.json").get_json()
    for path in ("/api/goals/goals/{goal_id}/history", "/api/goals/goals"):
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert parameters["page"]["schema"]["maximum"] == MAX_PAGE
        assert parameters["page_size"]["schema"]["maximum"] >= 100


# -- bounded derived numbers -------------------------------------------------------------

PER_DAY = {
    "category": "activities",
    "description": "Visits",
    "start_date": "2026-01-01",
    "end_date": "2026-03-31",
    "goal_mode": "per_business_day",
    "daily_target": "1",
}
HUGE = "1000000000000000"  # 1e15: valid alone, times ~20 business days beyond the columns


def test_daily_target_whose_aim_overflows_is_422_on_create(api: ApiClient, db: SQLAlchemy) -> None:
    before = table_counts(db)
    response = api.post("/goals", json={**PER_DAY, "daily_target": HUGE})
    assert response.status_code == 422, response.get_json()
    assert "daily_target" in response.get_json()["errors"]["json"]
    assert table_counts(db) == before


def test_daily_target_whose_aim_overflows_is_422_on_edit(api: ApiClient, db: SQLAlchemy) -> None:
    goal = api.post("/goals", json={**PER_DAY, "split_into_subperiods": True}).get_json()
    before = dump_tables(db)
    response = api.write("PATCH", f"/goals/{goal['id']}", json={"daily_target": HUGE})
    assert response.status_code == 422, response.get_json()
    assert "daily_target" in response.get_json()["errors"]["json"]
    interval = api.get(f"/goals/{goal['id']}/intervals").get_json()[0]
    response = api.write(
        "PATCH",
        f"/goals/{goal['id']}/intervals/{interval['id']}",
        json={"daily_target": HUGE},
    )
    assert response.status_code == 422, response.get_json()
    assert "daily_target" in response.get_json()["errors"]["json"]
    assert dump_tables(db) == before


def test_member_daily_targets_whose_sum_overflows_is_422(api: ApiClient, db: SQLAlchemy) -> None:
    body = {**PER_DAY, "team_id": "team-a", "split_by_team_members": True}
    goal = api.post("/goals", json=body).get_json()
    interval = api.get(f"/goals/{goal['id']}/intervals").get_json()[0]
    before = dump_tables(db)
    response = api.write(
        "PUT",
        f"/goals/{goal['id']}/intervals/{interval['id']}/allocations",
        json={"allocations": [{"user_id": "rep", "daily_target": HUGE}]},
    )
    assert response.status_code == 422, response.get_json()
    assert "allocations" in response.get_json()["errors"]["json"]
    assert dump_tables(db) == before


def test_confirmed_cascade_beyond_the_maximum_is_422(api: ApiClient, db: SQLAlchemy) -> None:
    near_max = "9000000000000000.00"
    goal = api.post("/goals", json=sales_goal(aim=near_max, split_into_subperiods=True)).get_json()
    intervals = api.get(f"/goals/{goal['id']}/intervals").get_json()
    before = dump_tables(db)
    # Raising one month to near the maximum cascades the goal aim beyond it.
    response = api.write(
        "PATCH",
        f"/goals/{goal['id']}/intervals/{intervals[0]['id']}?confirm=true",
        json={"aim": near_max},
    )
    assert response.status_code == 422, response.get_json()
    assert "aim" in response.get_json()["errors"]["json"]
    assert dump_tables(db) == before


def test_sum_of_maximum_allocations_is_422(api: ApiClient, db: SQLAlchemy) -> None:
    body = sales_goal(aim="1.00", team_id="team-a", split_by_team_members=True)
    goal = api.post("/goals", json=body).get_json()
    interval = api.get(f"/goals/{goal['id']}/intervals").get_json()[0]
    before = dump_tables(db)
    maximum = "9999999999999999.99"
    response = api.write(
        "PUT",
        f"/goals/{goal['id']}/intervals/{interval['id']}/allocations?confirm=true",
        json={
            "allocations": [
                {"user_id": "rep", "target": maximum},
                {"user_id": "u2", "target": maximum},
            ]
        },
    )
    assert response.status_code == 422, response.get_json()
    assert "allocations" in response.get_json()["errors"]["json"]
    assert dump_tables(db) == before


# -- CLI ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["goals", "recurrence", "run"],
        ["goals", "recurrence", "run", "--dry-run"],
        ["goals", "planning", "run"],
    ],
)
def test_cli_without_tables_is_one_line_exit_2(app: Flask, args: list[str]) -> None:
    engine = app.extensions["sqlalchemy"].engine
    GoalsBase.metadata.drop_all(engine)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "flask goals db upgrade" in lines[0]
    assert "Traceback" not in result.output


def test_cli_with_unreachable_database_is_one_line_exit_2(host: Any) -> None:
    app = make_app(host, SQLALCHEMY_DATABASE_URI="sqlite:////nonexistent-dir/goals.db")
    result = app.test_cli_runner().invoke(args=["goals", "recurrence", "run"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "database" in lines[0].lower(), result.output


def test_every_schema_uses_the_strict_date_and_boolean_fields() -> None:
    """The strict fields are the one way of reading dates and booleans: a schema added later
    with marshmallow's lenient ``Date``/``Boolean`` would accept ``20260101`` or ``yes``."""
    import inspect

    import marshmallow as ma

    from flask_wiseparts_goals import schemas
    from flask_wiseparts_goals.schemas.fields import IsoDate, StrictBoolean

    lenient = []
    for module in pkgutil.iter_modules(schemas.__path__):
        loaded = importlib.import_module(f"{schemas.__name__}.{module.name}")
        for name, schema in inspect.getmembers(loaded, inspect.isclass):
            if not issubclass(schema, ma.Schema) or schema.__module__ != loaded.__name__:
                continue
            for field_name, field in schema._declared_fields.items():
                if isinstance(field, ma.fields.Date) and not isinstance(field, IsoDate):
                    lenient.append(f"{name}.{field_name}")
                if isinstance(field, ma.fields.Boolean) and not isinstance(field, StrictBoolean):
                    lenient.append(f"{name}.{field_name}")
    assert not lenient
