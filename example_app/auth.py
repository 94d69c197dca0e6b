"""Who is calling: the demo's stand-in for a real login.

The caller is named by the ``X-User-Id`` request header (handy for API clients, tests and
curl) or, failing that, by ``session["user_id"]`` (set by a login picker page). Neither is
authentication: a real host reads its own login session or token here. Set
``EXAMPLE_ALLOW_USER_HEADER = False`` to accept the session only.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request, session

from .models import User, db

USER_HEADER = "X-User-Id"
SESSION_KEY = "user_id"


def requested_user_id() -> str | None:
    """The user id the request claims, or ``None`` outside a request or when none is given."""
    if not has_request_context():
        return None
    value: object = None
    if current_app.config.get("EXAMPLE_ALLOW_USER_HEADER", True):
        value = request.headers.get(USER_HEADER)
    if not value:
        value = session.get(SESSION_KEY)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def current_user() -> User | None:
    """The calling user, or ``None`` when anonymous or the id is unknown."""
    user_id = requested_user_id()
    if user_id is None:
        return None
    return db.session.get(User, user_id)


def login(user_id: str) -> None:
    """Remember the caller in the session (for the login picker page)."""
    session[SESSION_KEY] = user_id


def logout() -> None:
    session.pop(SESSION_KEY, None)
