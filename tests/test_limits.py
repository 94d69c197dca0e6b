"""Limits are limits (SPEC §13b): bodies above the limit are 413s, chunked or not, and never a
partial import; error lists are capped; a targets CSV export imports as it is (its size, odd
ids); an amount too large for its column names the row and column; progress pages its
members; 409 bodies match their documented schema; a PATCH without a body and over-long
strings are 422s. Every refused request leaves the tables as they were."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from conftest import ApiClient, dump_tables, sales_goal

from flask_wiseparts_goals.api.errors import MAX_ERRORS, cap_errors
from flask_wiseparts_goals.services.planning import MAX_CSV_ROW_BYTES


def csv_path(goal_id: int, **query: str) -> str:
    args = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/goals/{goal_id}/targets.csv" + (f"?{args}" if args else "")


def put_csv(
    api: ApiClient, goal_id: int, data: bytes, *, chunked: bool = False, **query: str
) -> Any:
    """PUT a targets file, with the ETag of the current export as ``If-Match`` when there is
    one (``*`` otherwise), declared or chunked."""
    etag = api.get(csv_path(goal_id)).headers.get("ETag") or "*"
    headers = {"Content-Type": "text/csv", "If-Match": etag}
    if not chunked:
        return api.put(csv_path(goal_id, **query), data=data, headers=headers)
    return api.put(
        csv_path(goal_id, **query),
        input_stream=io.BytesIO(data),
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def team_goal(api: ApiClient, **overrides: Any) -> dict[str, Any]:
    body = sales_goal(
        aim="900.00", split_into_subperiods=True, team_id="team-a", split_by_team_members=True
    )
    body.update(overrides)
    response = api.post("/goals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def messages(node: Any) -> list[str]:
    """Every message of an ``errors`` tree."""
    if isinstance(node, dict):
        return [m for value in node.values() for m in messages(value)]
    if isinstance(node, list):
        return [m for value in node for m in messages(value)]
    return [node] if isinstance(node, str) else []


# --------------------------------------------------------------------------------------------
# Bodies above the limit: 413, chunked or not, nothing imported
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_a_csv_above_its_limit_is_413_and_nothing_is_imported(app, api, db, chunked):
    app.config["GOALS_MAX_BODY_BYTES"] = 2000
    goal = team_goal(api)
    exported = api.get(csv_path(goal["id"])).get_data()
    limit = 4096 + 12 * MAX_CSV_ROW_BYTES  # 3 intervals × (an interval row + 3 members)
    # A valid file: its first row changes, blank lines a spreadsheet might leave, then a last
    # row that changes too. Cut at the limit it would import the first row only.
    first = b"2026-01-01,rep,100.00\r\n"
    last = b"2026-03-01,u3,50.00\r\n"
    header = exported.split(b"\r\n")[0] + b"\r\n"
    body = header + first + b"\r\n" * ((limit - len(header)) // 2) + last
    assert len(body) > limit
    before = dump_tables(db)

    response = put_csv(api, goal["id"], body, chunked=chunked)
    assert response.status_code == 413, response.json
    assert response.json["code"] == 413
    db.session.rollback()
    assert dump_tables(db) == before

    # Without the padding the same file imports both rows.
    response = put_csv(api, goal["id"], header + first + last, chunked=chunked)
    assert response.status_code == 200, response.json
    assert len(response.json["changes"]) == 2


def test_a_chunked_json_body_at_the_limit_is_413(app, api, db):
    app.config["GOALS_MAX_BODY_BYTES"] = 1000
    goal = team_goal(api)
    interval = api.get(f"/goals/{goal['id']}/intervals").json[0]
    before = dump_tables(db)
    entries = [{"user_id": "rep", "target": "1.00"}] * 60
    path = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations"
    response = api.put(
        path,
        input_stream=io.BytesIO(json.dumps({"allocations": entries}).encode()),
        headers={
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "If-Match": api.get(path).headers["ETag"],
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert dump_tables(db) == before


# --------------------------------------------------------------------------------------------
# A CSV export imports as it is: its size, its ids
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_an_export_larger_than_the_body_limit_imports_as_it_is(app, api, host, chunked):
    app.config["GOALS_MAX_BODY_BYTES"] = 1000
    host.teams["team-a"] = [f"user-{'x' * 50}-{n:02}" for n in range(40)]
    goal = team_goal(api)
    exported = api.get(csv_path(goal["id"])).get_data()
    assert len(exported) > 5 * app.config["GOALS_MAX_BODY_BYTES"]
    edited = exported.replace(b",0.00\r\n", b",1.00\r\n")
    response = put_csv(api, goal["id"], edited, chunked=chunked, confirm="true")
    assert response.status_code == 200, response.json
    assert response.json["rows"] == 3 * 41
    assert sum(1 for c in response.json["changes"] if c["field"] == "target") == 3 * 40
    # A file much larger than the goal's own could be is still refused.
    too_big = exported + b"\r\n" * (4096 + 3 * 41 * MAX_CSV_ROW_BYTES)
    assert put_csv(api, goal["id"], too_big, chunked=chunked).status_code == 413


def test_the_largest_allowed_goal_round_trips(app, api, host, db):
    """10 years (120 monthly intervals) × 400 members: 48,120 rows, about 1.6 MB."""
    host.teams["team-a"] = [f"rep-{n:03}-of-the-largest-team" for n in range(400)]
    goal = team_goal(
        api, start_date="2026-01-01", end_date="2035-12-31", aim="1200000.00", description="Big"
    )
    exported = api.get(csv_path(goal["id"])).get_data()
    assert len(exported) > app.config["GOALS_MAX_BODY_BYTES"]
    assert exported.count(b"\r\n") == 1 + 120 * 401
    response = put_csv(api, goal["id"], exported, chunked=True)
    assert response.status_code == 200, response.json
    assert response.json["rows"] == 120 * 401 and response.json["changes"] == []


ODD_IDS = ["'quoted", "''twice", " spaced", "trailing ", "=formula", "'=both", "\ttab", "plain"]


def test_ids_beginning_with_a_quote_or_a_space_round_trip(api, host):
    host.teams["team-a"] = ODD_IDS
    goal = team_goal(api)
    exported = api.get(csv_path(goal["id"])).get_data(as_text=True)
    unchanged = put_csv(api, goal["id"], exported.encode())
    assert unchanged.status_code == 200, unchanged.json
    assert unchanged.json["changes"] == []

    edited = exported.split("\r\n")
    january = [n for n, line in enumerate(edited) if line.startswith("2026-01-01,") and n > 1]
    for position, line_number in enumerate(january):
        edited[line_number] = edited[line_number].replace(",0.00", f",{position + 1}.00")
    response = put_csv(api, goal["id"], "\r\n".join(edited).encode())
    assert response.status_code == 200, response.json
    changed = {c["user_id"]: c["new_value"] for c in response.json["changes"] if c["user_id"]}
    assert changed == {user: f"{n + 1}.00" for n, user in enumerate(ODD_IDS)}


# --------------------------------------------------------------------------------------------
# Amounts too large, capped error lists
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("confirm", ["true", "false"])
def test_a_member_target_too_large_names_its_row_and_column(api, db, confirm):
    goal = team_goal(api)
    before = dump_tables(db)
    text = (
        "interval_start,user_id,target\r\n"
        "2026-01-01,rep,10.00\r\n"
        "2026-02-01,u2,9999999999999999.99\r\n"
        "2026-03-01,u3,20.00\r\n"
    )
    response = put_csv(api, goal["id"], text.encode(), confirm=confirm)
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["csv"]) == ["3"]
    assert list(response.json["errors"]["csv"]["3"]) == ["target"]
    db.session.rollback()
    assert dump_tables(db) == before


def test_csv_error_lists_are_capped_with_the_count(app, api, db):
    goal = team_goal(api)
    before = dump_tables(db)
    rows = "".join(f"2026-01-01,stranger-{n},1.00\r\n" for n in range(2500))
    response = put_csv(api, goal["id"], f"interval_start,user_id,target\r\n{rows}".encode())
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["_count"] == 2500
    assert len(messages(errors["csv"])) == MAX_ERRORS
    assert set(errors["csv"]) == {str(row) for row in range(2, 2 + MAX_ERRORS)}  # the first
    assert f"The first {MAX_ERRORS} of 2500 errors are listed." in response.json["message"]
    assert len(response.get_data()) < 30_000
    assert dump_tables(db) == before


def test_json_error_lists_are_capped_too(api, db):
    goal = team_goal(api)
    interval = api.get(f"/goals/{goal['id']}/intervals").json[0]
    before = dump_tables(db)
    entries = [{"user_id": f"u{n}", "target": "x"} for n in range(3000)]
    response = api.write(
        "PUT",
        f"/goals/{goal['id']}/intervals/{interval['id']}/allocations",
        json={"allocations": entries},
    )
    assert response.status_code == 422
    assert response.json["errors"]["_count"] == 3000
    assert len(messages(response.json["errors"]["json"])) == MAX_ERRORS
    assert dump_tables(db) == before


def test_few_errors_are_listed_as_they_are():
    errors = {"json": {"a": ["one"], "b": {"0": ["two", "three"]}}}
    assert cap_errors(errors) == (errors, 3)
    assert cap_errors(errors, limit=2) == ({"json": {"a": ["one"], "b": {"0": ["two"]}}}, 3)


# --------------------------------------------------------------------------------------------
# Progress pages its members
# --------------------------------------------------------------------------------------------


def test_progress_pages_its_members(api, host):
    host.teams["team-a"] = [f"m{n}" for n in range(7)]
    goal = team_goal(api)
    path = f"/goals/{goal['id']}/progress"

    everyone = api.get(path, query_string={"as_of": "2026-02-10"})
    assert everyone.status_code == 200
    assert [m["user_id"] for m in everyone.json["period"]["members"]] == [f"m{n}" for n in range(7)]
    assert json.loads(everyone.headers["X-Pagination"])["total"] == 7

    pages = [
        api.get(path, query_string={"as_of": "2026-02-10", "page": page, "page_size": 3})
        for page in (1, 2, 3)
    ]
    assert [len(p.json["period"]["members"]) for p in pages] == [3, 3, 1]
    assert [m["user_id"] for p in pages for m in p.json["period"]["members"]] == [
        f"m{n}" for n in range(7)
    ]
    for page in pages:
        assert page.json["period"] == {
            **everyone.json["period"],
            "members": page.json["period"]["members"],
        }
        assert all(
            len(i["members"]) == len(page.json["period"]["members"]) for i in page.json["intervals"]
        )
    header = json.loads(pages[1].headers["X-Pagination"])
    assert header == {
        "total": 7,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
    }
    assert api.get(path, query_string={"page_size": 501}).status_code == 422


def test_progress_pagination_is_declared_in_the_openapi(api):
    spec = api.client.get("/api/goals/openapi.json").json
    operation = spec["paths"]["/api/goals/goals/{goal_id}/progress"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["page_size"]["schema"]["maximum"] == 500
    assert parameters["page_size"]["schema"]["default"] == 500
    assert "page" in parameters
    assert "X-Pagination" in operation["responses"]["200"]["headers"]


# --------------------------------------------------------------------------------------------
# 409 bodies match their schema; PATCH needs a body; strings have a maximum
# --------------------------------------------------------------------------------------------


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = spec["components"]["schemas"][name]
    return node


def assert_matches(spec: dict[str, Any], schema: dict[str, Any], value: Any, path: str) -> None:
    """``value`` uses only the properties ``schema`` declares (``additionalProperties: false``)."""
    schema = _resolve(spec, schema)
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            assert key in schema["properties"], f"{path}.{key} is not in the schema"
            assert_matches(spec, schema["properties"][key], item, f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            assert_matches(spec, schema["items"], item, f"{path}.{index}")


def test_every_409_body_matches_the_conflict_schema(api):
    spec = api.client.get("/api/goals/openapi.json").json
    conflict = spec["components"]["schemas"]["Conflict"]
    assert conflict["additionalProperties"] is False

    goal = team_goal(api, stretch_aim="950.00")
    interval = api.get(f"/goals/{goal['id']}/intervals").json[0]
    exceeded = api.write(
        "PUT",
        f"/goals/{goal['id']}/intervals/{interval['id']}/allocations",
        json={"allocations": [{"user_id": "rep", "target": "500.00"}]},
    )
    assert exceeded.status_code == 409
    assert exceeded.json["proposed_stretch_aim"] == "1100.00"
    assert_matches(spec, conflict, exceeded.json, "exceeded")

    confirmed = api.write(
        "PUT",
        f"/goals/{goal['id']}/intervals/{interval['id']}/allocations",
        json={"allocations": [{"user_id": "rep", "target": "50.00"}]},
    )
    assert confirmed.status_code == 200
    dropped = api.write("PATCH", f"/goals/{goal['id']}", json={"split_into_subperiods": False})
    assert dropped.status_code == 409, dropped.json
    assert dropped.json["dropped"]
    assert_matches(spec, conflict, dropped.json, "dropped")


def test_a_patch_without_a_body_is_422_and_changes_nothing(api, db):
    goal = team_goal(api)
    interval = api.get(f"/goals/{goal['id']}/intervals").json[0]
    before = dump_tables(db)
    for path in (f"/goals/{goal['id']}", f"/goals/{goal['id']}/intervals/{interval['id']}"):
        response = api.write("PATCH", path, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (path, response.json)
        assert response.json["errors"] == {"json": {"_schema": ["A JSON body is required."]}}
        assert api.write("PATCH", path).status_code == 422  # no Content-Type either
    assert dump_tables(db) == before
    # An empty object is a body: a PATCH that changes nothing.
    assert api.write("PATCH", f"/goals/{goal['id']}", json={}).status_code == 200


@pytest.mark.parametrize("timezone", ["a" * 300, "\U0001f600" * 64, "Europe/" + "x" * 300])
def test_an_over_long_timezone_is_422(api, db, timezone):
    before = dump_tables(db)
    response = api.put("/me/notification-settings", json={"timezone": timezone})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "timezone" in response.json["errors"]["json"]
    assert dump_tables(db) == before


def test_an_over_long_timezone_from_the_host_falls_back(api, host):
    host.timezone = (
        "\U0001f600" * 64
    )  # 256 bytes: too long for a file name (the host's column is 64)
    assert api.get("/meta").status_code == 200
    body = {k: v for k, v in sales_goal(period="this_month").items() if "date" not in k}
    assert api.post("/goals", json=body).status_code == 201, body


def _strings(spec: dict[str, Any], schema: dict[str, Any], path: str, seen: set[str]) -> Any:
    """Every string an input schema takes, with its path."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
    schema = _resolve(spec, schema)
    for option in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from _strings(spec, option, path, seen)
    if schema.get("type") == "string" or "string" in (schema.get("type") or []):
        yield path, schema
    for key, item in (schema.get("properties") or {}).items():
        if not item.get("readOnly"):
            yield from _strings(spec, item, f"{path}.{key}", seen)
    if isinstance(schema.get("items"), dict):
        yield from _strings(spec, schema["items"], f"{path}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _strings(spec, schema["additionalProperties"], f"{path}{{}}", seen)


def test_every_input_string_has_a_documented_maximum(api):
    """A string without ``maxLength``, ``enum``, a ``pattern`` or a date/decimal format could
    reach code that was never tried with a megabyte of it."""
    spec = api.client.get("/api/goals/openapi.json").json
    unbounded = []
    for url, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            parameters = [
                spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
                for p in operation.get("parameters", [])
            ]
            # Headers (If-Match) are bounded by the server's header limit and only compared.
            inputs = [
                (f"{method.upper()} {url} {p['name']}", p.get("schema", {}))
                for p in parameters
                if p["in"] != "header"
            ]
            body = operation.get("requestBody", {}).get("content", {})
            inputs += [
                (f"{method.upper()} {url} body", media["schema"])
                for kind, media in body.items()
                if kind == "application/json"
            ]
            for where, schema in inputs:
                for path, string in _strings(spec, schema, where, set()):
                    if not (
                        "maxLength" in string
                        or "enum" in string
                        or "pattern" in string
                        or string.get("format") in ("date", "decimal", "date-time")
                    ):
                        unbounded.append(path)
    assert unbounded == []
