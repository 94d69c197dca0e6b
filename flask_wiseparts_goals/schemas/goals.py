"""Load and dump schemas of goals and intervals.

JSON bodies reject unknown fields (marshmallow's ``RAISE``, a 422 naming the field); query
strings ignore unknown parameters because proxies and caches add their own (documented in
docs/rest-api.md).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import EXCLUDE, RAISE, fields, validate, validates_schema

from ..domain.distribution import SHORTFALL_POLICIES
from ..domain.periods import Recurrence, Shortcut
from ..domain.rules import Category, Channel, GoalMode, Metric
from ..services.context import current_context, goal_permissions
from .fields import (
    DecimalString,
    DescriptionField,
    HostIdField,
    IsoDate,
    StrictBoolean,
    id_list,
)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = RAISE


class IncludeExcludeSchema(StrictSchema):
    include = id_list(HostIdField(), load_default=list)
    exclude = id_list(HostIdField(), load_default=list)  # type: ignore[assignment]  # the JSON name; Schema.exclude is per instance

    @validates_schema
    def _disjoint(self, data: dict[str, Any], **kwargs: Any) -> None:
        both = set(data.get("include") or ()) & set(data.get("exclude") or ())
        if both:
            raise ma.ValidationError(
                f"Ids both included and excluded: {', '.join(sorted(both))}.", "exclude"
            )


class FiltersSchema(StrictSchema):
    """Which sales lines, orders or activities count. Empty lists mean no restriction."""

    brands = fields.Nested(IncludeExcludeSchema, metadata={"description": "Sales and orders."})
    brand_families = fields.Nested(
        IncludeExcludeSchema, metadata={"description": "Sales and orders."}
    )
    customers = fields.Nested(IncludeExcludeSchema, metadata={"description": "Every category."})
    customer_branches = fields.Nested(
        IncludeExcludeSchema, metadata={"description": "Every category."}
    )
    wholesaler_branches = id_list(
        HostIdField(),
        metadata={"description": "Sales and orders, only for goals without a team."},
    )
    activity_types = id_list(
        HostIdField(),
        metadata={"description": "Activities (e.g. visit, inbound_call)."},
    )
    channels = id_list(
        fields.String(validate=validate.OneOf([c.value for c in Channel])),
        metadata={"description": "Orders: phone, email, web, shop, social."},
    )
    verified_only = StrictBoolean(metadata={"description": "Activities: GPS-verified only."})
    ordered_only = StrictBoolean(
        metadata={"description": "Orders: confirmed orders only (no quotes)."}
    )


_category = fields.String(
    validate=validate.OneOf([c.value for c in Category]),
    metadata={"description": "sales, activities or orders. Immutable after creation."},
)
_metric = fields.String(
    validate=validate.OneOf([m.value for m in Metric]),
    metadata={
        "description": "sales: net, gross, quantity, margin; orders: count, net, gross, "
        "quantity, margin; activities: count (set automatically)."
    },
)
_description = DescriptionField(validate=validate.Length(min=1, max=200))
_aim = DecimalString(
    allow_none=True,
    metadata={
        "description": "Target (sales, orders): 2 decimals for money metrics, whole numbers for "
        "count and quantity. Read-only for activities (computed from intervals)."
    },
)
_stretch = DecimalString(
    allow_none=True, metadata={"description": "Optional stretch target (sales, orders), >= aim."}
)
_team = HostIdField(allow_none=True, metadata={"description": "Restrict tracking to a team."})
_mode = fields.String(
    validate=validate.OneOf([m.value for m in GoalMode]),
    allow_none=True,
    metadata={"description": "Activities: total (count for the period) or per_business_day."},
)
_daily = DecimalString(
    allow_none=True,
    metadata={
        "description": "Activities per business day: the daily target applied to every interval "
        "(and every member when split by members). Up to 2 decimals."
    },
)
_recurrence = fields.String(
    validate=validate.OneOf([r.value for r in Recurrence]),
    allow_none=True,
    metadata={"description": "Activities: monthly, quarterly, semester or yearly."},
)
_shortfall_policy = fields.String(
    validate=validate.OneOf(list(SHORTFALL_POLICIES)),
    metadata={
        "description": "Sales and orders: what happens to an ended interval's shortfall (aim "
        "minus actual, when positive). none (default); next_interval: added to the next "
        "interval; spread_remaining: split equally over the remaining intervals. Applied once "
        "by the planning job, recorded in the history as carry_forward."
    },
)
_period = fields.String(
    load_only=True,
    validate=validate.OneOf([s.value for s in Shortcut]),
    metadata={
        "description": "Date shortcut resolved against today in the organization's timezone; "
        "instead of start_date/end_date."
    },
)


class GoalUpdateSchema(StrictSchema):
    """A change: every field optional; ``category`` may be sent only unchanged."""

    category = _category
    description = _description
    period = _period
    start_date = IsoDate()
    end_date = IsoDate()
    metric = _metric
    aim = _aim
    stretch_aim = _stretch
    team_id = _team
    split_into_subperiods = StrictBoolean()
    split_by_team_members = StrictBoolean()
    goal_mode = _mode
    daily_target = _daily
    filters = fields.Nested(FiltersSchema)
    recurrence = _recurrence
    recurring_until = IsoDate(allow_none=True)
    shortfall_policy = _shortfall_policy


class GoalCreateSchema(GoalUpdateSchema):
    """A new goal: the change schema with ``category`` and ``description`` required."""

    category = fields.String(
        required=True,
        validate=_category.validate,
        metadata=_category.metadata,
    )
    description = DescriptionField(required=True, validate=_description.validate)
    split_into_subperiods = StrictBoolean(load_default=False)
    split_by_team_members = StrictBoolean(load_default=False)
    filters = fields.Nested(FiltersSchema, load_default=dict)

    def handle_error(
        self, error: ma.ValidationError, data: Any, *, many: bool, **kwargs: Any
    ) -> None:
        """Field errors come with every other problem of the request (SPEC §14 "Every error
        at once"): what the service would refuse next (missing dates, aim or metric, rules
        between fields) is added from the fields that did load, so an empty sales form flags
        description, dates, aim and metric in one 422. A field with its own error keeps only
        that error."""
        from ..services.goals import input_problems  # the services import these schemas

        ctx = current_context()
        if ctx is None or many or not isinstance(data, dict):
            return
        valid = error.valid_data if isinstance(error.valid_data, dict) else {}
        messages = error.messages if isinstance(error.messages, dict) else {}
        extra = input_problems(ctx, valid, broken=set(messages))
        if extra:
            raise ma.ValidationError({**extra, **messages}, data=data, valid_data=valid)


class PermissionsSchema(ma.Schema):
    """What the caller may do with this goal, as ``goals_authorize`` answers for them."""

    update = StrictBoolean(metadata={"description": "PATCH the goal and its intervals."})
    delete = StrictBoolean(metadata={"description": "DELETE the goal."})
    allocate = StrictBoolean(
        metadata={"description": "Set, distribute and copy the members' targets."}
    )


class PermissionsField(fields.Nested):
    """The caller's permissions on the dumped goal, asked of ``goals_authorize`` at dump time.

    Computed from the request's caller, so a goal's ETag differs between callers whose
    permissions differ (each caller's ``If-Match`` is checked against its own view).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(PermissionsSchema, dump_only=True, **kwargs)

    def get_value(
        self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing
    ) -> Any:
        ctx = current_context()
        if ctx is None:
            return ma.missing
        return goal_permissions(ctx, obj)


class GoalSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    category = _category
    description = fields.String()
    start_date = IsoDate()
    end_date = IsoDate()
    metric = _metric
    aim = DecimalString(metadata={"description": "The goal's target."})
    intervals_total = DecimalString(
        dump_only=True, metadata={"description": "The sum of the goal's interval aims."}
    )
    unassigned = DecimalString(
        signed=True,
        dump_only=True,
        metadata={
            "description": "aim - intervals_total: the part of the aim no interval holds "
            "(interval aims may be set below the goal aim; never negative after a write)."
        },
    )
    stretch_aim = DecimalString(allow_none=True)
    team_id = fields.String(allow_none=True)
    split_into_subperiods = StrictBoolean()
    split_by_team_members = StrictBoolean()
    goal_mode = fields.String(allow_none=True)
    daily_target = DecimalString(allow_none=True)
    filters = fields.Nested(FiltersSchema)
    recurrence = fields.String(allow_none=True)
    recurring_until = IsoDate(allow_none=True)
    source_goal_id = fields.Integer(allow_none=True)
    shortfall_policy = _shortfall_policy
    created_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    permissions = PermissionsField(
        metadata={
            "description": "What the caller may do with this goal (update, delete, allocate), "
            "so a front end shows only the controls that will work."
        }
    )


class GoalListArgsSchema(ma.Schema):
    class Meta:
        unknown = EXCLUDE

    category = _category
    team_id = HostIdField()
    active_on = IsoDate(metadata={"description": "Only goals whose range contains this day."})


class ConfirmArgsSchema(ma.Schema):
    class Meta:
        unknown = EXCLUDE

    confirm = StrictBoolean(
        load_default=False,
        metadata={
            "description": "Accept a cascade (raising aims to the allocations) or a rebuild that "
            "drops non-zero values; without it such a write answers 409."
        },
    )


class IntervalSchema(ma.Schema):
    id = fields.Integer()
    goal_id = fields.Integer()
    start_date = IsoDate()
    end_date = IsoDate()
    business_days = fields.Integer()
    aim = DecimalString(metadata={"description": "The interval's (effective) target."})
    daily_target = DecimalString(allow_none=True)
    allocated = DecimalString(
        allow_none=True, metadata={"description": "Sum of the members' targets (split by members)."}
    )
    unallocated = DecimalString(
        signed=True,
        allow_none=True,
        metadata={"description": "aim - allocated (split by members)."},
    )
    original_aim = DecimalString(
        attribute="original_or_current_aim",
        dump_only=True,
        metadata={
            "description": "The aim the interval had when it started (kept when the aim "
            "changes later, by people or by carry-forward); until it starts, the current aim."
        },
    )


class CascadeIntervalSchema(ma.Schema):
    interval_id = fields.Integer()
    start_date = IsoDate()
    end_date = IsoDate()
    current_aim = DecimalString()
    allocated = DecimalString()
    proposed_aim = DecimalString()


class DroppedValueSchema(ma.Schema):
    interval_start = IsoDate()
    interval_end = IsoDate()
    field = fields.String(metadata={"description": "aim or target"})
    user_id = fields.String(allow_none=True)
    value = DecimalString()


class ChangeSchema(ma.Schema):
    """One stored value a confirmed write would change."""

    field = fields.String(
        validate=validate.OneOf(["aim", "stretch_aim"]),
        metadata={"description": "aim (an interval's, or the goal's) or stretch_aim (the goal's)."},
    )
    interval_id = fields.Integer(
        allow_none=True, metadata={"description": "The interval; null for the goal itself."}
    )
    start_date = IsoDate()
    end_date = IsoDate()
    before = DecimalString(allow_none=True, metadata={"description": "Stored now."})
    after = DecimalString(allow_none=True, metadata={"description": "Once confirmed."})


class BeforeAfterSchema(ma.Schema):
    before = DecimalString(signed=True)
    after = DecimalString(signed=True)


class ConflictSchema(ma.Schema):
    """The body of a 409: flask-smorest's error fields plus what the write would change."""

    code = fields.Integer()
    status = fields.String()
    message = fields.String()
    current_aim = DecimalString(metadata={"description": "Exceeding: the goal's aim now."})
    proposed_total = DecimalString(
        metadata={"description": "Exceeding: the sum of the interval aims after the cascade."}
    )
    proposed_aim = DecimalString(metadata={"description": "Exceeding: the goal's aim after it."})
    current_stretch_aim = DecimalString(
        metadata={"description": "Exceeding a goal with a stretch aim: the stretch aim now."}
    )
    proposed_stretch_aim = DecimalString(
        metadata={
            "description": "Exceeding a goal with a stretch aim: the stretch aim after the "
            "cascade (it rises with the aim, so the goal stays valid)."
        }
    )
    intervals = fields.List(
        fields.Nested(CascadeIntervalSchema),
        metadata={"description": "Exceeding: the interval aims the cascade would raise."},
    )
    current_stretch_aim = DecimalString(
        metadata={"description": "Exceeding, with a stretch aim: the stretch aim now."}
    )
    proposed_stretch_aim = DecimalString(
        metadata={"description": "Exceeding, with a stretch aim: the stretch aim after it."}
    )
    changes = fields.List(
        fields.Nested(ChangeSchema),
        metadata={
            "description": "Exceeding: every stored value the confirmed write would change "
            "(interval aims, the goal aim, the stretch aim), each before and after. A front end "
            "shows exactly these."
        },
    )
    intervals_total = fields.Nested(
        BeforeAfterSchema,
        metadata={"description": "Exceeding: the sum of the interval aims, before and after."},
    )
    unassigned = fields.Nested(
        BeforeAfterSchema,
        metadata={"description": "Exceeding: goal aim - intervals_total, before and after."},
    )
    dropped = fields.List(
        fields.Nested(DroppedValueSchema),
        metadata={"description": "Rebuild: the non-zero values the change would remove."},
    )
