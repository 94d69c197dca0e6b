"""A small WiseParts host app that mounts the Goals extension.

It owns its tables (:mod:`.models`), answers every Goals hook from them (:mod:`.plugin`), knows
who is calling (:mod:`.auth`) and can fill itself with demo data (``flask --app example_app
seed``). Everything goal-related is served by the extension: the REST API under
``/api/goals`` and the goal pages under ``/goals`` (``GOALS_UI_ENABLED``), in this host's layout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from flask_wiseparts_goals import Goals

from . import actuals
from .inbox import bp as inbox_bp
from .models import db
from .pages import bp as pages_bp
from .plugin import ExampleHostPlugin
from .seed import seed_command

__all__ = ["create_app", "db"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app factory: configuration, the host's database, then Goals on top of it."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        # Demo only: the session holds the picked user. Set EXAMPLE_SECRET_KEY in real use.
        SECRET_KEY=os.environ.get("EXAMPLE_SECRET_KEY", "example-app-demo-only"),
        # The session cookie is not sent by other sites' forms and fetches, nor read by
        # scripts (docs/host-guide.md, "Security"; the API refuses cross-site writes on its own too).
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        # A connection the database dropped (a restart, an idle timeout) is replaced before
        # a request uses it, instead of failing that request.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        # The recurrence job runs from `flask goals ...`/cron in the demo, not in web workers.
        GOALS_SCHEDULER_ENABLED=False,
        # The package's goal pages, inside this host's layout.
        GOALS_UI_ENABLED=True,
        GOALS_UI_BASE_TEMPLATE="base.html",
        # The API docs' "Authorize" button: pick a demo user by id (X-User-Id), or sign in
        # on / first and the docs page uses the session cookie.
        GOALS_API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "demo_user": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "X-User-Id",
                        "description": "A demo user id, e.g. acme-admin or acme-rep-anna.",
                    }
                }
            },
            "security": [{"demo_user": []}],
        },
    )
    app.config.update(config or {})
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("EXAMPLE_DATABASE_URL") or (
            _default_sqlite(app)
        )
    db.init_app(app)
    Goals(app, plugins=[ExampleHostPlugin(), actuals.source])
    app.cli.add_command(seed_command)
    app.register_blueprint(pages_bp)
    app.register_blueprint(inbox_bp)
    return app


def _default_sqlite(app: Flask) -> str:
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "example.db")
