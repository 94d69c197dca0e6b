"""The demo's pages: a login picker, the goals list, the create form, a goal, the dashboards.

The pages are thin shells: every goal, interval, allocation and figure is read and written by
the browser through the Goals REST API (``static/*.js`` with ``fetch``), as a real front end
would do; the session cookie set by the login picker tells the API who is calling. What the
pages render server-side is the host's own data, which the Goals API does not serve: users'
names, teams and the ids a filter can pick from.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .auth import current_user, login, logout
from .models import (
    ACTIVITY_TYPES,
    Order,
    Organization,
    SalesLine,
    Team,
    TeamMembership,
    TeamWarehouse,
    User,
    db,
)
from .plugin import member_on, organization_today

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """The login picker: every demo user, by organization."""
    organizations = db.session.scalars(sa.select(Organization).order_by(Organization.name)).all()
    users = db.session.scalars(sa.select(User).order_by(User.organization_id, User.id)).all()
    by_org = {org.id: [u for u in users if u.organization_id == org.id] for org in organizations}
    return render_template(
        "login.html", organizations=organizations, users_by_org=by_org, user=current_user()
    )


@bp.post("/login")
def do_login() -> Response:
    user_id = request.form.get("user_id", "")
    if db.session.get(User, user_id) is None:
        return redirect(url_for(".index"))
    login(user_id)
    return redirect(url_for(".goals"))


@bp.post("/logout")
def do_logout() -> Response:
    logout()
    return redirect(url_for(".index"))


@bp.get("/goals")
def goals() -> str | Response:
    return _page("goals.html")


@bp.get("/goals/new")
def new_goal() -> str | Response:
    return _page("goal_form.html", options=True)


@bp.get("/goals/<int:goal_id>")
def goal(goal_id: int) -> str | Response:
    return _page("goal.html", goal_id=goal_id)


@bp.get("/dashboard")
def dashboard() -> str | Response:
    return _page("dashboard.html")


def _page(template: str, *, options: bool = False, **context: Any) -> str | Response:
    """Render a signed-in page with the host data its script needs (``#host-data``)."""
    user = current_user()
    if user is None:
        return redirect(url_for(".index"))
    host = _host_data(user)
    if options:
        host["options"] = _filter_options(user.organization_id)
    return render_template(
        template,
        user=user,
        host=host,
        api=current_app.config.get("GOALS_URL_PREFIX", "/api/goals"),
        **context,
    )


def _host_data(user: User) -> dict[str, Any]:
    """Names of the organization's users and teams, and which teams are the caller's."""
    organization = db.session.get_one(Organization, user.organization_id)
    today = organization_today(organization)
    my_teams = set(
        db.session.scalars(
            sa.select(TeamMembership.team_id).where(
                TeamMembership.user_id == user.id, member_on(today)
            )
        )
    )
    teams = db.session.scalars(
        sa.select(Team).where(Team.organization_id == organization.id).order_by(Team.name)
    )
    users = db.session.scalars(sa.select(User).where(User.organization_id == organization.id))
    return {
        "user": {"id": user.id, "name": user.name, "role": user.role},
        "organization": {"id": organization.id, "name": organization.name},
        "users": {u.id: u.name for u in users},
        "teams": [
            {
                "id": t.id,
                "name": t.name,
                "leader_id": t.leader_id,
                "mine": t.leader_id == user.id or t.id in my_teams,
            }
            for t in teams
        ],
    }


def _filter_options(org_id: str) -> dict[str, list[str]]:
    """The ids the goal form's filters offer, from the host's own sales and orders."""

    def distinct(column: Any) -> list[str]:
        query = sa.union(
            sa.select(getattr(SalesLine, column)).where(SalesLine.organization_id == org_id),
            sa.select(getattr(Order, column)).where(Order.organization_id == org_id),
        )
        return sorted(v for v in db.session.scalars(query) if v)

    warehouses = set(distinct("wholesaler_branch_id")) | set(
        db.session.scalars(
            sa.select(TeamWarehouse.wholesaler_branch_id)
            .join(Team, Team.id == TeamWarehouse.team_id)
            .where(Team.organization_id == org_id)
        )
    )
    return {
        "brands": distinct("brand_id"),
        "brand_families": distinct("brand_family_id"),
        "customers": distinct("customer_id"),
        "customer_branches": distinct("customer_branch_id"),
        "wholesaler_branches": sorted(warehouses),
        "activity_types": list(ACTIVITY_TYPES),
    }
