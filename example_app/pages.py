"""The demo's own pages: the login picker and its layout. The goal pages are the package's
(``GOALS_UI_ENABLED``), rendered inside this host's ``base.html``.

The picker stands in for a real login: it only sets who is calling (``session["user_id"]``).
Signed in, it shows the caller's own goals with the embeddable widget (``goals/macros.html``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .auth import current_user, login, logout
from .models import Organization, User, db

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def _layout_context() -> dict[str, object]:
    """The layout's "signed in as" bar on every page, the package's goal pages included."""
    return {"user": current_user()}


@bp.app_errorhandler(401)
def _sign_in_first(error: Exception) -> Response:
    """A goal page without a caller: back to the picker (the API keeps its JSON 401)."""
    return redirect(url_for("pages.index"))


@bp.get("/")
def index() -> str:
    """The login picker: every demo user, by organization."""
    organizations = db.session.scalars(sa.select(Organization).order_by(Organization.name)).all()
    users = db.session.scalars(sa.select(User).order_by(User.organization_id, User.id)).all()
    by_org = {org.id: [u for u in users if u.organization_id == org.id] for org in organizations}
    return render_template("login.html", organizations=organizations, users_by_org=by_org)


@bp.post("/login")
def do_login() -> Response:
    user_id = request.form.get("user_id", "")
    if db.session.get(User, user_id) is None:
        return redirect(url_for(".index"))
    login(user_id)
    return redirect(url_for("goals_ui.goal_list"))


@bp.post("/logout")
def do_logout() -> Response:
    logout()
    return redirect(url_for(".index"))
