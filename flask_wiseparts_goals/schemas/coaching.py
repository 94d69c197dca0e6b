"""Query arguments and responses of the leaderboard and the notification settings (SPEC §10)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma
from marshmallow import fields, validate, validates_schema

from ..services.context import MAX_ID
from .fields import IsoDate, StrictBoolean, TextField
from .goals import StrictSchema
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
    as_of = IsoDate()
    goal = fields.Nested(TrackedGoalSchema)
    interval_id = fields.Integer(
        allow_none=True, metadata={"description": "Null for the goal's whole range."}
    )
    start_date = IsoDate()
    end_date = IsoDate()
    members = fields.List(
        fields.Nested(LeaderboardMemberSchema), metadata={"description": "Best first."}
    )


#: The longest timezone name taken (IANA's longest is 32 characters).
MAX_TIMEZONE_LENGTH = 64


def _iana(value: str) -> None:
    # marshmallow runs every validator: a name over the length limit never reaches ZoneInfo,
    # which would look it up as a file path (OSError "File name too long", a 500).
    if len(value) > MAX_TIMEZONE_LENGTH:
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ma.ValidationError("Not a known IANA timezone name, e.g. Europe/Vienna.") from error


_KIND_DESCRIPTIONS = {
    "status": "Status-change notices (on track, behind, at risk) of your goals and yourself.",
    "milestone": "Milestone notices (50, 90 and 100 % of the target).",
    "digest": "The weekly digest, on Monday in your timezone.",
}


class NotificationSettingsSchema(ma.Schema):
    """The caller's coaching notifications: every kind is on until turned off."""

    status = StrictBoolean(metadata={"description": _KIND_DESCRIPTIONS["status"]})
    milestone = StrictBoolean(metadata={"description": _KIND_DESCRIPTIONS["milestone"]})
    digest = StrictBoolean(metadata={"description": _KIND_DESCRIPTIONS["digest"]})
    timezone = fields.String(
        allow_none=True,
        metadata={
            "description": "IANA timezone the digest's Monday is taken in. Null until set: "
            "the organization's timezone. Saving settings without one stores the timezone "
            "the host gives for the caller (Identity.timezone)."
        },
    )


class JsonBoolean(StrictBoolean):
    """A JSON ``true`` or ``false``, nothing else (not ``1``, not ``"yes"``)."""

    default_error_messages = {"invalid": "Must be true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class NotificationSettingsUpdateSchema(StrictSchema):
    """Fields omitted keep their value; unknown fields and a body naming none are a 422."""

    status = JsonBoolean(metadata={"description": _KIND_DESCRIPTIONS["status"]})
    milestone = JsonBoolean(metadata={"description": _KIND_DESCRIPTIONS["milestone"]})
    digest = JsonBoolean(metadata={"description": _KIND_DESCRIPTIONS["digest"]})
    timezone = TextField(
        allow_none=True,
        validate=[validate.Length(min=1, max=MAX_TIMEZONE_LENGTH), _iana],
        metadata={"description": "IANA timezone name; null: the host's for the caller."},
    )

    @validates_schema
    def _not_empty(self, data: dict[str, object], **kwargs: object) -> None:
        if not data:
            raise ma.ValidationError("Give at least one of status, milestone, digest and timezone.")
