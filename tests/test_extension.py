"""Mounting the extension: init patterns, configuration, plugins, default hooks, host Api or not."""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pluggy
import pytest
from conftest import (
    DATABASE_URL,
    ORG,
    ApiClient,
    FakeHost,
    HostBase,
    make_app,
    sales_goal,
    table_counts,
)
from flask import Flask, request
from flask_smorest import Api, Blueprint
from flask_sqlalchemy import SQLAlchemy

from flask_wiseparts_goals import Goals, Identity, Notification, hookimpl
from flask_wiseparts_goals.models import Goal
from flask_wiseparts_goals.plugins import HostHooks

# --- plugins used here ------------------------------------------------------------------------


class IdentityOnly:
    """A host that only says who is calling (as a mapping); every other hook is the default."""

    @hookimpl
    def goals_identity(self) -> dict[str, Any] | None:
        user = request.headers.get("X-User")
        if user is None:
            return None
        return {"user_id": user, "organization_id": ORG, "team_ids": ["team-a"]}


class Writer(IdentityOnly):
    """Identity plus permission to write everything; no features, members or calendar."""

    @hookimpl
    def goals_authorize(self, identity, action, target):
        return target.organization_id == identity.organization_id


class Typo:
    @hookimpl
    def goals_identiy(self):  # not a hook of the spec
        return None


# --- app builders -----------------------------------------------------------------------------


def reset_tables(app: Flask) -> None:
    Goals.drop_all(app)
    Goals.create_all(app)


@pytest.fixture
def apps() -> Iterator[list[Flask]]:
    """Apps built by a test; their connections are closed at the end."""
    built: list[Flask] = []
    yield built
    for app in built:
        db = app.extensions.get("sqlalchemy")
        if db is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def new_host_app(apps: list[Flask], **config: Any) -> tuple[Flask, SQLAlchemy]:
    app = Flask("host")
    app.config.update(
        TESTING=True,
        SQLALCHEMY_DATABASE_URI=DATABASE_URL or "sqlite://",
        GOALS_SCHEDULER_ENABLED=False,
        **config,
    )
    db = SQLAlchemy(model_class=HostBase)
    db.init_app(app)
    apps.append(app)
    return app, db


def app_with(apps: list[Flask], plugin: object | None, **config: Any) -> Flask:
    app = make_app(plugin, **config)  # type: ignore[arg-type]
    apps.append(app)
    reset_tables(app)
    return app


def insert_goal(app: Flask, **values: Any) -> int:
    """A goal row written directly, for hosts that cannot write through the API."""
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        goal = Goal(
            organization_id=values.pop("organization_id", ORG),
            category="sales",
            description="Inserted",
            metric="net",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 3, 31),
            aim=Decimal("100.00"),
            created_by="someone",
            **values,
        )
        db.session.add(goal)
        db.session.commit()
        return goal.id


def client(app: Flask, user: str | None = "admin") -> ApiClient:
    return ApiClient(app, user)


# --- init patterns ----------------------------------------------------------------------------


def test_goals_with_the_app_in_the_constructor(apps):
    app, _ = new_host_app(apps)
    goals = Goals(app, plugins=[FakeHost()], entry_points=False)
    state = Goals.state(app)
    assert app.extensions["goals"] is state
    assert state.db is app.extensions["sqlalchemy"]
    assert not hasattr(goals, "app")
    with app.app_context():
        reset_tables(app)
    assert client(app).get("/meta").status_code == 200


def test_factory_pattern_one_extension_many_apps(apps):
    goals = Goals(plugins=[FakeHost()], entry_points=False)
    first, _ = new_host_app(apps)
    second, _ = new_host_app(apps)
    goals.init_app(first)
    goals.init_app(second, plugins=[])  # this app gets no host plugin at all
    assert Goals.state(first).plugin_manager is not Goals.state(second).plugin_manager
    reset_tables(first)
    assert client(first).get("/meta").status_code == 200
    assert client(second).get("/meta").status_code == 401


def test_state_of_an_app_without_goals_is_an_error(apps):
    app, _ = new_host_app(apps)
    with pytest.raises(RuntimeError, match="not initialized"):
        Goals.state(app)


def test_registering_twice_raises(apps):
    app, _ = new_host_app(apps)
    goals = Goals(app, plugins=[FakeHost()], entry_points=False)
    with pytest.raises(RuntimeError, match="already registered"):
        goals.init_app(app)
    with pytest.raises(RuntimeError, match="already registered"):
        Goals(app, entry_points=False)
    reset_tables(app)
    assert client(app).get("/meta").status_code == 200


def test_the_host_database_must_come_first(apps):
    app = Flask("no_db")
    app.config.update(TESTING=True, GOALS_SCHEDULER_ENABLED=False)
    with pytest.raises(RuntimeError, match="Flask-SQLAlchemy"):
        Goals(app, entry_points=False)
    assert "goals" not in app.extensions


def test_goal_writes_use_the_host_session(apps):
    app = app_with(apps, FakeHost())
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        assert Goals.state(app).session is db.session
        response = client(app).post("/goals", json=sales_goal())
        assert response.status_code == 201
        assert table_counts(db)["goals_goal"] == 1


# --- configuration ----------------------------------------------------------------------------


def test_a_typo_in_a_goals_key_raises_and_names_it(apps):
    app, _ = new_host_app(apps, GOALS_URL_PREFX="/goals")
    with pytest.raises(ValueError, match="GOALS_URL_PREFX"):
        Goals(app, entry_points=False)
    assert "goals" not in app.extensions


def test_defaults_fill_only_what_the_host_did_not_set(apps):
    app, _ = new_host_app(apps, GOALS_DEFAULT_TIMEZONE="Europe/Vienna")
    Goals(app, entry_points=False)
    assert app.config["GOALS_DEFAULT_TIMEZONE"] == "Europe/Vienna"
    assert app.config["GOALS_URL_PREFIX"] == "/api/goals"
    assert app.config["GOALS_FEATURES"] == ("orders",)


def test_url_prefix_and_spec_keys(apps):
    app, _ = new_host_app(apps, GOALS_URL_PREFIX="/goals-api/", GOALS_API_TITLE="Our goals")
    Goals(app, plugins=[FakeHost()], entry_points=False)
    reset_tables(app)
    test_client = app.test_client()
    assert test_client.get("/goals-api/meta", headers={"X-User": "admin"}).status_code == 200
    assert test_client.get("/api/goals/meta", headers={"X-User": "admin"}).status_code == 404
    spec = test_client.get("/goals-api/openapi.json").json
    assert spec["info"]["title"] == "Our goals"
    assert "/goals-api/goals/{goal_id}" in spec["paths"]


# --- host without and with its own flask-smorest Api ---------------------------------------


def add_host_pages(app: Flask) -> None:
    @app.route("/hello", methods=["GET"])
    def hello() -> str:
        return "<p>hello</p>"


def test_host_without_api_keeps_its_html_error_pages(apps):
    app, _ = new_host_app(apps)
    add_host_pages(app)
    Goals(app, plugins=[FakeHost()], entry_points=False)
    reset_tables(app)
    test_client = app.test_client()

    not_found = test_client.get("/no-such-page")
    assert not_found.status_code == 404
    assert not_found.content_type.startswith("text/html")
    not_allowed = test_client.post("/hello")
    assert not_allowed.status_code == 405
    assert not_allowed.content_type.startswith("text/html")
    assert "GET" in not_allowed.headers["Allow"]

    # The goals API still answers in JSON.
    goal_404 = test_client.get("/api/goals/goals/42", headers={"X-User": "admin"})
    assert goal_404.status_code == 404
    assert goal_404.json["code"] == 404
    anonymous = test_client.get("/api/goals/goals")
    assert anonymous.status_code == 401
    assert anonymous.json["code"] == 401


def test_host_without_api_serves_the_goals_spec_and_docs(apps):
    app, _ = new_host_app(apps)
    Goals(app, plugins=[FakeHost()], entry_points=False)
    test_client = app.test_client()
    spec = test_client.get("/api/goals/openapi.json")
    assert spec.status_code == 200
    assert spec.json["openapi"].startswith("3.")
    assert {"/api/goals/meta", "/api/goals/goals", "/api/goals/goals/{goal_id}"} <= set(
        spec.json["paths"]
    )
    docs = test_client.get("/api/goals/docs")
    assert docs.status_code == 200
    assert "/api/goals/openapi.json" in docs.get_data(as_text=True)


def _docs_asset_urls(html: str) -> list[str]:
    import re

    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize(
    ("config", "docs_url"),
    [
        ({}, "/api/goals/docs"),
        ({"GOALS_URL_PREFIX": "/goals-api", "GOALS_OPENAPI_SWAGGER_UI_PATH": "ui/docs"}, None),
        ({"GOALS_OPENAPI_URL_PREFIX": "/specs/goals/"}, "/specs/goals/docs"),
    ],
)
def test_the_docs_page_is_served_with_local_swagger_ui_files(apps, config, docs_url):
    """SPEC §8: /api/goals/docs works offline; its assets come from the installed
    flask-swagger-ui package, served by the app, referenced relative to the page."""
    from urllib.parse import urljoin, urlsplit

    docs_url = docs_url or "/goals-api/ui/docs"
    app, _ = new_host_app(apps, **config)
    Goals(app, plugins=[FakeHost()], entry_points=False)
    test_client = app.test_client()
    page = test_client.get(docs_url)
    assert page.status_code == 200
    urls = _docs_asset_urls(page.get_data(as_text=True))
    assert len(urls) == 3, urls
    kinds = set()
    for url in urls:
        assert not urlsplit(url).netloc and not url.startswith("//"), url  # no CDN
        absolute = urljoin(f"http://localhost{docs_url}", url)
        asset = test_client.get(urlsplit(absolute).path)
        assert asset.status_code == 200, absolute
        assert asset.mimetype in ("text/javascript", "application/javascript", "text/css")
        kinds.add(asset.mimetype)
        if url.endswith("swagger-ui-bundle.js"):
            assert b"SwaggerUIBundle" in asset.data
        asset.close()
    assert "text/css" in kinds and len(kinds) == 2
    prefix = docs_url.rsplit("/", 2 if "ui/docs" in docs_url else 1)[0]
    missing = test_client.get(f"{prefix}/swagger-ui/no-such-file.js")
    assert missing.status_code == 404 and missing.json["code"] == 404


def test_the_swagger_ui_url_may_point_elsewhere(apps):
    app, _ = new_host_app(apps, GOALS_OPENAPI_SWAGGER_UI_URL="https://assets.example.com/sw/")
    Goals(app, plugins=[FakeHost()], entry_points=False)
    html = app.test_client().get("/api/goals/docs").get_data(as_text=True)
    assert "https://assets.example.com/sw/swagger-ui-bundle.js" in _docs_asset_urls(html)


def test_decimals_are_documented_as_strings(apps):
    app, _ = new_host_app(apps)
    Goals(app, plugins=[FakeHost()], entry_points=False)
    spec = app.test_client().get("/api/goals/openapi.json").json
    aim = spec["components"]["schemas"]["Goal"]["properties"]["aim"]
    assert aim["type"] == "string"
    assert aim["format"] == "decimal"


def host_with_api(apps: list[Flask], blueprint_name: str = "things") -> Flask:
    app, _ = new_host_app(
        apps,
        API_TITLE="Host API",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
    )
    host_api = Api(app)
    blp = Blueprint(blueprint_name, __name__)

    @blp.route("/things")
    def things() -> dict[str, Any]:
        return {"things": []}

    host_api.register_blueprint(blp, url_prefix="/api")
    Goals(app, plugins=[FakeHost()], entry_points=False)
    reset_tables(app)
    return app


def test_host_with_its_own_api(apps):
    app = host_with_api(apps)
    test_client = app.test_client()
    assert test_client.get("/api/things").json == {"things": []}

    # The host's app-wide handler still shapes the host's errors.
    not_found = test_client.get("/no-such-page")
    assert not_found.status_code == 404
    assert not_found.json == {"code": 404, "status": "Not Found"}

    # Each Api documents its own routes.
    host_spec = test_client.get("/api/openapi.json").json
    goals_spec = test_client.get("/api/goals/openapi.json").json
    assert host_spec["info"]["title"] == "Host API"
    assert set(host_spec["paths"]) == {"/api/things"}
    assert "/api/things" not in goals_spec["paths"]
    assert "/api/goals/goals" in goals_spec["paths"]
    assert test_client.get("/api/goals/docs").status_code == 200

    # The goals API answers in its own shape.
    response = test_client.post(
        "/api/goals/goals", json=sales_goal(aim="-1"), headers={"X-User": "admin"}
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"json": {"aim": ["Must be greater than or equal to 0."]}}
    missing = test_client.get("/api/goals/goals/42", headers={"X-User": "admin"})
    assert missing.json["message"] == "Goal 42 not found."


@pytest.mark.parametrize("name", ["goals", "meta", "history", "intervals"])
def test_host_blueprint_names_do_not_collide(apps, name):
    app = host_with_api(apps, blueprint_name=name)
    assert app.test_client().get("/api/things").status_code == 200
    assert app.test_client().get("/api/goals/meta", headers={"X-User": "admin"}).status_code == 200


# --- plugins ----------------------------------------------------------------------------------


class FakeEntryPoint:
    group = "flask_wiseparts_goals"

    def __init__(self, name: str, plugin: object) -> None:
        self.name = name
        self.plugin = plugin

    def load(self) -> object:
        return self.plugin


class FakeDistribution:
    def __init__(self, *entry_points: FakeEntryPoint) -> None:
        self.entry_points = list(entry_points)
        self.metadata = {"name": "fake-goals-plugin"}


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> list[FakeEntryPoint]:
    """Entry points "installed" for this test (``importlib.metadata`` answers with them)."""
    import flask_wiseparts_goals.migrations.runner  # noqa: F401  (alembic scans entry points on import)

    entry_points: list[FakeEntryPoint] = []
    monkeypatch.setattr(
        importlib.metadata, "distributions", lambda: [FakeDistribution(*entry_points)]
    )
    return entry_points


def test_plugins_argument_registers_host_plugins(apps):
    host = FakeHost()
    app, _ = new_host_app(apps)
    Goals(app, plugins=[host], entry_points=False)
    assert Goals.state(app).plugin_manager.is_registered(host)


def test_entry_point_plugins_are_loaded(apps, installed):
    installed.append(FakeEntryPoint("fake-host", FakeHost()))
    app, _ = new_host_app(apps)
    Goals(app)  # no plugins= at all: the identity comes from the entry point
    reset_tables(app)
    assert Goals.state(app).plugin_manager.get_plugin("fake-host") is installed[0].plugin
    assert client(app).get("/meta").status_code == 200


def test_entry_points_can_be_ignored(apps, installed):
    installed.append(FakeEntryPoint("fake-host", FakeHost()))
    app, _ = new_host_app(apps)
    Goals(app, entry_points=False)
    assert Goals.state(app).plugin_manager.get_plugin("fake-host") is None
    assert client(app).get("/meta").status_code == 401


def test_a_plugin_given_and_installed_is_registered_once(apps, installed):
    """The host passes the plugin an installed package also advertises (SPEC §8): one
    registration, not pluggy's ValueError; its hooks answer once."""
    import types

    module = types.ModuleType("acme_goals_plugin")
    host = FakeHost()
    module.goals_identity = host.goals_identity  # type: ignore[attr-defined]
    installed.append(FakeEntryPoint("acme-module", module))
    installed.append(FakeEntryPoint("acme-host", host))
    app, _ = new_host_app(apps)
    Goals(app, plugins=[module, host, host])
    reset_tables(app)
    pm = Goals.state(app).plugin_manager
    names = [name for name, plugin in pm.list_name_plugin() if plugin in (module, host)]
    assert len(names) == 2, names
    assert pm.get_plugin("acme-host") is None  # already there under its plugins= name
    assert len(pm.hook.goals_identity.get_hookimpls()) == 2
    assert client(app).get("/meta").status_code == 200


def test_flask_goals_plugins_lists_plugins_origins_and_hooks(apps, installed):
    class MetricSource:
        @hookimpl
        def goals_collect_actuals(self, organization_id, category, queries):
            return None

    given = FakeHost()
    installed.append(FakeEntryPoint("acme-metrics", MetricSource()))
    installed.append(FakeEntryPoint("both", given))
    app, _ = new_host_app(apps)
    Goals(app, plugins=[given])
    result = app.test_cli_runner().invoke(args=["goals", "plugins"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    heads = {line: lines[i + 1] for i, line in enumerate(lines) if not line.startswith(" ")}
    assert heads["goals-defaults (built in)"] == (
        "  hooks: goals_authorize, goals_business_days, goals_feature_enabled, goals_notify"
    )
    assert heads["acme-metrics (entry point of fake-goals-plugin)"] == (
        "  hooks: goals_collect_actuals"
    )
    (fake_host,) = [head for head in heads if head.startswith("conftest.FakeHost")]
    assert fake_host == "conftest.FakeHost (plugins=, entry point of fake-goals-plugin)"
    assert "goals_identity" in heads[fake_host] and "goals_team_members" in heads[fake_host]
    assert len(heads) == 3


def test_a_hookimpl_without_spec_is_rejected(apps):
    app, _ = new_host_app(apps)
    with pytest.raises(pluggy.PluginValidationError, match="goals_identiy"):
        Goals(app, plugins=[Typo()], entry_points=False)
    assert "goals" not in app.extensions


def test_an_entry_point_hookimpl_without_spec_is_rejected(apps, installed):
    installed.append(FakeEntryPoint("typo", Typo()))
    app, _ = new_host_app(apps)
    with pytest.raises(pluggy.PluginValidationError, match="goals_identiy"):
        Goals(app)


def test_implementations_may_take_fewer_arguments(apps):
    class Members(Writer):
        @hookimpl
        def goals_team_members(self, team_id):
            return ["m1", "m2"] if team_id == "team-a" else None

    app = app_with(apps, Members())
    with app.app_context():
        response = client(app, "u1").post("/goals", json=sales_goal(team_id="team-a"))
        assert response.status_code == 201, response.json


# --- default hook behaviours --------------------------------------------------------------------


def test_without_identity_every_call_is_401(apps):
    app = app_with(apps, None)
    with app.app_context():
        for path in ("/meta", "/goals", "/goals/1", "/goals/1/intervals"):
            response = client(app).get(path)
            assert response.status_code == 401, path
            assert response.json["code"] == 401
        assert client(app).post("/goals", json=sales_goal()).status_code == 401


def test_default_authorize_denies_writes(apps):
    app = app_with(apps, IdentityOnly())
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        api = client(app, "u1")
        response = api.post("/goals", json=sales_goal())
        assert response.status_code == 403
        assert response.json["code"] == 403
        assert table_counts(db)["goals_goal"] == 0
    goal_id = insert_goal(app)
    with app.app_context():
        api = client(app, "u1")
        assert api.write("PATCH", f"/goals/{goal_id}", json={"description": "x"}).status_code == 403
        assert api.write("DELETE", f"/goals/{goal_id}").status_code == 403
        assert api.get(f"/goals/{goal_id}").json["description"] == "Inserted"


def test_default_authorize_reads_org_wide_goals_and_those_of_own_teams(apps):
    app = app_with(apps, IdentityOnly())
    org_wide = insert_goal(app)
    own_team = insert_goal(app, team_id="team-a")
    other_team = insert_goal(app, team_id="team-b")
    other_org = insert_goal(app, organization_id="org-2")
    with app.app_context():
        api = client(app, "u1")
        assert api.get(f"/goals/{org_wide}").status_code == 200
        assert api.get(f"/goals/{own_team}").status_code == 200
        assert api.get(f"/goals/{other_team}").status_code == 404
        assert api.get(f"/goals/{other_org}").status_code == 404
        assert sorted(g["id"] for g in api.get("/goals").json) == sorted([org_wide, own_team])


def test_default_business_days_are_monday_to_friday(apps):
    app = app_with(apps, Writer())
    with app.app_context():
        api = client(app, "u1")
        response = api.post(
            "/goals",
            json=sales_goal(
                start_date="2028-01-01", end_date="2028-03-31", split_into_subperiods=True
            ),
        )
        assert response.status_code == 201, response.json
        intervals = api.get(f"/goals/{response.json['id']}/intervals").json
        assert [i["business_days"] for i in intervals] == [21, 21, 23]


def test_default_features_come_from_config(apps):
    app = app_with(apps, Writer(), GOALS_FEATURES=())
    db = app.extensions["sqlalchemy"]
    orders = sales_goal(category="orders", metric="count", aim="10")
    with app.app_context():
        api = client(app, "u1")
        response = api.post("/goals", json=orders)
        assert response.status_code == 422
        assert "category" in response.json["errors"]["json"]
        assert table_counts(db)["goals_goal"] == 0
        categories = [c["category"] for c in api.get("/meta").json["categories"]]
        assert categories == ["sales", "activities"]

    app = app_with(apps, Writer())  # default GOALS_FEATURES: orders on
    with app.app_context():
        api = client(app, "u1")
        assert api.post("/goals", json=orders).status_code == 201
        assert "orders" in [c["category"] for c in api.get("/meta").json["categories"]]


def test_a_host_answer_wins_over_the_config_default(apps):
    class NoOrders(Writer):
        @hookimpl
        def goals_feature_enabled(self, organization_id, feature):
            return False

    app = app_with(apps, NoOrders())  # GOALS_FEATURES still says "orders"
    with app.app_context():
        response = client(app, "u1").post(
            "/goals", json=sales_goal(category="orders", metric="count", aim="10")
        )
        assert response.status_code == 422


def test_without_team_members_a_team_goal_is_a_422(apps):
    app = app_with(apps, Writer())
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        api = client(app, "u1")
        for body in (
            sales_goal(team_id="team-a"),
            sales_goal(team_id="team-a", split_by_team_members=True),
        ):
            response = api.post("/goals", json=body)
            assert response.status_code == 422
            assert "team_id" in response.json["errors"]["json"]
        assert table_counts(db)["goals_goal"] == 0
        assert api.post("/goals", json=sales_goal()).status_code == 201


def test_default_notify_logs_and_default_actuals_answer_nothing(apps, caplog):
    app = app_with(apps, None)
    hooks = HostHooks(Goals.state(app).plugin_manager)
    with caplog.at_level(logging.INFO, logger="flask_wiseparts_goals"):
        hooks.notify(ORG, Notification("recurrence_review", "boss", 7, "New members got 0."))
    assert "New members got 0." in caplog.text
    assert "boss" in caplog.text
    assert hooks.legacy_activity_targets(ORG) == []
    assert hooks.team_members(ORG, "team-a", date(2026, 1, 1)) is None
    assert hooks.identity() is None
    identity = Identity(user_id="u", organization_id=ORG)
    from flask_wiseparts_goals.types import ActualsQuery

    query = ActualsQuery(key="k", metric="net", start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert hooks.collect_actuals(ORG, "sales", [query]) is None
    assert hooks.collect_actuals(ORG, "sales", []) == {}
    assert hooks.feature_enabled(ORG, "orders") is True
    assert hooks.feature_enabled(ORG, "something-else") is False
    assert hooks.business_days(ORG, None, date(2026, 1, 3), date(2026, 1, 6)) == {
        date(2026, 1, 5),
        date(2026, 1, 6),
    }
    assert identity.timezone is None  # GOALS_DEFAULT_TIMEZONE then applies


def test_hooks_are_fresh_for_each_request(apps):
    """Team members are memoized within a request, never across requests (even when the app
    context outlives them, as in tests and scripts)."""
    host = FakeHost()
    app = app_with(apps, host)
    with app.app_context():
        api = client(app)
        assert api.post("/goals", json=sales_goal(team_id="team-new")).status_code == 422
        host.teams["team-new"] = ["u9"]
        assert api.post("/goals", json=sales_goal(team_id="team-new")).status_code == 201
        # ...and the caller is re-read for each request.
        assert api.as_user(None).get("/goals").status_code == 401
        assert api.as_user("other-admin").get("/goals").json == []


def test_inverted_status_thresholds_are_refused_at_startup(host):
    from conftest import make_app

    with pytest.raises(ValueError, match="GOALS_STATUS_AT_RISK_PERCENT"):
        make_app(host, GOALS_STATUS_AT_RISK_PERCENT=95, GOALS_STATUS_ON_TRACK_PERCENT=90)


def test_identity_without_timezone_uses_the_configured_default(host):
    from conftest import ApiClient, _reset, make_app

    host.timezone = None
    app = make_app(host, GOALS_DEFAULT_TIMEZONE="Pacific/Kiritimati")
    _reset(app)
    meta = ApiClient(app).get("/meta").json
    assert meta["timezone"] == "Pacific/Kiritimati"
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_the_hosts_create_all_and_drop_all_include_the_goals_tables(host):
    import sqlalchemy as sa
    from conftest import make_app

    app = make_app(host)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        db.drop_all()
        assert not [t for t in sa.inspect(db.engine).get_table_names() if t.startswith("goals_")]
        db.create_all()
        names = set(sa.inspect(db.engine).get_table_names())
        assert {"goals_goal", "goals_interval", "goals_allocation", "goals_history"} <= names
        # ...without the host's metadata knowing them (its Alembic autogenerate stays clean)
        assert not [t for t in db.metadata.tables if t.startswith("goals_")]
        db.session.remove()
        db.engine.dispose()
