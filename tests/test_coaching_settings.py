"""``GET, PUT /me/notification-settings``: each person's opt-out of coaching notices and the
digest's timezone (SPEC §10)."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import dump_tables

from flask_wiseparts_goals.models import NotificationSetting


def test_defaults_everything_on(api, host):
    response = api.as_user("rep").get("/me/notification-settings")
    assert response.status_code == 200
    assert response.json == {"status": True, "milestone": True, "digest": True, "timezone": None}


def test_put_changes_only_the_given_fields_and_stores_the_hosts_timezone(api, host, db):
    host.timezone = "America/New_York"  # what the host says about its users (Identity)
    rep = api.as_user("rep")
    response = rep.put("/me/notification-settings", json={"digest": False})
    assert response.status_code == 200, response.json
    assert response.json == {
        "status": True,
        "milestone": True,
        "digest": False,
        "timezone": "America/New_York",
    }
    response = rep.put(
        "/me/notification-settings", json={"status": False, "timezone": "Asia/Tokyo"}
    )
    assert response.json == {
        "status": False,
        "milestone": True,
        "digest": False,
        "timezone": "Asia/Tokyo",
    }
    assert rep.get("/me/notification-settings").json == response.json
    # Another person's settings are their own.
    assert api.as_user("manager").get("/me/notification-settings").json["status"] is True
    rows = db.session.scalars(sa.select(NotificationSetting)).all()
    assert [(r.organization_id, r.user_id) for r in rows] == [("org-1", "rep")]


def test_same_user_id_in_another_organization_is_another_person(api, host):
    host.users["rep2"] = {"organization_id": "org-2", "role": "rep", "teams": []}
    api.as_user("rep").put("/me/notification-settings", json={"digest": False})
    assert api.as_user("rep2").get("/me/notification-settings").json["digest"] is True


def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(api, host, db):
    before = dump_tables(db)
    rep = api.as_user("rep")
    for body, name in [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"digest": "sometimes"}, "digest"),
        ({"digest": 1}, "digest"),
        ({"status": "true"}, "status"),
        ({"milestone": None}, "milestone"),
        ({"weekly": True}, "weekly"),
        ({"timezone": ""}, "timezone"),
    ]:
        response = rep.put("/me/notification-settings", json=body)
        assert response.status_code == 422, body
        assert name in response.json["errors"]["json"], response.json
    for body in ({}, None):
        response = rep.put("/me/notification-settings", json=body)
        assert response.status_code == 422, body
    assert dump_tables(db) == before


def test_anonymous_is_a_401(api, host):
    assert api.as_user(None).get("/me/notification-settings").status_code == 401
    assert api.as_user(None).put("/me/notification-settings", json={}).status_code == 401


def test_in_openapi(api, host):
    spec = api.get("/openapi.json").json
    item = spec["paths"]["/api/goals/me/notification-settings"]
    assert set(item) >= {"get", "put"}
