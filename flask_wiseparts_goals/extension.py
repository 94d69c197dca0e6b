"""The ``Goals`` Flask extension."""

from __future__ import annotations

import http
import importlib.util
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pluggy
import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    g,
    has_app_context,
    has_request_context,
    request,
)
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from ._compat import spec_paths
from .api import blueprints
from .api.common import REQUIRES_IF_MATCH, IdConverter, id_parameter_schema
from .api.fallback import create_fallback_blueprint
from .config import SWAGGER_UI_ASSETS, apply_defaults
from .models import Base
from .plugins import HostHooks, make_plugin_manager
from .schemas.fields import DecimalString
from .schemas.goals import ConflictSchema
from .security import secure_response
from .services.context import REQUEST_STORE

EXTENSION_KEY = "goals"


class GoalsApi(Api):
    """The plugin's own flask-smorest ``Api`` (config prefix ``GOALS_``).

    flask-smorest installs an app-wide ``HTTPException`` handler; this one installs none, so a
    host's own 404/405 pages (HTML or its own ``Api``'s JSON) stay as they are. The plugin's
    blueprints carry their own handler instead (see ``api.common``).
    """

    def _register_error_handlers(self) -> None:
        pass


def _document_truthfully(api: Api) -> None:
    """Make the OpenAPI document say what the wire carries.

    - ``X-Pagination`` is JSON *text* in a header, not an object.
    - Decimal strings carry a pattern, so generated clients and fuzzers send valid numbers.
    """
    pagination = {
        "description": "Pagination metadata as JSON text: total, total_pages, first_page, "
        "last_page, page, previous_page, next_page.",
        "schema": {"type": "string"},
    }
    api.spec.components.headers_lazy["PAGINATION"] = pagination
    api.spec.components.headers.pop("PAGINATION", None)

    def decimal_pattern(self: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
        if isinstance(field, DecimalString):
            sign = "-?" if field.signed else ""
            return {"pattern": rf"^{sign}[0-9]{{1,16}}(\.[0-9]{{1,{field.max_places}}})?$"}
        return {}

    api.ma_plugin.converter.add_attribute_function(decimal_pattern)


def _follow_host_create_all(db: SQLAlchemy) -> None:
    """``db.create_all()`` / ``db.drop_all()`` of the host also create / drop the goals_*
    tables (tests and demos). The tables stay out of the host's ``MetaData``, so the host's own
    Alembic autogenerate never sees them; production uses ``flask goals db upgrade``."""
    metadata = db.metadata
    if metadata.info.get("goals_follows"):
        return
    metadata.info["goals_follows"] = True
    sa.event.listen(
        metadata,
        "after_create",
        lambda target, connection, **kw: Base.metadata.create_all(connection),
    )
    sa.event.listen(
        metadata, "after_drop", lambda target, connection, **kw: Base.metadata.drop_all(connection)
    )


def _document_errors(api: Api) -> None:
    """Declare, on every operation, the errors every operation can answer (flask-smorest only
    declares 422 and the ETag statuses): 401 without identity, 403 for a refused write, 404 for
    a goal the caller cannot see, 400/415 for a body that is not JSON, 409 where ``confirm``
    exists (with the body that states the cascade or what a rebuild would drop)."""
    components = api.spec.components
    components.schema("Conflict", schema=ConflictSchema)
    conflict = {
        "description": "Needs confirmation: repeat with confirm=true to apply what the body states.",
        "content": {"application/json": {"schema": components.get_ref("schema", "Conflict")}},
    }
    for path, operations in spec_paths(api).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            wanted = ["UNAUTHORIZED"]
            if "{goal_id}" in path:
                wanted.append("NOT_FOUND")
            if method != "get":
                wanted.append("FORBIDDEN")
            if "requestBody" in operation:
                wanted += ["BAD_REQUEST", "UNSUPPORTED_MEDIA_TYPE"]
            for name in wanted:
                code = str(http.HTTPStatus[name].value)
                responses.setdefault(code, components.get_ref("response", name))
            if any(p.get("name") == "confirm" for p in operation.get("parameters", [])):
                responses.setdefault("409", conflict)
            if_match = operation.pop(REQUIRES_IF_MATCH, None)
            if if_match is not None:
                operation.setdefault("parameters", []).append(
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": True,
                        "description": f"{if_match} 428 without it, 412 when stale.",
                        "schema": {"type": "string"},
                    }
                )
                for name in ("PRECONDITION_FAILED", "PRECONDITION_REQUIRED"):
                    code = str(http.HTTPStatus[name].value)
                    responses.setdefault(code, components.get_ref("response", name))


def _claim_error_codes(blueprint: Blueprint) -> Blueprint:
    """Flask looks up handlers by status code (blueprint, then app) before it looks up by class:
    a host's ``@app.errorhandler(404)`` would beat the blueprint's ``HTTPException`` handler.
    Registering the JSON handler for every code on the plugin's blueprints keeps the Goals error
    shape under the prefix while the host's pages keep the host's handlers."""
    from werkzeug.exceptions import default_exceptions

    from .api.errors import handle_http_exception

    if blueprint.error_handler_spec[None].get(404):  # module-level blueprints: once only
        return blueprint
    for code in default_exceptions:
        blueprint.register_error_handler(code, handle_http_exception)
    return blueprint


def _install_migrate_filter(app: Flask) -> None:
    """Keep the host's Flask-Migrate autogenerate away from ``goals_*`` tables and the goals
    version table (else ``flask db migrate`` after ``flask goals db upgrade`` drops them all).

    Composes with an ``include_name``/``include_object`` the host passed to ``Migrate``.
    Idempotent; a no-op without Flask-Migrate."""
    from .migrations.runner import host_include_name, host_include_object

    migrate = app.extensions.get("migrate")
    args = getattr(migrate, "configure_args", None)
    if args is None or getattr(args.get("include_name"), "goals_filter", False):
        return
    host_name = args.get("include_name")
    host_object = args.get("include_object")

    def include_name(name: Any, type_: str, parent_names: Any) -> bool:
        if not host_include_name(name, type_, parent_names):
            return False
        return host_name(name, type_, parent_names) if host_name else True

    def include_object(obj: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
        if not host_include_object(obj, name, type_, reflected, compare_to):
            return False
        return host_object(obj, name, type_, reflected, compare_to) if host_object else True

    include_name.goals_filter = True  # type: ignore[attr-defined]
    args["include_name"] = include_name
    args["include_object"] = include_object


def _guard_host_migrations(app: Flask) -> None:
    """Install the filter now if Flask-Migrate is there, and on every app context of this app
    (Flask-Migrate may be initialised after Goals; its commands run in an app context)."""
    from flask import appcontext_pushed

    _install_migrate_filter(app)

    def on_push(sender: Flask, **extra: Any) -> None:
        _install_migrate_filter(sender)

    app.extensions.setdefault("goals_migrate_guard", on_push)  # keep a strong reference
    appcontext_pushed.connect(on_push, app)


def _serve_swagger_ui(app: Flask) -> None:
    """Serve Swagger UI's files for the docs page from the installed ``flask-swagger-ui``
    package (its ``dist/`` folder, kept current with Swagger UI upstream), so
    ``/api/goals/docs`` works without internet. Only its files are used, not its blueprint."""
    prefix = app.config["GOALS_OPENAPI_URL_PREFIX"]
    if prefix is None or app.config["GOALS_OPENAPI_SWAGGER_UI_PATH"] is None:
        return
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed: it serves the docs' Swagger UI.")
    dist = Path(next(iter(spec.submodule_search_locations))) / "dist"
    assets = Blueprint(
        "goals_swagger_ui",
        __name__,
        static_folder=str(dist),
        static_url_path=f"/{SWAGGER_UI_ASSETS}",
        url_prefix="/" + prefix.strip("/"),
    )
    app.register_blueprint(_claim_error_codes(assets))  # a missing file: a Goals JSON 404


#: The extension's blueprints made by others (flask-smorest's docs, Swagger UI's files) or
#: without their own ``after_request`` (the catch-all): their responses get the API's headers.
_OTHER_BLUEPRINTS = ("goals-api-docs", "goals_swagger_ui", "goals_fallback")


def _secure_other_blueprints(app: Flask) -> None:
    def secure(response: Response) -> Response:
        if request.blueprint in _OTHER_BLUEPRINTS:
            return secure_response(response, page=request.blueprint == "goals_swagger_ui")
        return response

    app.after_request(secure)


class GoalsState:
    """Everything the extension keeps per app, in ``app.extensions["goals"]``."""

    def __init__(self, app: Flask, db: SQLAlchemy, pm: pluggy.PluginManager, api: Api) -> None:
        self.app = app
        self.db = db
        self.plugin_manager = pm
        self.api = api

    @property
    def session(self) -> Session:
        return self.db.session  # type: ignore[return-value]

    def hooks(self) -> HostHooks:
        """The hooks façade of the current request (of the app context outside requests, a
        fresh one outside both).

        Kept in the request's WSGI environ, not in ``g``: with Flask 3.1 ``g`` lives as long as
        the app context, which a test (or a host's script) may keep open over many requests,
        and memoized team members must not outlive one request.
        """
        if has_request_context():
            store = request.environ.setdefault(REQUEST_STORE, {})
        elif has_app_context():
            store = g.setdefault(REQUEST_STORE, {})
        else:
            return HostHooks(self.plugin_manager)
        hooks: HostHooks | None = store.get("hooks")
        if hooks is None:
            hooks = store["hooks"] = HostHooks(self.plugin_manager)
        return hooks


class Goals:
    """The Goals extension.

    ``Goals(app, plugins=[...])`` or, with an app factory, ``goals = Goals()`` then
    ``goals.init_app(app, plugins=[...])``. It needs the host's Flask-SQLAlchemy extension to be
    initialized first: goal tables live on the host's engine and goal writes join its session.

    :param plugins: host plugins (objects with ``@hookimpl`` methods). Plugins installed with
        the ``flask_wiseparts_goals`` entry-point group are loaded as well.
    :param entry_points: set ``False`` to ignore installed entry-point plugins (tests).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        plugins: Sequence[object] = (),
        entry_points: bool = True,
    ) -> None:
        self.plugins = list(plugins)
        self.entry_points = entry_points
        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        plugins: Sequence[object] | None = None,
        entry_points: bool | None = None,
    ) -> None:
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "flask-wiseparts-goals is already registered on this app; "
                "create one Goals per app and call init_app once."
            )
        db = app.extensions.get("sqlalchemy")
        if db is None:
            raise RuntimeError(
                "flask-wiseparts-goals uses the host's Flask-SQLAlchemy: "
                "call db.init_app(app) before Goals(app)."
            )
        apply_defaults(app.config)
        pm = make_plugin_manager(
            self.plugins if plugins is None else list(plugins),
            features=app.config["GOALS_FEATURES"],
            entry_points=self.entry_points if entry_points is None else entry_points,
        )
        app.url_map.converters.setdefault("goals_id", IdConverter)
        api = GoalsApi(config_prefix="GOALS_")
        api.init_app(app)
        api.register_converter(IdConverter, id_parameter_schema)
        api.register_field(DecimalString, "string", "decimal")
        _document_truthfully(api)
        _serve_swagger_ui(app)
        prefix = app.config["GOALS_URL_PREFIX"].rstrip("/")
        for blueprint in blueprints():
            _claim_error_codes(blueprint)
            # Prefixed so that a host's own "history" or "meta" blueprint does not collide.
            api.register_blueprint(blueprint, url_prefix=prefix, name=f"goals_{blueprint.name}")
        app.register_blueprint(_claim_error_codes(create_fallback_blueprint()), url_prefix=prefix)
        _secure_other_blueprints(app)
        _document_errors(api)
        if app.config["GOALS_UI_ENABLED"]:
            from .ui import create_ui_blueprint

            ui_prefix = app.config["GOALS_UI_URL_PREFIX"].rstrip("/") or None
            app.register_blueprint(create_ui_blueprint(), url_prefix=ui_prefix)
        app.extensions[EXTENSION_KEY] = GoalsState(app, db, pm, api)
        _follow_host_create_all(db)
        _guard_host_migrations(app)

        from .cli import register_cli
        from .scheduler import init_scheduler

        register_cli(app)

        init_scheduler(app)

    @staticmethod
    def state(app: Flask) -> GoalsState:
        try:
            state: GoalsState = app.extensions[EXTENSION_KEY]
        except KeyError:
            raise RuntimeError("Goals is not initialized on this app; call init_app.") from None
        return state

    @staticmethod
    def readable_goal_ids(goal_ids: Iterable[int]) -> set[int]:
        """Of ``goal_ids``, the goals the caller of the current request may read now
        (``goals_identity`` and ``goals_authorize``; one query). A host's inbox shows a stored
        notification only when its goal (each goal of a digest) is among them: a person who
        left a team is not shown its figures any more (docs/host-guide.md, "Security")."""
        from .api.common import context
        from .services.readers import readable_goal_ids

        return readable_goal_ids(context(), goal_ids)

    @staticmethod
    def create_all(app: Flask | None = None) -> None:
        """Create the ``goals_*`` tables on the host's engine (tests and demos; production hosts
        run ``flask goals db upgrade``). Needs an app context when ``app`` is not given."""
        from flask import current_app

        state = Goals.state(app or current_app._get_current_object())  # type: ignore[attr-defined]
        with state.app.app_context():
            Base.metadata.create_all(state.db.engine)

    @staticmethod
    def drop_all(app: Flask | None = None) -> None:
        from flask import current_app

        state = Goals.state(app or current_app._get_current_object())  # type: ignore[attr-defined]
        with state.app.app_context():
            Base.metadata.drop_all(state.db.engine)
