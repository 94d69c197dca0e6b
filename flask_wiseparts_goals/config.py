"""The ``GOALS_*`` configuration keys, their defaults, and a strict check for typos."""

from __future__ import annotations

from collections.abc import MutableMapping
from decimal import Decimal
from typing import Any

from .security import DEFAULT_UI_CSP

#: Every key the extension reads, with its default. docs/configuration.md documents each one.
DEFAULTS: dict[str, Any] = {
    # Where the REST API, its OpenAPI document and its docs UI are mounted.
    "GOALS_URL_PREFIX": "/api/goals",
    # Timezone used when the identity does not say one (resolves "today").
    "GOALS_DEFAULT_TIMEZONE": "UTC",
    # Features on for every organization unless a plugin answers goals_feature_enabled.
    "GOALS_FEATURES": ("orders",),
    # Run the recurrence job on Flask-APScheduler in this process. None: on unless app.testing.
    # Safe in every worker (clones are exactly-once in the database); turn it off in web workers
    # when cron runs `flask goals recurrence run` instead.
    "GOALS_SCHEDULER_ENABLED": None,
    # When the recurrence job runs: "*:MM" every hour at minute MM (the default: each goal is
    # cloned within the hour after midnight in its own timezone), or "HH:MM" once a day.
    "GOALS_SCHEDULER_TIME": "*:05",
    # The timezone of a daily GOALS_SCHEDULER_TIME (goals always use their own for "today").
    "GOALS_SCHEDULER_TIMEZONE": "UTC",
    # Status thresholds, in % of the target expected to date.
    "GOALS_STATUS_ON_TRACK_PERCENT": Decimal("99"),
    "GOALS_STATUS_AT_RISK_PERCENT": Decimal("80"),
    # The largest request body the API reads, in bytes (a larger one is a 413 before parsing).
    # None: no limit of ours (the host's MAX_CONTENT_LENGTH still applies).
    "GOALS_MAX_BODY_BYTES": 1024 * 1024,
    # How long a request waits for the metric sources (seconds; all categories are asked at
    # once). A category not answered by then is null with the reason "timeout". None: no bound,
    # and the sources are asked one after another in the request's own context.
    "GOALS_ACTUALS_TIMEOUT_SECONDS": 5,
    # The user recorded as creator of goals made by the legacy migration.
    "GOALS_MIGRATION_CREATED_BY": "system",
    # The goal pages (ui/): off unless the host turns them on; where they are mounted; the
    # host's layout template they extend (None: the package's own minimal layout).
    "GOALS_UI_ENABLED": False,
    "GOALS_UI_URL_PREFIX": "/goals",
    "GOALS_UI_BASE_TEMPLATE": None,
    # ISO 4217 code shown next to money when the identity names no currency (None: no code).
    "GOALS_CURRENCY": None,
    # Browser safety (SPEC §13, docs/host-guide.md, "Security"). The header that carries the host's CSRF
    # token: the pages send it on every write, and it proves a write is not a cross-site form.
    "GOALS_CSRF_HEADER": "X-CSRFToken",
    # The token the pages send in it: None reads the host layout's <meta name="csrf-token">;
    # or a callable returning the token (e.g. flask_wtf.csrf.generate_csrf).
    "GOALS_CSRF_TOKEN": None,
    # Other origins whose pages may write ("https://shop.example.com"); the API's own always may.
    "GOALS_TRUSTED_ORIGINS": (),
    # The goal pages' Content-Security-Policy (a policy string; None sends none).
    "GOALS_UI_CSP": DEFAULT_UI_CSP,
}

#: Where the app serves Swagger UI's files, under ``GOALS_OPENAPI_URL_PREFIX``.
SWAGGER_UI_ASSETS = "swagger-ui"

#: Keys of flask-smorest read under the GOALS_ prefix (``Api(config_prefix="GOALS_")``).
API_KEYS_PREFIXES = ("GOALS_API_", "GOALS_OPENAPI_", "GOALS_ETAG_")


def apply_defaults(config: MutableMapping[str, Any]) -> None:
    """Fill in every missing ``GOALS_*`` key and reject unknown ones (most likely typos)."""
    unknown = sorted(
        key
        for key in config
        if key.startswith("GOALS_")
        and key not in DEFAULTS
        and not key.startswith(API_KEYS_PREFIXES)
    )
    if unknown:
        raise ValueError(
            f"Unknown configuration key(s) {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted(DEFAULTS))} (and GOALS_API_*/GOALS_OPENAPI_* for the spec)."
        )
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    on_track = Decimal(str(config["GOALS_STATUS_ON_TRACK_PERCENT"]))
    at_risk = Decimal(str(config["GOALS_STATUS_AT_RISK_PERCENT"]))
    if not 0 <= at_risk <= on_track:
        raise ValueError(
            "GOALS_STATUS_AT_RISK_PERCENT must be between 0 and GOALS_STATUS_ON_TRACK_PERCENT "
            f"(got {at_risk} and {on_track})."
        )
    timeout = config["GOALS_ACTUALS_TIMEOUT_SECONDS"]
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float, Decimal)) or timeout <= 0
    ):
        raise ValueError(
            f"GOALS_ACTUALS_TIMEOUT_SECONDS must be a number of seconds above 0 or None "
            f"(got {timeout!r})."
        )
    prefix = config["GOALS_URL_PREFIX"].rstrip("/")
    config.setdefault("GOALS_API_TITLE", "WiseParts Goals")
    config.setdefault("GOALS_API_VERSION", "1")
    config.setdefault("GOALS_OPENAPI_VERSION", "3.0.3")
    config.setdefault("GOALS_OPENAPI_URL_PREFIX", prefix)
    config.setdefault("GOALS_OPENAPI_JSON_PATH", "openapi.json")
    config.setdefault("GOALS_OPENAPI_SWAGGER_UI_PATH", "docs")
    ui_path = config["GOALS_OPENAPI_SWAGGER_UI_PATH"]
    if ui_path is not None:
        # Swagger UI's files, served by the app (extension._serve_swagger_ui) next to the docs
        # page: relative to it, so it also works under a host's SCRIPT_NAME.
        depth = str(ui_path).lstrip("/").count("/")
        config.setdefault("GOALS_OPENAPI_SWAGGER_UI_URL", "../" * depth + SWAGGER_UI_ASSETS + "/")
