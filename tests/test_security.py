"""Safe in any host's browser (SPEC §13): no cross-site write, the headers every page and API
answer carries, the CSV import's compare-and-set.

A page on another origin can make the victim's browser send only "simple" requests: no custom
header, a body of ``text/plain``, ``application/x-www-form-urlencoded`` or
``multipart/form-data`` (or none), with the victim's cookie and ``Origin`` /
``Sec-Fetch-Site`` saying where it comes from. Every write endpoint of the OpenAPI document is
tried that way here, and nothing may change. tests/test_browser.py does the same from a real
second origin in Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import conftest
import pytest
from conftest import (
    ApiClient,
    FakeHost,
    created,
    dump_tables,
    first_interval,
    make_app,
    sales_goal,
)
from flask import Flask

PREFIX = "/api/goals"
WRITES = {"post", "put", "patch", "delete"}


def spec_operations(app: Flask) -> list[tuple[str, str]]:
    spec = app.test_client().get(f"{PREFIX}/openapi.json").json
    return sorted(
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in spec["paths"].items()
        for method in operations
        if method in WRITES | {"get"}
    )


@pytest.fixture
def world(api: ApiClient) -> dict[str, int]:
    goal = created(
        api,
        sales_goal(
            aim="3000.00", team_id="team-a", split_by_team_members=True, split_into_subperiods=True
        ),
    )
    interval = first_interval(api, goal["id"])
    path = f"/goals/{goal['id']}/intervals/{interval['id']}/allocations"
    body = {"allocations": [{"user_id": "rep", "target": "900.00"}]}
    assert api.write("PUT", path, json=body).status_code == 200
    return {"goal_id": goal["id"], "interval_id": interval["id"]}


def fill(path: str, world: dict[str, int]) -> str:
    return path.replace("{goal_id}", str(world["goal_id"])).replace(
        "{interval_id}", str(world["interval_id"])
    )


# --------------------------------------------------------------------------------------------
# (a) Cross-site writes: refused, nothing written
# --------------------------------------------------------------------------------------------

#: What a page on another origin can make the browser send, and the status it gets.
FORGERIES: dict[str, tuple[dict[str, Any], int]] = {
    # fetch(url, {method, mode: "no-cors", credentials: "include"}) and sendBeacon(url)
    "no body, no type": ({}, 415),
    "form, empty": ({"content_type": "application/x-www-form-urlencoded", "data": ""}, 415),
    "form, urlencoded": (
        {"content_type": "application/x-www-form-urlencoded", "data": "aim=1.00"},
        415,
    ),
    "form, text/plain JSON": ({"content_type": "text/plain", "data": '{"aim": "1.00"}'}, 415),
    "form, multipart": ({"data": {"aim": "1.00"}}, 415),
    # A browser that labels the request: JSON needs a CORS preflight, but a host with a loose
    # CORS policy would let it through; the labels alone refuse it.
    "JSON, Sec-Fetch-Site cross-site": (
        {"json": {}, "headers": {"Sec-Fetch-Site": "cross-site"}},
        403,
    ),
    "JSON, Sec-Fetch-Site same-site (a subdomain)": (
        {"json": {}, "headers": {"Sec-Fetch-Site": "same-site"}},
        403,
    ),
    "JSON, Origin of another site": ({"json": {}, "headers": {"Origin": "https://evil.test"}}, 403),
    "JSON, Origin of another port": (
        {"json": {}, "headers": {"Origin": "http://localhost:8081"}},
        403,
    ),
    "JSON, Origin of a subdomain": (
        {"json": {}, "headers": {"Origin": "http://shop.localhost"}},
        403,
    ),
    "JSON, Origin null (sandboxed frame)": ({"json": {}, "headers": {"Origin": "null"}}, 403),
    "CSRF header, Origin of another site": (
        {"headers": {"X-CSRFToken": "x", "Origin": "https://evil.test"}},
        403,
    ),
}


def _send(app: Flask, method: str, path: str, request: dict[str, Any]) -> Any:
    """The request as the victim's browser sends it: with the victim's credentials (the
    fake host names the caller by ``X-User``, standing in for the session cookie)."""
    request = dict(request)
    headers = {"X-User": "admin", **request.pop("headers", {})}
    client = app.test_client()
    client.set_cookie("session", "victim")
    return client.open(PREFIX + path, method=method, headers=headers, **request)


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_no_cross_site_write_changes_anything(app, api, db, world, forgery) -> None:
    request, status = FORGERIES[forgery]
    writes = [(m, p) for m, p in spec_operations(app) if m.lower() in WRITES]
    assert len(writes) >= 10
    before = dump_tables(db)
    for method, path in writes:
        response = _send(app, method, fill(path, world) + "?confirm=true", request)
        assert response.status_code == status, (method, path, response.json)
        assert response.json["code"] == status
        assert response.headers["Cache-Control"] == "private, no-cache"
    db.session.rollback()
    assert dump_tables(db) == before


def test_refusals_name_the_header_at_fault(app, world) -> None:
    path = f"/goals/{world['goal_id']}"
    response = _send(app, "DELETE", path, {"headers": {"Origin": "https://evil.test"}})
    assert response.status_code == 403
    assert "Origin" in response.json["errors"]["headers"]
    response = _send(app, "DELETE", path, {"headers": {"Sec-Fetch-Site": "cross-site"}})
    assert "Sec-Fetch-Site" in response.json["errors"]["headers"]
    response = _send(app, "DELETE", path, {})
    assert response.status_code == 415
    assert response.json["errors"]["json"] == ["Expected Content-Type application/json."]
    assert "X-CSRFToken" in response.json["message"]


def _copy(app: Flask, world: dict[str, int], **request: Any) -> Any:
    path = f"/goals/{world['goal_id']}/intervals/{world['interval_id']}/copy?confirm=true"
    return _send(app, "POST", path, request)


def test_the_proofs_a_page_or_client_of_its_own_sends_are_accepted(app, api, world) -> None:
    # JSON with an empty body, from the page's own origin as the browser labels it.
    same = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert _copy(app, world, content_type="application/json", headers=same).status_code == 200
    # The CSRF header alone (what the pages add in a host with CSRFProtect), no body.
    assert _copy(app, world, headers={"X-CSRFToken": "token"}).status_code == 200
    # Typed in the address bar or a bookmark: Sec-Fetch-Site none.
    none = {"Sec-Fetch-Site": "none"}
    assert _copy(app, world, content_type="application/json", headers=none).status_code == 200
    # A token client sends no cookie: a browser cannot forge its Authorization header.
    token = app.test_client().post(
        f"{PREFIX}/goals/{world['goal_id']}/intervals/{world['interval_id']}/copy?confirm=true",
        headers={"X-User": "admin", "Authorization": "Bearer abc"},
    )
    assert token.status_code == 200, token.json
    last = api.get(f"/goals/{world['goal_id']}/intervals").json[-1]["id"]
    copied = api.get(f"/goals/{world['goal_id']}/intervals/{last}/allocations").json
    rep = next(a for a in copied["allocations"] if a["user_id"] == "rep")
    assert rep["target"] == "900.00"  # the copies happened


def test_authorization_with_a_cookie_still_needs_the_proof(app, world) -> None:
    response = _copy(app, world, headers={"Authorization": "Bearer abc"})
    assert response.status_code == 415


def test_csrf_header_with_a_form_body_is_refused(app, world) -> None:
    response = _copy(app, world, headers={"X-CSRFToken": "x"}, content_type="text/plain", data="x")
    assert response.status_code == 415


@pytest.fixture
def trusting_app(host: FakeHost) -> Iterator[Flask]:
    app = make_app(
        host,
        GOALS_TRUSTED_ORIGINS=["https://shop.example.com"],
        GOALS_CSRF_HEADER="X-Host-Token",
    )
    conftest._reset(app)
    with app.app_context():
        host.install(app)
        yield app
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


def test_trusted_origins_and_the_csrf_header_are_configurable(trusting_app) -> None:
    client = ApiClient(trusting_app)
    goal = created(client, sales_goal(aim="3000.00", split_into_subperiods=True))
    interval = first_interval(client, goal["id"])
    world = {"goal_id": goal["id"], "interval_id": interval["id"]}
    trusted = {"Origin": "https://shop.example.com", "Sec-Fetch-Site": "same-site"}
    # A listed origin is an origin of the application: Sec-Fetch-Site same-site is still
    # refused (the browser says it is another origin), so a trusted origin sends none or
    # the host's reverse proxy strips it; Origin alone passes.
    assert _copy(trusting_app, world, json={}, headers=trusted).status_code == 403
    ok = _copy(trusting_app, world, json={}, headers={"Origin": "https://shop.example.com"})
    assert ok.status_code == 200, ok.json
    # The CSRF header is the configured one; the default name is no proof any more.
    assert _copy(trusting_app, world, headers={"X-CSRFToken": "t"}).status_code == 415
    assert _copy(trusting_app, world, headers={"X-Host-Token": "t"}).status_code == 200


# --------------------------------------------------------------------------------------------
# (b) Headers of every API answer
# --------------------------------------------------------------------------------------------


def test_every_api_answer_is_private_and_unsniffable(app, api, world) -> None:
    reads = [p for m, p in spec_operations(app) if m == "GET"]
    assert len(reads) >= 12
    query = "?as_of=2026-02-10&by=brand&kind=team"
    for path in reads:
        response = api.get(fill(path, world) + query)
        assert response.status_code < 500, path
        headers = response.headers
        assert headers["Cache-Control"] == "private, no-cache", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'self'" in headers["Content-Security-Policy"], path
        assert {"Cookie", "Authorization"} <= set(response.vary), path
    # Writes, errors, the catch-all, the OpenAPI document and its docs page too.
    others = [
        api.post("/goals", json=sales_goal(aim="10.00")),
        api.get("/goals/99999"),
        api.post("/goals", json={}),
        api.get("/no-such-thing"),
        api.as_user(None).get("/goals"),
        app.test_client().get(f"{PREFIX}/openapi.json"),
        app.test_client().get(f"{PREFIX}/docs"),
    ]
    assert [r.status_code for r in others] == [201, 404, 422, 404, 401, 200, 200]
    for response in others:
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]


def test_an_etag_still_revalidates(api, world) -> None:
    path = f"/goals/{world['goal_id']}"
    etag = api.get(path).headers["ETag"]
    response = api.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["Cache-Control"] == "private, no-cache"


# --------------------------------------------------------------------------------------------
# (c) The CSV import is a compare-and-set
# --------------------------------------------------------------------------------------------


def _csv_path(world: dict[str, int]) -> str:
    return f"/goals/{world['goal_id']}/targets.csv"


def _put_csv(api: ApiClient, world: dict[str, int], text: str, **headers: str) -> Any:
    return api.put(_csv_path(world), data=text, content_type="text/csv", headers=headers)


def _edited(text: str, old: str, new: str) -> str:
    assert f",rep,{old}" in text
    return text.replace(f",rep,{old}", f",rep,{new}")


def test_csv_download_has_an_etag_and_revalidates(api, world) -> None:
    response = api.get(_csv_path(world))
    etag = response.headers["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert api.get(_csv_path(world), headers={"If-None-Match": etag}).status_code == 304


def test_csv_import_without_if_match_is_428_and_writes_nothing(api, db, world) -> None:
    text = _edited(api.get(_csv_path(world)).text, "900.00", "100.00")
    before = dump_tables(db)
    response = _put_csv(api, world, text)
    assert response.status_code == 428, response.json
    assert "If-Match" in response.json["errors"]["headers"]
    db.session.rollback()
    assert dump_tables(db) == before


def test_an_old_spreadsheet_never_overwrites_a_colleagues_edit(api, db, world) -> None:
    download = api.get(_csv_path(world))
    text, etag = download.text, download.headers["ETag"]
    # A colleague changes the rep's target after the download.
    interval = f"/goals/{world['goal_id']}/intervals/{world['interval_id']}/allocations"
    body = {"allocations": [{"user_id": "rep", "target": "950.00"}]}
    assert api.write("PUT", interval, json=body).status_code == 200
    before = dump_tables(db)
    for dry_run in ("true", "false"):
        response = api.put(
            _csv_path(world) + f"?dry_run={dry_run}",
            data=_edited(text, "900.00", "100.00"),
            content_type="text/csv",
            headers={"If-Match": etag},
        )
        assert response.status_code == 412, response.json
    db.session.rollback()
    assert dump_tables(db) == before
    rep = next(a for a in api.get(interval).json["allocations"] if a["user_id"] == "rep")
    assert rep["target"] == "950.00"


def test_a_current_etag_imports(api, world) -> None:
    download = api.get(_csv_path(world))
    text = _edited(download.text, "900.00", "100.00")
    response = _put_csv(api, world, text, **{"If-Match": download.headers["ETag"]})
    assert response.status_code == 200, response.json
    assert [c["new_value"] for c in response.json["changes"]] == ["100.00"]
    # The file is now stale: the same upload again is a 412.
    again = _put_csv(api, world, text, **{"If-Match": download.headers["ETag"]})
    assert again.status_code == 412
    assert api.get(_csv_path(world)).headers["ETag"] != download.headers["ETag"]
