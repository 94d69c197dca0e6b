"""The goal pages blueprint (SPEC §9), without a browser: mounting, layout, overrides, assets,
and the page data that decides what a caller is offered. tests/test_browser.py drives them."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeHost, _reset, make_app
from flask import Flask

from flask_wiseparts_goals.domain.distribution import INTERVAL_STRATEGIES, SHORTFALL_POLICIES

PACKAGE = Path(__file__).resolve().parent.parent / "flask_wiseparts_goals"
LAYOUT = """<!doctype html><html lang="en"><head><title>{% block title %}{% endblock %} · Host</title></head>
<body><header>HOST LAYOUT</header><main>{% block content %}{% endblock %}</main></body></html>"""


def ui_app(host: FakeHost, templates: Path, **config: Any) -> Iterator[Flask]:
    (templates / "host_layout.html").write_text(LAYOUT, encoding="utf-8")
    app = make_app(host, GOALS_UI_ENABLED=True, GOALS_UI_BASE_TEMPLATE="host_layout.html", **config)
    app.template_folder = str(templates)
    _reset(app)
    with app.app_context():
        host.install(app)
        yield app
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    return folder


@pytest.fixture
def ui_config() -> dict[str, Any]:
    """Extra configuration; a test changes it with ``@pytest.mark.parametrize("ui_config", ...)``."""
    return {}


@pytest.fixture
def app(host: FakeHost, templates: Path, ui_config: dict[str, Any]) -> Iterator[Flask]:
    yield from ui_app(host, templates, **ui_config)


def page(app: Flask, path: str, user: str | None = "admin") -> Any:
    return app.test_client().get(path, headers={"X-User": user} if user else {})


def page_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="goals-data">(.*?)</script>', html, re.S)
    assert match, "no #goals-data on the page"
    data: dict[str, Any] = json.loads(match[1])
    return data


PAGES = ["/goals/", "/goals/new", "/goals/dashboard"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_inside_the_host_layout(app, path):
    response = page(app, path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "HOST LAYOUT" in html
    assert 'class="goals-ui"' in html
    assert "/goals/static/goals/goals.css" in html
    assert "https://" not in html and "http://" not in html  # no CDN: every asset is local


def test_a_goal_page_and_its_edit_form(app):
    client = app.test_client()
    goal = client.post(
        "/api/goals/goals",
        json={
            "category": "sales",
            "description": "Q1",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "metric": "net",
            "aim": "10",
            "team_id": "team-a",
        },
        headers={"X-User": "admin"},
    ).json
    for path in (f"/goals/{goal['id']}", f"/goals/{goal['id']}/edit"):
        response = page(app, path)
        assert response.status_code == 200, path
        assert f'data-goal-id="{goal["id"]}"' in response.get_data(as_text=True)
    assert page(app, "/goals/01").status_code == 404


def test_the_goal_page_has_the_planning_and_breakdown_parts(app):
    """goal.js fills these by id (a host overriding goal.html keeps them, docs/ui.md): the
    seasonal split, the CSV download and upload, the leaderboard and the breakdown."""
    client = app.test_client()
    goal = client.post(
        "/api/goals/goals",
        json={
            "category": "sales",
            "description": "Q1",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "metric": "net",
            "aim": "10",
            "team_id": "team-a",
            "split_into_subperiods": True,
        },
        headers={"X-User": "admin"},
    ).json
    html = page(app, f"/goals/{goal['id']}").get_data(as_text=True)
    for element_id in (
        "planning-section",
        "season-form",
        "season-strategy",
        "season-weights",
        "csv-download",
        "csv-form",
        "csv-file",
        "csv-import",
        "leaderboard-section",
        "breakdown-section",
        "breakdown-by",
        "breakdown-compare",
    ):
        assert f'id="{element_id}"' in html, element_id
    assert re.search(r'<a href="#breakdown-section"[^>]*>Breakdown</a>', html)
    # Every strategy the API takes is offered, and none it does not.
    offered = re.findall(
        r'<option value="(\w+)"', html.split('id="season-strategy"')[1].split("</select>")[0]
    )
    assert offered == list(INTERVAL_STRATEGIES)


def test_the_form_offers_every_shortfall_policy(app):
    html = page(app, "/goals/new").get_data(as_text=True)
    select = html.split('id="shortfall_policy"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w+)"', select) == list(SHORTFALL_POLICIES)
    assert 'aria-describedby="shortfall-hint"' in html


def test_anonymous_callers_get_the_hosts_401(app):
    assert page(app, "/goals/", user=None).status_code == 401


def test_the_ui_is_off_by_default(host):
    app = make_app(host)
    assert app.test_client().get("/goals/").status_code == 404
    assert not any(rule.endpoint.startswith("goals_ui.") for rule in app.url_map.iter_rules())


@pytest.mark.parametrize("ui_config", [{"GOALS_UI_URL_PREFIX": "/sales/targets"}])
def test_the_ui_has_its_own_prefix_and_a_default_layout(app):
    app.config["GOALS_UI_BASE_TEMPLATE"] = None
    response = page(app, "/sales/targets/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "HOST LAYOUT" not in html and "<main>" in html  # the package's goals/layout.html
    assert page_data(html)["ui"] == "/sales/targets"
    assert "/sales/targets/static/goals/dashboard.js" in html


def test_a_host_template_overrides_the_packages(app, templates):
    (templates / "goals").mkdir()
    (templates / "goals" / "_nav.html").write_text(
        '<nav aria-label="Goals">HOST NAV</nav>', encoding="utf-8"
    )
    html = page(app, "/goals/").get_data(as_text=True)
    assert "HOST NAV" in html
    assert "All goals" not in html  # the package's own nav is replaced


@pytest.mark.parametrize(
    "asset",
    [
        "goals.css",
        "api.js",
        "charts.js",
        "form.js",
        "goal.js",
        "list.js",
        "dashboard.js",
        "element.js",
    ],
)
def test_assets_are_served_locally(app, asset):
    with app.test_client().get(f"/goals/static/goals/{asset}", buffered=True) as response:
        assert response.status_code == 200
        kind = "text/css" if asset.endswith(".css") else "javascript"
        assert kind in response.content_type
        text = response.get_data(as_text=True)
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text


def test_templates_and_assets_are_package_data():
    """pyproject's package-data globs cover every template and static file of the UI."""
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["flask_wiseparts_goals"]
    files = {
        p
        for p in (PACKAGE / "ui").rglob("*")
        if p.is_file() and p.suffix in {".html", ".js", ".css"}
    }
    covered = {p for g in globs for p in PACKAGE.glob(g) if p.is_file()}
    assert files and files <= covered


# --- what each caller is offered ------------------------------------------------------------


def test_a_manager_is_offered_the_teams_they_may_write_and_not_no_team(app):
    html = page(app, "/goals/new", "manager").get_data(as_text=True)
    data = page_data(html)
    assert data["create_org_wide"] is False
    assert data["can_create"] is True
    assert {t["id"]: t["create"] for t in data["teams"]} == {"team-a": True, "team-b": False}
    team_select = re.search(r'<select id="team_id".*?</select>', html, re.S)[0]
    assert "No team" not in team_select
    assert re.search(r'<option value="team-a" selected>Team A</option>', team_select)
    assert "team-b" not in team_select


def test_an_admin_may_also_create_organization_wide_goals(app):
    html = page(app, "/goals/new", "admin").get_data(as_text=True)
    team_select = re.search(r'<select id="team_id".*?</select>', html, re.S)[0]
    assert "No team (whole organization)" in team_select
    assert re.search(r'<option value="team-a" selected>', team_select)  # the admin's own team


def test_a_rep_is_offered_no_create_control(app):
    html = page(app, "/goals/", "rep").get_data(as_text=True)
    assert page_data(html)["can_create"] is False
    assert "Create goal" not in html


def test_names_come_from_goals_entities(app, host):
    host.names["org-1"]["team"]["team-a"] = "North"
    data = page_data(page(app, "/goals/", "manager").get_data(as_text=True))
    assert data["user"] == {"id": "manager", "name": "Max Manager"}
    assert [t["name"] for t in data["teams"]] == ["North", "Team B"]


@pytest.mark.parametrize("ui_config", [{"GOALS_CURRENCY": "EUR"}])
def test_currency_from_the_config_when_the_identity_names_none(app):
    assert page_data(page(app, "/goals/").get_data(as_text=True))["currency"] == "EUR"


def test_the_widget_macros_embed_on_a_host_page(app, templates):
    (templates / "home.html").write_text(
        '{% from "goals/macros.html" import team_widget, my_widget %}'
        '{{ team_widget("team-a") }}{{ my_widget(as_of="2026-02-01") }}',
        encoding="utf-8",
    )

    @app.get("/home")
    def home() -> str:
        from flask import render_template

        return render_template("home.html")

    html = page(app, "/home").get_data(as_text=True)
    assert '<goals-widget kind="team" class="goals-ui" team-id="team-a"' in html
    assert 'kind="me"' in html and 'as-of="2026-02-01"' in html
    assert 'api="/api/goals"' in html
    assert html.count("/goals/static/goals/element.js") == 2


# -- browser safety (SPEC §13) -----------------------------------------------------------------

PAGES = ["/goals/", "/goals/new", "/goals/dashboard", "/goals/1", "/goals/1/edit"]


def test_every_page_forbids_framing_sniffing_and_inline_scripts(app: Flask) -> None:
    for path in PAGES:
        response = page(app, path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["frame-ancestors"] == "'self'", path
        assert "unsafe-inline" not in directives["script-src"], path
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path
        # The pages have no inline script the policy would block: only JSON data and files.
        for tag in re.findall(r"<script\b[^>]*>", response.text):
            assert 'type="application/json"' in tag or "src=" in tag, (path, tag)
    script = app.test_client().get("/goals/static/goals/api.js")
    script.close()
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in script.headers


@pytest.mark.parametrize(
    "ui_config", [{"GOALS_UI_CSP": "default-src 'self' https://cdn.host.test"}]
)
def test_the_host_sets_its_own_policy(app: Flask) -> None:
    response = page(app, "/goals/")
    assert response.headers["Content-Security-Policy"] == "default-src 'self' https://cdn.host.test"


@pytest.mark.parametrize("ui_config", [{"GOALS_UI_CSP": None}])
def test_the_host_sends_its_own_policy_headers(app: Flask) -> None:
    response = page(app, "/goals/")
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_page_data_names_the_csrf_header(app: Flask) -> None:
    data = page_data(page(app, "/goals/").text)
    assert data["csrf"] == {"header": "X-CSRFToken", "token": None}


@pytest.mark.parametrize(
    "ui_config", [{"GOALS_CSRF_HEADER": "X-Host-Token", "GOALS_CSRF_TOKEN": lambda: "tok-123"}]
)
def test_page_data_carries_the_token_the_host_supplies(app: Flask) -> None:
    data = page_data(page(app, "/goals/").text)
    assert data["csrf"] == {"header": "X-Host-Token", "token": "tok-123"}
