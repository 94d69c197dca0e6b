"""The demo's inbox: the notifications ``goals_notify`` stored for the signed-in user.

The plugin (:meth:`.plugin.ExampleHostPlugin.goals_notify`) writes every notification into the
host's ``notifications`` table (and logs it); this page renders them by ``kind`` from their
structured ``data`` (docs/coaching.md): a status change, a milestone, a weekly digest with each
goal's figures and shortfall drivers, or a recurring goal to review.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from flask_wiseparts_goals import Goals

from .auth import current_user
from .models import Notification, User, db

bp = Blueprint("inbox", __name__)

#: How many notifications the page shows, newest first.
PAGE_SIZE = 200


@bp.get("/inbox")
def inbox() -> str | Response:
    user = current_user()
    if user is None:
        return redirect(url_for("pages.index"))
    notifications = db.session.scalars(
        sa.select(Notification)
        .where(
            Notification.organization_id == user.organization_id,
            Notification.recipient_id == user.id,
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    notifications = readable(notifications)
    names = {
        user_id: name
        for user_id, name in db.session.execute(
            sa.select(User.id, User.name).where(User.organization_id == user.organization_id)
        )
    }
    return render_template("inbox.html", user=user, notifications=notifications, names=names)


def readable(notifications: Sequence[Notification]) -> list[Notification]:
    """Only what the reader may still read (``Goals.readable_goal_ids``): a notice about a
    goal of a team the reader left is hidden, and a digest keeps only its readable goals."""
    ids = {n.goal_id for n in notifications if n.goal_id is not None}
    for notification in notifications:
        ids.update(_digest_goal_ids(notification))
    allowed = Goals.readable_goal_ids(ids)
    shown = []
    for notification in notifications:
        if notification.kind == "digest":
            goals = [g for g in notification.data.get("goals", []) if _goal_id(g) in allowed]
            if not goals:
                continue
            db.session.expunge(notification)  # shown filtered, never written back
            notification.data = {**notification.data, "goals": goals}
        elif notification.goal_id is not None and notification.goal_id not in allowed:
            continue
        shown.append(notification)
    return shown


def _goal_id(entry: Any) -> int | None:
    goal = entry.get("goal") if isinstance(entry, dict) else None
    value = goal.get("id") if isinstance(goal, dict) else None
    return value if isinstance(value, int) else None


def _digest_goal_ids(notification: Notification) -> set[int]:
    if notification.kind != "digest":
        return set()
    return {i for i in map(_goal_id, notification.data.get("goals", [])) if i is not None}
