"""The example host's inbox: the demo seed makes every kind of notification appear, through
the recurrence and coaching jobs, and ``/inbox`` shows the signed-in user theirs."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from example_app import create_app
from example_app.models import Notification, db
from flask_wiseparts_goals.models import Base as GoalsBase

DATABASE_URL = os.environ.get("GOALS_TEST_DATABASE_URL") or "sqlite://"
#: A Wednesday: the seed's coaching runs as of Monday 2026-03-16, then as of this day.
TODAY = "2026-03-18"


def _drop_everything() -> None:
    db.session.remove()
    GoalsBase.metadata.drop_all(db.engine)
    db.drop_all()


@pytest.fixture(scope="module")
def demo() -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    with app.app_context():
        _drop_everything()
    result = app.test_cli_runner().invoke(args=["seed", "--reset", "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert "notifications (recurrence and coaching)" in result.output
    yield app
    with app.app_context():
        _drop_everything()
        db.engine.dispose()


def rows(app: Flask) -> list[Notification]:
    with app.app_context():
        found = db.session.scalars(sa.select(Notification).order_by(Notification.id)).all()
        db.session.expunge_all()
        return list(found)


def test_seed_makes_every_kind_appear(demo: Flask) -> None:
    notes = rows(demo)
    assert {"review", "status", "milestone", "digest"} <= {n.kind for n in notes}
    [review] = [n for n in notes if n.kind == "review"]
    assert review.recipient_id == "acme-admin"
    assert review.data["new_member_ids"] == ["acme-rep-ida"]
    digests = [n for n in notes if n.kind == "digest"]
    assert {n.data["week_of"] for n in digests} == {"2026-03-16"}
    assert len({n.recipient_id for n in digests}) == len(digests)  # one per person
    assert any(
        n.kind == "status" and n.data["status"] == "at_risk" and "Acme record year" in n.message
        for n in notes
    )
    assert any(n.kind == "milestone" and n.data["milestone"] == 100 for n in notes)


def test_inbox_shows_the_users_notifications_by_kind(demo: Flask) -> None:
    client = demo.test_client()
    page = client.get("/inbox", headers={"X-User-Id": "acme-admin"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("Weekly digest", "Status change", "Milestone", "Review needed"):
        assert heading in html, heading
    assert "Acme record year" in html
    assert "Needed per business day" in html
    mine = [n for n in rows(demo) if n.recipient_id == "acme-rep-ida"]
    ida = client.get("/inbox", headers={"X-User-Id": "acme-rep-ida"}).get_data(as_text=True)
    assert ida.count('class="notice ') == len(mine) > 0
    assert "Acme record year" not in ida  # the admin's, not hers


def test_inbox_needs_a_user(demo: Flask) -> None:
    response = demo.test_client().get("/inbox")
    assert response.status_code == 302
