"""A host with Flask-WTF's ``CSRFProtect`` on (as Flask-Security and Flask-Admin hosts have)
works unchanged (SPEC §13): its layout carries ``<meta name="csrf-token">``, the goal pages
send that token in ``X-CSRFToken``, and the host refuses an API write without it.
tests/test_browser_security.py drives the pages themselves in such a host (the example app
with ``CSRFProtect``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FakeHost, _reset, make_app, sales_goal
from flask import Flask
from flask_wtf.csrf import CSRFProtect

LAYOUT = """<!doctype html><html lang="en"><head>
<meta name="csrf-token" content="{{ csrf_token() }}">
<title>{% block title %}{% endblock %}</title></head>
<body><main>{% block content %}{% endblock %}</main></body></html>"""


@pytest.fixture
def app(host: FakeHost, tmp_path: Path) -> Iterator[Flask]:
    (tmp_path / "layout.html").write_text(LAYOUT, encoding="utf-8")
    app = make_app(
        host,
        SECRET_KEY="host-secret",
        GOALS_UI_ENABLED=True,
        GOALS_UI_BASE_TEMPLATE="layout.html",
    )
    app.template_folder = str(tmp_path)
    CSRFProtect(app)
    _reset(app)
    with app.app_context():
        host.install(app)
        yield app
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


def _token(client, path: str = "/goals/") -> str:
    html = client.get(path, headers={"X-User": "admin"}).text
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, "the host layout has no token"
    return match[1]


def test_the_pages_token_passes_the_hosts_csrf_protection(app: Flask) -> None:
    client = app.test_client()
    token = _token(client)
    headers = {"X-User": "admin", "X-CSRFToken": token}
    created = client.post("/api/goals/goals", json=sales_goal(aim="900.00"), headers=headers)
    assert created.status_code == 201, created.json
    goal = created.json
    # An action without a body: the token header is the page's proof for both checks.
    interval = client.get(f"/api/goals/goals/{goal['id']}/intervals", headers=headers).json[0]
    copy = client.post(
        f"/api/goals/goals/{goal['id']}/intervals/{interval['id']}/copy?confirm=true",
        headers=headers,
    )
    assert copy.status_code == 200, copy.json
    # The CSV import with its ETag.
    download = client.get(f"/api/goals/goals/{goal['id']}/targets.csv", headers=headers)
    imported = client.put(
        f"/api/goals/goals/{goal['id']}/targets.csv",
        data=download.text,
        content_type="text/csv",
        headers={**headers, "If-Match": download.headers["ETag"]},
    )
    assert imported.status_code == 200, imported.json


def test_an_api_write_without_the_token_is_refused_by_the_host(app: Flask) -> None:
    client = app.test_client()
    _token(client)  # a session exists
    response = client.post(
        "/api/goals/goals", json=sales_goal(aim="900.00"), headers={"X-User": "admin"}
    )
    assert response.status_code == 400
    assert "CSRF" in response.text
    listed = client.get("/api/goals/goals", headers={"X-User": "admin"})
    assert listed.json == []
