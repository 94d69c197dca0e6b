"""Query arguments and responses of the leaderboard and the notification settings (SPEC §10)."""

from __future__ import annotations

from marshmallow import fields, validate

from ..services.context import MAX_ID
from .tracking import (
    ActualsStateSchema,
    MemberFiguresSchema,
    QueryArgsSchema,
    TrackedGoalSchema,
    _as_of,
)


class LeaderboardArgsSchema(QueryArgsSchema):
    as_of = _as_of
    interval_id = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={
            "description": "Rank within this interval of the goal; omitted: the whole range. "
            "An interval of another goal is a 422."
        },
    )


class LeaderboardMemberSchema(MemberFiguresSchema):
    rank = fields.Integer(
        allow_none=True,
        metadata={
            "description": "1 for the best. Ranked by achievement_percent, then actual (both "
            "descending; a member without a target, hence without a percentage, ranks after "
            "every member with one). Equal figures share a rank (1, 1, 3). Null for a member "
            "who is not counted (an allocation holder who left the team): listed last."
        },
    )


class LeaderboardSchema(ActualsStateSchema):
    as_of = fields.Date()
    goal = fields.Nested(TrackedGoalSchema)
    interval_id = fields.Integer(
        allow_none=True, metadata={"description": "Null for the goal's whole range."}
    )
    start_date = fields.Date()
    end_date = fields.Date()
    members = fields.List(
        fields.Nested(LeaderboardMemberSchema), metadata={"description": "Best first."}
    )
