"""Schemas of interval aims, allocations, distribution and history."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, pre_load, validate, validates_schema

from ..domain.distribution import INTERVAL_STRATEGIES, STRATEGIES
from .fields import DecimalString, HostIdField, IsoDate, StrictBoolean, unique_list
from .goals import ConfirmArgsSchema, IntervalSchema, StrictSchema


class IntervalUpdateSchema(StrictSchema):
    aim = DecimalString(
        metadata={
            "description": "Sales/orders: the interval's aim. Activities in total mode without "
            "member split: the interval's target."
        }
    )
    daily_target = DecimalString(
        metadata={"description": "Activities per business day without member split."}
    )


class AllocationSchema(ma.Schema):
    user_id = fields.String()
    target = DecimalString(
        metadata={"description": "The member's target (per day: daily target × business days)."}
    )
    daily_target = DecimalString(allow_none=True, metadata={"description": "Per business day."})
    effective_target = DecimalString(metadata={"description": "What the member is measured on."})
    original_target = DecimalString(
        attribute="original_or_current_target",
        dump_only=True,
        metadata={
            "description": "The target the member had when the interval started (kept when it "
            "changes later); until the interval starts, the current target."
        },
    )
    business_days = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The member's own business days in the interval when the host "
            "answers goals_business_days per member (absences, part-time); null: the "
            "interval's."
        },
    )


class AllocationsSchema(ma.Schema):
    """An interval's allocations with the interval's totals."""

    interval = fields.Nested(IntervalSchema)
    allocations = fields.List(fields.Nested(AllocationSchema))


class AllocationInputSchema(StrictSchema):
    user_id = HostIdField(required=True)
    target = DecimalString(metadata={"description": "Total mode, sales and orders."})
    daily_target = DecimalString(metadata={"description": "Per business day."})


class AllocationsInputSchema(StrictSchema):
    """``{"allocations": [...]}``; a bare list of allocations is accepted as well."""

    allocations = fields.List(
        fields.Nested(AllocationInputSchema),
        required=True,
        validate=validate.Length(min=1, max=5000),
    )

    @pre_load
    def _accept_a_bare_list(self, data: Any, **kwargs: Any) -> Any:
        return {"allocations": data} if isinstance(data, list) else data

    @validates_schema
    def _unique_users(self, data: dict[str, object], **kwargs: object) -> None:
        user_ids = [entry["user_id"] for entry in data.get("allocations", [])]  # type: ignore[attr-defined]
        try:
            unique_list(user_ids)
        except ma.ValidationError as error:
            raise ma.ValidationError(error.messages, "allocations") from error


class CopySchema(StrictSchema):
    """The body of ``POST .../copy``: none, or an empty object. ``confirm`` goes in the query
    string; any field is unknown (422), never silently dropped."""


class DistributeSchema(StrictSchema):
    strategy = fields.String(required=True, validate=validate.OneOf(STRATEGIES))
    basis = fields.String(
        load_default="targets",
        validate=validate.OneOf(["targets", "actuals"]),
        metadata={
            "description": "proportional: weigh by the preceding interval's allocations "
            "(targets) or by each member's actual in the equally long period just before."
        },
    )
    source_user_id = HostIdField(metadata={"description": "copy: whose value to copy."})
    locked_user_ids = fields.List(
        HostIdField(),
        load_default=list,
        validate=unique_list,
        metadata={"description": "equal/proportional: members whose value is kept."},
    )


class DistributeResultSchema(AllocationsSchema):
    strategy = fields.String()
    fell_back_to_equal = StrictBoolean(
        metadata={"description": "proportional found no preceding data and split equally."}
    )
    notes = fields.List(fields.String())


class IntervalsDistributeSchema(StrictSchema):
    """The body of ``POST /goals/{id}/intervals/distribute``."""

    strategy = fields.String(
        required=True,
        validate=validate.OneOf(INTERVAL_STRATEGIES),
        metadata={
            "description": "equal: the aim split equally (remainder to the first intervals); "
            "previous_year: in proportion to the actuals of the same days one year earlier; "
            "profile: in proportion to weights."
        },
    )
    weights = fields.List(
        fields.Decimal(
            validate=validate.Range(min=0, max=10**12),
            allow_nan=False,
            # apispec would write the Range bounds as strings (Decimal): say them as numbers.
            metadata={"minimum": 0, "maximum": 10**12},
        ),
        validate=validate.Length(min=1, max=1000),
        metadata={
            "description": "profile: one non-negative number per interval, in date order "
            "(e.g. 8, 7, 9, ... or percentages); only their ratios count."
        },
    )


class IntervalsDistributeResultSchema(ma.Schema):
    strategy = fields.String()
    fell_back_to_equal = StrictBoolean(
        metadata={"description": "previous_year or profile had nothing to weigh by: split equally."}
    )
    notes = fields.List(fields.String())
    weights = fields.List(
        DecimalString(max_places=28),
        allow_none=True,
        metadata={"description": "The weights used, one per interval (decimal strings)."},
    )
    intervals = fields.List(fields.Nested(IntervalSchema))


class TargetsCsvArgsSchema(ConfirmArgsSchema):
    dry_run = StrictBoolean(
        load_default=False,
        metadata={
            "description": "Check the file and answer what would change (the exceed rule "
            "included) without writing anything."
        },
    )


class TargetChangeSchema(ma.Schema):
    interval_start = IsoDate(allow_none=True)
    interval_end = IsoDate(allow_none=True)
    user_id = fields.String(allow_none=True, metadata={"description": "The member concerned."})
    field = fields.String(metadata={"description": "aim, stretch_aim, target or daily_target"})
    old_value = DecimalString(allow_none=True)
    new_value = DecimalString(allow_none=True)


class TargetsCsvResultSchema(ma.Schema):
    dry_run = StrictBoolean(metadata={"description": "true: nothing was written."})
    rows = fields.Integer(metadata={"description": "Data rows read from the file."})
    changes = fields.List(
        fields.Nested(TargetChangeSchema),
        metadata={"description": "Every value that changes (would change), cascade included."},
    )


class HistoryEntrySchema(ma.Schema):
    id = fields.Integer()
    goal_id = fields.Integer()
    interval_id = fields.Integer(allow_none=True)
    interval_start = IsoDate(allow_none=True)
    interval_end = IsoDate(allow_none=True)
    user_id = fields.String(allow_none=True, metadata={"description": "The member concerned."})
    field = fields.String(metadata={"description": "aim, stretch_aim, target, daily_target, goal…"})
    old_value = fields.String(allow_none=True)
    new_value = fields.String(allow_none=True)
    operation = fields.String(
        metadata={
            "description": "create, manual, distribute, copy, cascade, rebuild, recurrence, "
            "delete, migration, carry_forward, import"
        }
    )
    changed_by = fields.String()
    changed_at = fields.DateTime()
