"""Pages show only the controls the caller may use (SPEC §14, §15): a rep opening the create
page gets a plain message, not a form refused on submit; the dashboard offers only the teams
whose goals the caller may read."""

from __future__ import annotations

import re

from test_ui import app, page, page_data, templates, ui_config  # noqa: F401  (fixtures)


def team_options(html: str) -> list[str]:
    select = re.search(r'<select id="dashboard-team".*?</select>', html, re.S)
    assert select, "no team filter on the dashboard"
    return re.findall(r'<option value="([^"]*)"', select[0])


def test_a_rep_gets_a_message_not_a_create_form(app):  # noqa: F811
    response = page(app, "/goals/new", "rep")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert page_data(html)["can_create"] is False
    assert 'id="goal-form"' not in html
    assert "<input" not in html.split('id="goals-data"')[0].split("<main>")[-1]
    assert 'id="cannot-create"' in html
    assert "form.js" not in html


def test_a_manager_still_gets_the_form(app):  # noqa: F811
    html = page(app, "/goals/new", "manager").get_data(as_text=True)
    assert 'id="goal-form"' in html and 'id="cannot-create"' not in html
    assert "form.js" in html


def test_the_dashboard_offers_only_readable_teams(app):  # noqa: F811
    # The default read rule: goals of the caller's own teams (and organization-wide ones).
    rep = page(app, "/goals/dashboard", "rep").get_data(as_text=True)
    assert {t["id"]: t["read"] for t in page_data(rep)["teams"]} == {
        "team-a": True,
        "team-b": False,
    }
    assert team_options(rep) == ["", "team-a"]
    admin = page(app, "/goals/dashboard", "admin").get_data(as_text=True)
    assert team_options(admin) == ["", "team-a", "team-b"]
