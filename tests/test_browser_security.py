"""Browser safety in a real browser (SPEC §13, issue 22): Playwright driving Debian's Chromium.

The example host runs on ``http://127.0.0.1:<port>`` with a signed-in victim (a manager). An
attacker's server on another port serves pages that try every write the OpenAPI document lists
(``{goal_id}``/``{interval_id}`` filled with the victim's own goal, ``?confirm=true`` as in the
issue) with ``no-cors`` fetches (no body, ``text/plain``, urlencoded, multipart, forged JSON
headers), a CORS fetch with JSON, ``navigator.sendBeacon`` and form posts into hidden iframes
(urlencoded, ``text/plain`` — the JSON-in-a-form trick —, multipart; empty and with fields).
The attacker page is opened from two origins:

- ``http://localhost:<port2>``, another *site*: the browser does not even send the victim's
  ``SameSite=Lax`` cookie;
- ``http://127.0.0.1:<port2>``, the same site on another port, another *origin*: cookies do not
  isolate by port, so the session cookie **is** sent and only the API's own checks stop it.

A recorder around the host's WSGI app sees every request the attacks made (with or without the
cookie, and the answer); the victim's database is compared before and after (every table), as is
what the victim's own API calls show. Then the victim still writes through the pages; a host with
Flask-WTF's ``CSRFProtect`` runs every write flow of the pages (create, edit, distribute, CSV
import); and the goal page cannot be framed by another origin while its own origin can frame it.

Skipped, never failed, when Playwright or Chromium is missing (``CHROMIUM_PATH`` points at
another Chromium). No sleeps: ``expect`` retries, the recorder waits on a condition.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed", exc_type=ImportError
)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"No Chromium at {CHROMIUM}", allow_module_level=True)

from flask import Flask  # noqa: E402
from flask_wtf.csrf import CSRFProtect  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

# The page helpers of the goal pages' own browser tests (same Chromium, same pages).
from test_browser import (  # noqa: E402
    CHROMIUM_ARGS,
    confirm_if_asked,
    csv_upload,
    month_label,
    open_goal_page,
)
from werkzeug.serving import BaseWSGIServer, make_server  # noqa: E402

from example_app import create_app  # noqa: E402
from example_app.models import db  # noqa: E402
from example_app.seed import seed, seed_goals  # noqa: E402

TIMEOUT_MS = 15_000
MANAGER = "acme-manager-north"
MANAGER_NAME = "Norbert Nord"
VICTIM_GOAL = "North revenue this quarter"

expect.set_options(timeout=TIMEOUT_MS)


# -- Servers -------------------------------------------------------------------------------


@dataclass
class Seen:
    """One request the host answered."""

    method: str
    path: str
    query: str
    origin: str | None
    fetch_site: str | None
    fetch_dest: str | None
    content_type: str | None
    cookie: bool
    status: int


@dataclass
class Recorder:
    """WSGI middleware: every request the wrapped app answered, for the tests to wait on."""

    app: Any
    seen: list[Seen] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def record(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            entry = Seen(
                method=environ["REQUEST_METHOD"],
                path=environ.get("PATH_INFO", ""),
                query=environ.get("QUERY_STRING", ""),
                origin=environ.get("HTTP_ORIGIN"),
                fetch_site=environ.get("HTTP_SEC_FETCH_SITE"),
                fetch_dest=environ.get("HTTP_SEC_FETCH_DEST"),
                content_type=environ.get("CONTENT_TYPE"),
                cookie="session=" in environ.get("HTTP_COOKIE", ""),
                status=int(status.split()[0]),
            )
            with self.changed:
                self.seen.append(entry)
                self.changed.notify_all()
            return start_response(status, headers, *args)

        return self.app(environ, record)

    def wait_for(self, predicate: Callable[[list[Seen]], bool], what: str) -> list[Seen]:
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.seen), timeout=TIMEOUT_MS / 1000):
                pytest.fail(f"The host never saw {what}: {self.seen[-5:]}")
            return list(self.seen)


@dataclass
class Host:
    url: str
    app: Flask
    database: Path
    recorder: Recorder


@dataclass
class Target:
    """One write of the OpenAPI document, filled in for the victim's goal."""

    method: str
    url: str
    body: dict[str, Any] | None
    csv: str | None = None

    @property
    def text(self) -> str:
        return self.csv if self.csv is not None else json.dumps(self.body or {})

    @property
    def fields(self) -> dict[str, str]:
        """The body as flat form fields (what a form or URLSearchParams can carry)."""
        if self.csv is not None:
            return {"csv": self.csv}
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in (self.body or {}).items()}


def serve(app: Any, name: str) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return server, thread


def stop(server: BaseWSGIServer, thread: threading.Thread) -> None:
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """The example app as it ships (SameSite=Lax session cookie), seeded, on a free port."""
    database = tmp_path_factory.mktemp("victim") / "demo.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        seed(reset=True)
        seed_goals()
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    server, thread = serve(app, "victim-app")
    try:
        yield Host(f"http://127.0.0.1:{server.server_port}", app, database, recorder)
    finally:
        stop(server, thread)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def csrf_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """The example app with Flask-WTF's CSRFProtect on: every POST, PUT, PATCH and DELETE of
    the host (the login picker, the goal API) needs the session's token."""
    database = tmp_path_factory.mktemp("csrf") / "demo.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    CSRFProtect(app)
    with app.app_context():
        seed(reset=True)
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    server, thread = serve(app, "csrf-host")
    try:
        yield Host(f"http://127.0.0.1:{server.server_port}", app, database, recorder)
    finally:
        stop(server, thread)
        with app.app_context():
            db.engine.dispose()


ATTACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Free gift cards</title></head>
<body><h1>Free gift cards</h1>
<script>
// Every write the victim's browser can be made to send without the API's consent. Returns how
// many requests certainly left the browser (resolved fetches, queued beacons, submitted forms)
// and what the browser itself refused.
window.attack = async (targets) => {
  let sent = 0;
  const refusedByBrowser = [];
  const json = (t) => t.text;
  const params = (t) => new URLSearchParams(t.fields);
  const formData = (t) => {
    const data = new FormData();
    for (const [k, v] of Object.entries(t.fields)) data.append(k, v);
    return data;
  };
  async function tryFetch(label, url, init) {
    try {
      await fetch(url, { credentials: "include", ...init });
      sent += 1;
    } catch (error) {
      refusedByBrowser.push(`${label}: ${error.message}`);
    }
  }
  let frames = 0;
  function post(t, enctype, fields) {
    const name = `sink-${frames++}`;
    const frame = document.createElement("iframe");
    frame.name = name;
    frame.hidden = true;
    document.body.append(frame);
    const form = document.createElement("form");
    form.method = "post";
    form.action = t.url;
    form.enctype = enctype;
    form.target = name;
    for (const [k, v] of Object.entries(fields)) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = k;
      input.value = v;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
    sent += 1;
  }
  const work = [];
  for (const t of targets) {
    const m = t.method;
    work.push(tryFetch(`${m} ${t.url} no-cors, no body`, t.url, { method: m, mode: "no-cors" }));
    work.push(tryFetch(`${m} ${t.url} no-cors, text/plain`, t.url,
      { method: m, mode: "no-cors", body: json(t) }));
    work.push(tryFetch(`${m} ${t.url} no-cors, urlencoded`, t.url,
      { method: m, mode: "no-cors", body: params(t) }));
    work.push(tryFetch(`${m} ${t.url} no-cors, multipart`, t.url,
      { method: m, mode: "no-cors", body: formData(t) }));
    // Headers a no-cors request may not carry: the browser drops them (text/plain is sent).
    work.push(tryFetch(`${m} ${t.url} no-cors, forged JSON headers`, t.url, {
      method: m, mode: "no-cors", body: json(t),
      headers: { "Content-Type": t.csv === null ? "application/json" : "text/csv",
                 "X-CSRFToken": "forged", "If-Match": "*" },
    }));
    // A CORS request with JSON (or another method): the preflight gets no consent.
    work.push(tryFetch(`${m} ${t.url} cors, JSON`, t.url, {
      method: m, mode: "cors", body: json(t),
      headers: { "Content-Type": t.csv === null ? "application/json" : "text/csv" },
    }));
    if (m === "POST") {
      for (const body of [undefined, json(t), params(t), formData(t)]) {
        if (navigator.sendBeacon(t.url, body)) sent += 1;
        else refusedByBrowser.push(`${m} ${t.url} beacon not queued`);
      }
    }
    // Forms post whatever the endpoint's method: POST is all a form has.
    for (const enctype of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]) {
      post(t, enctype, {});
    }
    post(t, "application/x-www-form-urlencoded", { ...t.fields, _method: m });
    post(t, "multipart/form-data", { ...t.fields, _method: m });
    // text/plain "name=value": a JSON (or CSV) body whose last string swallows the "=".
    const raw = json(t);
    post(t, "text/plain", t.csv === null
      ? { [raw.replace(/}$/, "") + (raw === "{}" ? "" : ",") + '"x":"']: '"}' }
      : { [raw + "x"]: "y" });
  }
  await Promise.all(work);
  return { sent, refusedByBrowser };
};
</script></body></html>"""


def frame_page(src: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Win</title></head>'
        f'<body><h1>Click the button</h1><iframe id="victim" title="victim" src="{src}" '
        'width="800" height="600"></iframe></body></html>'
    )


def attacker_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The attacker's site: the attack page, and a page framing any address."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    framing = environ.get("PATH_INFO") == "/frame"
    body = frame_page(query["src"][0]) if framing else ATTACK_PAGE
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body.encode()]


@pytest.fixture(scope="module")
def attacker_port() -> Iterator[int]:
    """One server; pages opened as http://localhost:<port> (another site) or
    http://127.0.0.1:<port> (the victim's site, another origin)."""
    server, thread = serve(attacker_app, "attacker")
    try:
        yield server.server_port
    finally:
        stop(server, thread)


ATTACKERS = {
    "cross-site": "http://localhost:{port}",
    "same-site-other-port": "http://127.0.0.1:{port}",
}


@pytest.fixture(params=list(ATTACKERS))
def attacker(request: pytest.FixtureRequest, attacker_port: int) -> str:
    return ATTACKERS[request.param].format(port=attacker_port)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser: Browser, base_url: str) -> Page:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[[str], Page]]:
    """A fresh browser context (no cookies) on a host; no JavaScript error on its pages."""
    pages: list[Page] = []
    errors: list[str] = []

    def make(base_url: str) -> Page:
        page = new_page(browser, base_url)
        page.on("pageerror", lambda error: errors.append(str(error)))
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


# -- Helpers (as in tests/test_browser.py) ------------------------------------------------


def sign_in(page: Page, name: str) -> None:
    page.goto("/")
    page.get_by_role("button", name=re.compile(rf"^{name}\b")).click()
    expect(page.get_by_role("heading", name="Goals", exact=True)).to_be_visible()
    expect(page.locator("#goals-table, #list-status")).not_to_have_count(0)


def api(page: Page, path: str) -> Any:
    """The Goals API as the signed-in browser user (same origin, same cookies)."""
    response = page.request.get(f"/api/goals{path}")
    assert response.ok, response.text()
    return response.json()


# -- What the attacks aim at -------------------------------------------------------------


def victim_goal(host: Host) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    client = host.app.test_client()
    headers = {"X-User-Id": MANAGER}
    goals = client.get("/api/goals/goals?page_size=100", headers=headers).json
    goal = next(g for g in goals if g["description"].startswith(VICTIM_GOAL))  # maybe edited
    intervals = client.get(f"/api/goals/goals/{goal['id']}/intervals", headers=headers).json
    return goal, intervals


def write_targets(host: Host) -> list[Target]:
    """Every POST, PUT, PATCH and DELETE of the OpenAPI document, aimed at the victim's goal
    with a body that changes something (test_the_attack_bodies_are_real_writes proves it)."""
    goal, intervals = victim_goal(host)
    first = intervals[0]
    spec = host.app.test_client().get("/api/goals/openapi.json").json
    bodies: dict[tuple[str, str], dict[str, Any] | None] = {
        ("POST", "/goals"): {
            "category": "sales",
            "description": "Planted by another site",
            "period": "this_month",
            "metric": "net",
            "aim": "1.00",
            "team_id": "acme-north",
        },
        ("PATCH", "/goals/{goal_id}"): {"description": "Changed by another site"},
        ("DELETE", "/goals/{goal_id}"): None,
        ("POST", "/goals/{goal_id}/intervals/distribute"): {
            "strategy": "profile",
            "weights": [9] + [1] * (len(intervals) - 1),
        },
        ("PATCH", "/goals/{goal_id}/intervals/{interval_id}"): {"aim": "1.00"},
        ("POST", "/goals/{goal_id}/intervals/{interval_id}/copy"): {},
        ("PUT", "/goals/{goal_id}/intervals/{interval_id}/allocations"): {
            "allocations": [{"user_id": "acme-rep-anna", "target": "1.00"}]
        },
        ("POST", "/goals/{goal_id}/intervals/{interval_id}/allocations/distribute"): {
            "strategy": "copy",
            "source_user_id": "acme-rep-anna",
            "locked_user_ids": [],
        },
        ("PUT", "/goals/{goal_id}/targets.csv"): None,
        ("PUT", "/me/notification-settings"): {"status": False, "milestone": False},
    }
    targets = []
    prefix = "/api/goals"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            template = path.removeprefix(prefix)
            key = (method.upper(), template)
            assert key in bodies, f"a write the attacks do not cover yet: {key}"
            url = host.url + path.format(goal_id=goal["id"], interval_id=first["id"])
            names = {p.get("name") for p in operation.get("parameters", []) if "name" in p}
            if "confirm" in names:
                url += "?confirm=true"
            csv = None
            if template.endswith("targets.csv"):
                csv = f"interval_start,user_id,target\n{first['start_date']},acme-rep-anna,1.00\n"
            targets.append(Target(key[0], url, bodies[key], csv))
    # The goal's DELETE last, so a write that got through would not hide the others.
    return sorted(targets, key=lambda t: t.method == "DELETE")


def database_state(database: Path) -> list[str]:
    """Every row of every table of the host's database."""
    connection = sqlite3.connect(database)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def api_state(page: Page, goal_id: int) -> dict[str, Any]:
    """What the victim's own API calls show of the goal (and their settings)."""
    intervals = api(page, f"/goals/{goal_id}/intervals")
    return {
        "goals": api(page, "/goals?page_size=100"),
        "goal": api(page, f"/goals/{goal_id}"),
        "intervals": intervals,
        "allocations": [
            api(page, f"/goals/{goal_id}/intervals/{i['id']}/allocations") for i in intervals
        ],
        "history": api(page, f"/goals/{goal_id}/history"),
        "settings": api(page, "/me/notification-settings"),
    }


def run_attacks(page: Page, host: Host, attacker: str) -> list[Seen]:
    """Open the attack page in the victim's browser and fire everything; the requests that
    reached the host."""
    goal, _ = victim_goal(host)
    # The goal pages have no write routes (a POST there is a 405): tried all the same.
    pages = [f"/goals/{goal['id']}", f"/goals/{goal['id']}/edit", "/goals/new"]
    targets = write_targets(host) + [Target("POST", host.url + p, None) for p in pages]
    before = len(host.recorder.seen)
    page.goto(f"{attacker}/")
    expect(page.get_by_role("heading", name="Free gift cards")).to_be_visible()
    outcome = page.evaluate(
        "targets => window.attack(targets)",
        [
            {"method": t.method, "url": t.url, "text": t.text, "fields": t.fields, "csv": t.csv}
            for t in targets
        ],
    )
    # The browser refuses no-cors for PUT, PATCH, DELETE and every CORS preflight: nothing sent.
    assert outcome["refusedByBrowser"], outcome
    assert not any("beacon" in r for r in outcome["refusedByBrowser"]), outcome

    def attacks(seen: list[Seen]) -> list[Seen]:
        return [s for s in seen[before:] if s.origin == attacker and s.method != "OPTIONS"]

    seen = host.recorder.wait_for(
        lambda seen: len(attacks(seen)) >= outcome["sent"], f"{outcome['sent']} attacks"
    )
    arrived = attacks(seen)
    assert len(arrived) == outcome["sent"]
    # Each write endpoint that takes a POST was hit by POSTs of every kind.
    for target in targets:
        if target.method == "POST":
            path = target.url.removeprefix(host.url).split("?")[0]
            hits = [s for s in arrived if s.path == path and s.method == "POST"]
            assert len(hits) == 15, (path, hits)
    return arrived


# -- The tests -----------------------------------------------------------------------------


def test_the_attack_bodies_are_real_writes(victim: Host, tmp_path: Path) -> None:
    """Control: each request the attacks forge, sent the way the pages send it (JSON or CSV
    with its ETag), changes the victim's data; so "nothing changed" below means "refused"."""
    copy = tmp_path / "copy.db"
    source = sqlite3.connect(victim.database)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}"})
    client = app.test_client()
    headers = {"X-User-Id": MANAGER}
    state = database_state(copy)
    try:
        for t in write_targets(victim):
            url = t.url.removeprefix(victim.url)
            # PUT, PATCH and DELETE are compare-and-sets: the ETag of a fresh GET, as the pages do.
            sent = dict(headers)
            if t.method != "POST":
                etag = client.get(url.split("?")[0], headers=headers).headers.get("ETag")
                if etag:
                    sent["If-Match"] = etag
            # A JSON (or CSV) type also without a body, as the pages send it.
            data = t.csv if t.csv is not None else "" if t.body is None else json.dumps(t.body)
            kind = "text/csv" if t.csv is not None else "application/json"
            response = client.open(url, method=t.method, data=data, content_type=kind, headers=sent)
            assert response.status_code in (200, 201, 204), (t.method, url, response.json)
            changed = database_state(copy)
            assert changed != state, f"{t.method} {url} changed nothing"
            state = changed
    finally:
        with app.app_context():
            db.engine.dispose()


def test_no_write_from_another_origin(
    victim: Host, attacker: str, open_page: Callable[[str], Page]
) -> None:
    page = open_page(victim.url)
    sign_in(page, MANAGER_NAME)
    goal, _ = victim_goal(victim)
    shown_before = api_state(page, goal["id"])
    stored_before = database_state(victim.database)

    arrived = run_attacks(page, victim, attacker)

    same_site = "127.0.0.1" in attacker
    for seen in arrived:
        # Another site: SameSite=Lax keeps the cookie home (401: nobody is calling). The same
        # site on another port: the cookie IS sent, and the API's own check refuses (403).
        assert seen.cookie is same_site, seen
        assert seen.fetch_site == ("same-site" if same_site else "cross-site"), seen
        # A form posting to a PATCH/PUT/DELETE route: no POST there (405).
        assert seen.status in ((403, 405) if same_site else (401, 405)), seen
    assert any(s.status == (403 if same_site else 401) for s in arrived)
    assert database_state(victim.database) == stored_before
    page.goto(victim.url + "/goals/")
    assert api_state(page, goal["id"]) == shown_before


def test_the_pages_still_write_after_the_attacks(
    victim: Host, attacker_port: int, open_page: Callable[[str], Page]
) -> None:
    page = open_page(victim.url)
    sign_in(page, MANAGER_NAME)
    goal, intervals = victim_goal(victim)
    stored = database_state(victim.database)
    run_attacks(page, victim, ATTACKERS["same-site-other-port"].format(port=attacker_port))
    assert database_state(victim.database) == stored

    # Editing the goal through its form.
    page.goto(f"/goals/{goal['id']}/edit")
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    page.get_by_label("Description").fill(f"{VICTIM_GOAL}, edited")
    page.get_by_role("button", name="Save changes").click()
    confirm_if_asked(page)
    open_goal_page(page)
    expect(page.get_by_role("heading", name=f"{VICTIM_GOAL}, edited")).to_be_visible()
    assert api(page, f"/goals/{goal['id']}")["description"] == f"{VICTIM_GOAL}, edited"
    # And a member's target through the grid.
    first = month_label(intervals[0]["start_date"])
    anna = page.get_by_label(f"Target of Anna Albers, {first}")
    anna.fill("40000.00")
    page.get_by_role("button", name=f"Save {first}").click()
    expect(page.locator("#goal-status")).to_have_text(f"Saved {first}.")
    allocations = api(page, f"/goals/{goal['id']}/intervals/{intervals[0]['id']}/allocations")
    assert {a["user_id"]: a["target"] for a in allocations["allocations"]}[
        "acme-rep-anna"
    ] == "40000.00"
    writes = [
        s
        for s in victim.recorder.seen
        if s.method in ("PATCH", "PUT") and s.origin == victim.url and s.path.startswith("/api/")
    ]
    assert writes and all(s.status == 200 and s.fetch_site == "same-origin" for s in writes)


def test_a_csrf_protected_host_runs_every_write_of_the_pages(
    csrf_host: Host, open_page: Callable[[str], Page], tmp_path: Path
) -> None:
    page = open_page(csrf_host.url)
    sign_in(page, MANAGER_NAME)  # the login picker's form carries the token
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token

    # Create a goal through the form page.
    page.get_by_role("link", name="Create goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    page.get_by_role("radio", name="Sales").check()
    page.get_by_label("Description").fill("North under CSRFProtect")
    page.get_by_role("button", name="This quarter").click()
    page.get_by_label("Metric").select_option("net")
    page.get_by_label("Aim", exact=True).fill("3000.00")
    page.get_by_label("Split into sub-periods (monthly intervals)").check()
    page.get_by_label("Split by team members").check()
    page.get_by_role("button", name="Create goal").click()
    open_goal_page(page)
    expect(page.get_by_role("heading", name="North under CSRFProtect")).to_be_visible()
    goal_id = int(page.url.rsplit("/", 1)[1])
    intervals = api(page, f"/goals/{goal_id}/intervals")
    start = intervals[0]["start_date"]
    first = month_label(start)

    # Distribute an interval.
    page.get_by_role("button", name=f"Equal split, {first}").click()
    expect(page.locator("#goal-status")).to_have_text(f"Distributed {first} equally.")
    expect(page.get_by_label(f"Target of Anna Albers, {first}")).to_have_value("250.00")

    # Edit it.
    page.get_by_role("link", name="Edit goal").click()
    expect(page.locator("#goal-form")).to_have_attribute("data-ready", "true")
    page.get_by_label("Description").fill("North under CSRFProtect, edited")
    page.get_by_role("button", name="Save changes").click()
    confirm_if_asked(page)
    open_goal_page(page)
    assert api(page, f"/goals/{goal_id}")["description"] == "North under CSRFProtect, edited"

    # Import a CSV: download, edit, upload with a preview, import.
    planning = page.get_by_role("region", name="Plan the targets")
    with page.expect_download() as download:
        planning.get_by_role("link", name="Download the targets (CSV)").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert f"{start},acme-rep-anna,250.00" in lines
    edited = [
        line.replace(",250.00", ",300.00")
        if line.startswith(f"{start},acme-rep-anna")
        else line.replace(",250.00", ",200.00")
        if line.startswith(f"{start},acme-rep-bernd")
        else line
        for line in lines
    ]
    csv_upload(page, tmp_path, "edited.csv", "\n".join(edited) + "\n")
    expect(planning.locator("#csv-changes tbody tr")).to_have_count(2)
    expect(planning.locator("#csv-summary")).to_contain_text("2 values change")
    planning.get_by_role("button", name="Import").click()
    expect(page.locator("#goal-status")).to_have_text("Imported the file: 2 values changed.")
    allocations = api(page, f"/goals/{goal_id}/intervals/{intervals[0]['id']}/allocations")
    targets = {a["user_id"]: a["target"] for a in allocations["allocations"]}
    assert (targets["acme-rep-anna"], targets["acme-rep-bernd"]) == ("300.00", "200.00")

    # Every write of the pages carried the token and passed; one without it: the host's 400.
    refused = page.evaluate(
        """async () => {
            const response = await fetch("/api/goals/goals", {
                method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify({category: "sales", description: "No token",
                                      period: "this_month", metric: "net", aim: "1.00",
                                      team_id: "acme-north"}),
            });
            return {status: response.status, text: await response.text()};
        }"""
    )
    assert refused["status"] == 400, refused
    assert "CSRF" in refused["text"]
    assert not [g for g in api(page, "/goals?page_size=100") if g["description"] == "No token"]
    writes = [
        s for s in csrf_host.recorder.seen if s.method != "GET" and s.path.startswith("/api/")
    ]
    assert [s.status for s in writes if s.status not in (200, 201, 409)] == [400], writes


def test_a_goal_page_is_framed_only_by_its_own_origin(
    victim: Host, attacker: str, open_page: Callable[[str], Page]
) -> None:
    page = open_page(victim.url)
    sign_in(page, MANAGER_NAME)
    goal, _ = victim_goal(victim)
    goal_url = f"{victim.url}/goals/{goal['id']}"

    # Its own origin frames it: the goal page loads inside.
    page.goto("/goals/")
    page.evaluate(
        """src => { const frame = document.createElement("iframe");
                    frame.id = "own"; frame.title = "own"; frame.src = src;
                    document.body.append(frame); }""",
        goal_url,
    )
    own = page.frame_locator("#own")
    expect(own.locator("#goal-root")).to_have_attribute("data-ready", "true")
    expect(own.get_by_role("heading", name=goal["description"])).to_be_visible()

    # Another origin's page: the frame never shows the goal page.
    before = len(victim.recorder.seen)
    page.goto(f"{attacker}/frame?src={goal_url}")
    expect(page.get_by_role("heading", name="Click the button")).to_be_visible()
    seen = victim.recorder.wait_for(
        lambda seen: any(s.fetch_dest == "iframe" for s in seen[before:]), "the framed request"
    )
    framed = next(s for s in seen[before:] if s.fetch_dest == "iframe")
    frame = page.locator("#victim").element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    if "127.0.0.1" in attacker:
        # The same site: the cookie went along and the goal page was served; the browser
        # refused to show it (frame-ancestors 'self', X-Frame-Options SAMEORIGIN).
        assert (framed.path, framed.status, framed.cookie) == (f"/goals/{goal['id']}", 200, True)
        assert frame.url.startswith("chrome-error://"), frame.url
    else:
        # Another site: the SameSite=Lax cookie stays home, nobody is signed in in the frame
        # (the host sends it to its sign-in page).
        assert (framed.path, framed.cookie) == (f"/goals/{goal['id']}", False), framed
        assert framed.status != 200, framed
    assert frame.locator("#goal-root").count() == 0
    assert goal["description"] not in frame.content()
