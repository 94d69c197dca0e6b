"""The views of the goal pages: thin shells plus the caller's page data (``#goals-data``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, url_for
from werkzeug.exceptions import HTTPException

from ..api.common import context
from ..security import secure_response
from ..services.context import Context
from ..services.names import entity_names
from ..types import AuthTarget

#: The blueprint's name: ``url_for("goals_ui.goal_list")``, ``url_for("goals_ui.static", ...)``.
NAME = "goals_ui"
#: The package's own minimal layout, used when ``GOALS_UI_BASE_TEMPLATE`` is None.
DEFAULT_BASE_TEMPLATE = "goals/layout.html"


def create_ui_blueprint() -> Blueprint:
    bp = Blueprint(
        NAME,
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    bp.add_url_rule("/", "goal_list", goal_list)
    bp.add_url_rule("/new", "new_goal", new_goal)
    bp.add_url_rule("/<goals_id:goal_id>", "goal", goal)
    bp.add_url_rule("/<goals_id:goal_id>/edit", "edit_goal", edit_goal)
    bp.add_url_rule("/dashboard", "dashboard", dashboard)
    # The pages have no write routes (a POST here is a 405): they write through the API.
    bp.after_request(_secure_page)
    # Globals, not a context processor: macros imported into a host's page see them too.
    bp.add_app_template_global(goals_base_template)
    bp.add_app_template_global(goals_asset)
    bp.add_app_template_global(current_goals_currency)
    return bp


def _secure_page(response: Response) -> Response:
    return secure_response(response, page=True)


def goal_list() -> str:
    return _page("goals/list.html", page="list")


def new_goal() -> str:
    return _page("goals/form.html", page="form", goal_id=None)


def goal(goal_id: int) -> str:
    return _page("goals/goal.html", page="goal", goal_id=goal_id)


def edit_goal(goal_id: int) -> str:
    return _page("goals/form.html", page="form", goal_id=goal_id)


def dashboard() -> str:
    return _page("goals/dashboard.html", page="dashboard")


def _page(template: str, **context_vars: Any) -> str:
    """Render a page for the caller (a 401 from ``goals_identity`` is the host's to handle)."""
    ctx = context()
    return render_template(template, goals_data=page_data(ctx), **context_vars)


def page_data(ctx: Context) -> dict[str, Any]:
    """What every page's script needs and the API does not give in one call.

    ``teams``: the organization's teams by name (``goals_entities``, or the caller's own team
    ids without it), each with ``create`` (may the caller create a goal for it), ``read`` (may
    the caller read its goals: the dashboard offers only those) and ``mine``;
    ``create_org_wide``: may the caller create a goal without a team. Pages show only the
    controls the caller may use (SPEC §15).
    """
    identity = ctx.identity
    mine = set(identity.team_ids or ())
    named = entity_names(ctx, "team", limit=200)
    teams = {e.id: e.name for e in named["entities"]}
    for team_id in sorted(mine - teams.keys()):
        teams[team_id] = _name_of(ctx, "team", team_id)
    user_name = _name_of(ctx, "user", identity.user_id)

    def may_create(team_id: str | None) -> bool:
        return ctx.allowed(
            "create",
            AuthTarget(
                kind="goal",
                organization_id=ctx.organization_id,
                team_id=team_id,
                created_by=identity.user_id,
            ),
        )

    def may_read(team_id: str) -> bool:
        return ctx.allowed(
            "read", AuthTarget(kind="team", organization_id=ctx.organization_id, team_id=team_id)
        )

    team_list = [
        {
            "id": team_id,
            "name": name,
            "mine": team_id in mine,
            "create": may_create(team_id),
            "read": may_read(team_id),
        }
        for team_id, name in sorted(teams.items(), key=lambda item: item[1].casefold())
    ]
    org_wide = may_create(None)
    return {
        "api": current_app.config["GOALS_URL_PREFIX"].rstrip("/"),
        "ui": url_for(f"{NAME}.goal_list").rstrip("/"),
        "user": {"id": identity.user_id, "name": user_name},
        "currency": identity.currency or current_app.config["GOALS_CURRENCY"],
        "today": ctx.today.isoformat(),
        "teams": team_list,
        "create_org_wide": org_wide,
        "can_create": org_wide or any(t["create"] for t in team_list),
        "csrf": csrf_settings(),
    }


def csrf_settings() -> dict[str, str | None]:
    """The header the pages send the host's CSRF token in, and the token when the host
    supplies it through ``GOALS_CSRF_TOKEN`` (else the pages read ``<meta name="csrf-token">``
    of the host's layout, Flask-WTF's convention)."""
    supplier = current_app.config["GOALS_CSRF_TOKEN"]
    return {
        "header": current_app.config["GOALS_CSRF_HEADER"],
        "token": str(supplier()) if callable(supplier) else supplier,
    }


def _name_of(ctx: Context, kind: str, entity_id: str) -> str:
    named = entity_names(ctx, kind, ids=[entity_id])
    return str(named["entities"][0].name)


def goals_base_template() -> str:
    """The layout the pages extend: ``GOALS_UI_BASE_TEMPLATE`` or the package's own."""
    return str(current_app.config.get("GOALS_UI_BASE_TEMPLATE") or DEFAULT_BASE_TEMPLATE)


def goals_asset(filename: str) -> str:
    """The URL of one of the UI's static files (``goals.css``, ``element.js``...)."""
    return url_for(f"{NAME}.static", filename=f"goals/{filename}")


def current_goals_currency() -> str | None:
    """The caller's currency (``Identity.currency``, else ``GOALS_CURRENCY``) for widgets
    embedded in host pages; an anonymous caller gets ``GOALS_CURRENCY``."""
    try:
        currency = context().identity.currency
    except HTTPException:
        currency = None
    return currency or current_app.config["GOALS_CURRENCY"]
