"""The demo's inbox: the notifications ``goals_notify`` stored for the signed-in user.

The plugin (:meth:`.plugin.ExampleHostPlugin.goals_notify`) writes every notification into the
host's ``notifications`` table (and logs it); this page renders them by ``kind`` from their
structured ``data`` (docs/coaching.md): a status change, a milestone, a weekly digest with each
goal's figures and shortfall drivers, or a recurring goal to review.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

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
    names = {
        user_id: name
        for user_id, name in db.session.execute(
            sa.select(User.id, User.name).where(User.organization_id == user.organization_id)
        )
    }
    return render_template("inbox.html", user=user, notifications=notifications, names=names)
