"""The ``/meta`` document: what a goal form offers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import EXCLUDE, fields, validate

from ..types import ENTITY_KINDS
from .fields import HostIdField, IsoDate, StrictBoolean, TextField


class PeriodSchema(ma.Schema):
    start_date = IsoDate()
    end_date = IsoDate()


class CategoryMetaSchema(ma.Schema):
    category = fields.String()
    metrics = fields.List(
        fields.String(),
        metadata={"description": "The metrics the category's metric source can measure."},
    )
    default_metric = fields.String(allow_none=True)
    aim_editable = StrictBoolean()
    filters = fields.List(
        fields.String(),
        metadata={"description": "The filters (goal filters JSON names) the source applies."},
    )
    group_by = fields.List(
        fields.String(),
        metadata={"description": "The dimensions GET /goals/{id}/breakdown can group by (by=...)."},
    )
    goal_modes = fields.List(fields.String())
    recurrences = fields.List(fields.String())


class MetaSchema(ma.Schema):
    today = IsoDate()
    timezone = fields.String()
    categories = fields.List(fields.Nested(CategoryMetaSchema))
    channels = fields.List(fields.String())
    goal_modes = fields.List(fields.String())
    recurrences = fields.List(fields.String())
    periods = fields.Dict(keys=fields.String(), values=fields.Nested(PeriodSchema))
    distribution_strategies = fields.List(fields.String())


class EntityArgsSchema(ma.Schema):
    """``GET /meta/entities``: which names to look up."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(
        required=True,
        validate=validate.OneOf(ENTITY_KINDS),
        metadata={
            "description": "user, team, brand, brand_family, customer, customer_branch, "
            "wholesaler_branch or activity_type."
        },
    )
    ids = fields.List(
        HostIdField(),
        validate=validate.Length(max=200),
        metadata={"description": "Name exactly these ids (repeat the parameter, at most 200)."},
    )
    search = TextField(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of a name or id, case-insensitive."},
    )
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=200),
        metadata={"description": "At most this many entities (default 50, at most 200)."},
    )


class EntitySchema(ma.Schema):
    id = fields.String(metadata={"description": "The host's id."})
    name = fields.String(metadata={"description": "What a person reads."})


class EntitiesSchema(ma.Schema):
    kind = fields.String()
    named = StrictBoolean(
        metadata={
            "description": "False when no host plugin names this kind: the names are the "
            "ids themselves (and a search finds nothing)."
        }
    )
    entities = fields.List(fields.Nested(EntitySchema))
