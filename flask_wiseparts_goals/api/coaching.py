"""``/goals/{id}/leaderboard`` and ``/me/notification-settings`` (SPEC §10, docs/coaching.md)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.error_handler import ErrorSchema

from ..schemas.coaching import (
    LeaderboardArgsSchema,
    LeaderboardSchema,
    NotificationSettingsSchema,
    NotificationSettingsUpdateSchema,
)
from ..services.coaching import leaderboard, notification_settings, update_notification_settings
from .common import context, make_blueprint, transaction

blp = make_blueprint(
    "coaching", "Coaching: a goal's leaderboard and the caller's notification settings."
)


@blp.route("/goals/<goals_id:goal_id>/leaderboard")
class Leaderboard(MethodView):
    @blp.arguments(LeaderboardArgsSchema, location="query")
    @blp.response(200, LeaderboardSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR")
    @blp.alt_response(
        502, schema=ErrorSchema, description="The metric source of the goal's category failed."
    )
    def get(self, args: dict[str, Any], goal_id: int) -> dict[str, Any]:
        """The goal's members on ``as_of`` (default today) ranked by achievement % (then
        actual), over the whole range or the interval ``interval_id``, with target, actual,
        forecast and status. The figures are those of ``/goals/{id}/progress``."""
        ctx = context()
        return leaderboard(
            ctx,
            goal_id,
            as_of=args.get("as_of") or ctx.today,
            interval_id=args.get("interval_id"),
        )


@blp.route("/me/notification-settings")
class MyNotificationSettings(MethodView):
    @blp.response(200, NotificationSettingsSchema)
    def get(self) -> dict[str, Any]:
        """The caller's coaching notifications: which kinds they receive (status changes,
        milestones, the weekly digest; all on by default) and the timezone of the digest."""
        return notification_settings(context())

    @blp.arguments(NotificationSettingsUpdateSchema)
    @blp.response(200, NotificationSettingsSchema)
    def put(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Turn kinds of coaching notifications on or off (``false``: opt out), or set the
        digest's timezone. Only the caller's own settings: fields omitted keep their value.
        Notices decided while a kind is off are recorded, not delivered later."""
        ctx = context()
        with transaction(ctx):
            return update_notification_settings(ctx, changes)
