"""The ``/meta`` document: what a goal form offers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from .fields import IsoDate, StrictBoolean


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
