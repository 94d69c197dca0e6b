"""The API's error handling, in one place: the error shape of every answer of the plugin's
blueprints (:func:`handle_http_exception`), capped error lists, and a busy or restarting
database as a 503 with ``Retry-After``, never a 500 (SPEC §13b).

SQLite answers "database is locked" once its busy timeout has passed while another process
holds the write lock; PostgreSQL drops connections when it restarts (``AdminShutdown``), or
refuses new ones while it starts. Both are worth retrying in a moment, and nothing of the
failed request is kept: the session is rolled back before the answer (PostgreSQL has already
discarded the transaction of a lost connection; SQLite never began writing).

The handler is registered on the plugin's blueprints only, like its HTTP error handler, so a
host's own pages and error handlers are untouched.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.exceptions import HTTPException

from ..exceptions import GoalsHTTPError

logger = logging.getLogger("flask_wiseparts_goals")

#: What ``Retry-After`` says: a lock held for a moment or a server restarting.
RETRY_AFTER_SECONDS = 5

#: Exceptions :func:`handle_database_unavailable` is registered for.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,  # no connection free in the pool within its timeout
)

#: SQLite reports its own programming errors ("no such table") as OperationalError too: only
#: these messages mean "busy", worth a retry.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database is busy or unreachable (retry later), rather than
    that a statement is wrong."""
    if isinstance(error, (sa.exc.DisconnectionError, sa.exc.TimeoutError)):
        return True
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return False
    module = type(error.orig).__module__ if error.orig is not None else ""
    if module.startswith("sqlite3"):
        message = str(error.orig).lower()
        return any(busy in message for busy in _SQLITE_BUSY)
    # PostgreSQL (psycopg): OperationalError is the connection lost or refused, an admin or
    # crash shutdown, too many connections, a lock or statement timeout. InterfaceError: a
    # connection already closed.
    return True


def handle_database_unavailable(error: Exception) -> Any:
    """503 in the plugin's error shape, with ``Retry-After``; any other database error is left
    to Flask (a 500, logged)."""
    if not is_database_unavailable(error):
        raise error
    session = current_app.extensions["goals"].session
    try:
        session.rollback()
    except Exception:  # the connection may be gone: the pool replaces it on next use
        logger.debug("goals: rollback after a lost connection failed", exc_info=True)
    logger.warning("goals: the database is unavailable (%s); answered 503", _first_line(error))
    payload = {
        "code": 503,
        "status": "Service Unavailable",
        "message": "The database is busy or restarting; nothing was changed. Try again in a "
        "moment.",
    }
    return payload, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


#: The most error messages an answer lists (SPEC §13b "error lists are capped").
MAX_ERRORS = 100


def cap_errors(errors: Any, limit: int = MAX_ERRORS) -> tuple[Any, int]:
    """The first ``limit`` messages of an ``errors`` tree (dicts of lists of messages, in
    order: rows of a CSV come in file order), and how many there are in all.

    A 1 MiB file of bad rows would otherwise answer a 20 MB list; the caller fixes the first
    ones and sends the file again.
    """
    total = 0

    def walk(node: Any) -> Any:
        nonlocal total
        if isinstance(node, dict):
            kept = {}
            for key, value in node.items():
                capped = walk(value)
                if capped is not _DROPPED:
                    kept[key] = capped
            return kept if kept or not node else _DROPPED
        if isinstance(node, list) and all(not isinstance(item, (dict, list)) for item in node):
            room = max(0, limit - total)
            total += len(node)
            return node[:room] if room else _DROPPED
        if isinstance(node, list):
            items = [walk(item) for item in node]
            kept_items = [item for item in items if item is not _DROPPED]
            return kept_items if kept_items or not node else _DROPPED
        total += 1
        return node if total <= limit else _DROPPED

    capped = walk(errors)
    return ({} if capped is _DROPPED else capped), total


_DROPPED = object()


def _first_line(error: BaseException) -> str:
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def handle_http_exception(error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
    """flask-smorest's error shape (``code``, ``status``, ``message``, ``errors``), plus the
    details of a 409 (what would change), scoped to this blueprint so a host's own error pages
    stay as they are. Werkzeug's headers (``Allow`` on 405, ``WWW-Authenticate``) are kept."""
    payload: dict[str, Any] = {"code": error.code, "status": error.name}
    data = getattr(error, "data", None) or {}
    payload["message"] = data.get("message") or error.description
    if "errors" in data:
        payload["errors"] = data["errors"]
    elif "messages" in data:
        payload["errors"] = data["messages"]
    if "errors" in payload:
        payload["errors"], count = cap_errors(payload["errors"])
        if count > MAX_ERRORS:
            # The count beside the locations (Error declares no other top-level field).
            payload["errors"]["_count"] = count
            payload["message"] = (
                f"{payload['message']} The first {MAX_ERRORS} of {count} errors are listed."
            )
    if isinstance(error, GoalsHTTPError):
        payload.update(error.extra)
    headers = dict(data.get("headers") or {})
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            headers[name] = value
    return payload, error.code or 500, headers
