"""The example host's inbox: the demo seed makes every kind of notification appear, through
the recurrence and coaching jobs, and ``/inbox`` shows the signed-in user theirs."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from example_app import create_app
from example_app.models import Notification, TeamMembership, User, db
from flask_wiseparts_goals.models import Base as GoalsBase
from flask_wiseparts_goals.models import Goal

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


def _team_notices(notes: list[Notification], user_id: str) -> list[Notification]:
    """The user's notices about a team goal (a digest: one that lists a team goal)."""
    mine = [n for n in notes if n.recipient_id == user_id]
    return [
        n
        for n in mine
        if (n.data.get("goal") or {}).get("team_id")
        or any(e["goal"]["team_id"] for e in n.data.get("goals", []))
    ]


def test_inbox_hides_what_a_reader_who_left_the_team_may_no_longer_read(demo: Flask) -> None:
    """SPEC §13: a rep who left a team reads nothing more of its goals, in the inbox either
    (notices delivered while she was a member included; a digest keeps its readable goals)."""
    notes = rows(demo)
    with demo.app_context():
        reps = set(db.session.scalars(sa.select(User.id).where(User.role == "rep")))
    rep = next(u for u in sorted(reps) if _team_notices(notes, u))
    team_goal_ids = {n.goal_id for n in _team_notices(notes, rep) if n.goal_id is not None} | {
        e["goal"]["id"] for n in _team_notices(notes, rep) for e in n.data.get("goals", [])
    }
    client = demo.test_client()
    before = client.get("/inbox", headers={"X-User-Id": rep}).get_data(as_text=True)
    with demo.app_context():
        spans = db.session.scalars(
            sa.select(TeamMembership).where(
                TeamMembership.user_id == rep, TeamMembership.left_on.is_(None)
            )
        ).all()
        kept = [(s.id, s.joined_on) for s in spans]
        for span in spans:
            span.left_on = span.joined_on  # she left long ago
        db.session.commit()
    try:
        after = client.get("/inbox", headers={"X-User-Id": rep}).get_data(as_text=True)
    finally:
        with demo.app_context():
            for span_id, _ in kept:
                db.session.get(TeamMembership, span_id).left_on = None
            db.session.commit()
    assert after.count('class="notice ') < before.count('class="notice ')
    with demo.app_context():
        hidden = db.session.scalars(sa.select(Goal.description).where(Goal.id.in_(team_goal_ids)))
        for description in hidden:
            assert description in before
            assert description not in after, description
