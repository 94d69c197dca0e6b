"""Query arguments and responses of progress and dashboards.

Every figure is a decimal string (``type: string, format: decimal``): amounts in the metric's
unit, estimates with 2 decimals, percentages with 1 (docs/tracking.md). ``null`` means the
figure cannot be said: no target, no actual (no metric source, or it failed), or a ratio to 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import EXCLUDE, fields, validate

from ..domain.figures import Status
from ..domain.rules import Category
from ..services.actuals import REASONS
from ..types import GROUP_BY_DIMENSIONS
from .fields import DecimalString, HostIdField, IsoDate, StrictBoolean

_as_of = IsoDate(
    metadata={
        "description": "The day the figures are computed for (inclusive). Omitted: today in "
        "the caller's timezone."
    }
)


class QueryArgsSchema(ma.Schema):
    """Query strings ignore unknown parameters (proxies and caches add their own)."""

    class Meta:
        unknown = EXCLUDE


class ProgressArgsSchema(QueryArgsSchema):
    as_of = _as_of


class TeamWidgetArgsSchema(QueryArgsSchema):
    team_id = HostIdField(
        metadata={
            "description": "The team whose goals to show; omitted: every goal the caller may read."
        }
    )
    as_of = _as_of


class MyWidgetArgsSchema(QueryArgsSchema):
    as_of = _as_of


_Convert = Callable[[Any], Any]


def _decimal_text(value: Any) -> str | None:
    if type(value) is Decimal:
        return format(value, "f")
    return None if value is None else format(Decimal(value), "f")


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _boolean(field: fields.Boolean) -> _Convert:
    def convert(value: Any) -> Any:
        if value is None or value is True or value is False:
            return value
        return field._serialize(value, None, None)

    return convert


class Rows(fields.List[Any]):
    """A list of ``schema`` rows (dicts) dumped in one pass: what marshmallow's dump of
    ``List(Nested(schema))`` gives, byte for byte, without its per-field calls, which cost
    more than computing the figures of thousands of member rows. Documented (apispec) as
    that list. Only for schemas of plain fields (decimal strings, dates, integers, strings,
    booleans, nested schemas and rows of those); another field is a ``TypeError`` at the
    first dump, so a schema change cannot silently dump differently."""

    def __init__(self, schema: type[ma.Schema], **kwargs: Any) -> None:
        super().__init__(fields.Nested(schema), **kwargs)
        self._row: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        row = self._row
        if row is None:
            nested = self.inner
            assert isinstance(nested, fields.Nested)
            row = self._row = _row_dumper(nested.schema)
        return [row(item) for item in value]


def _row_dumper(schema: ma.Schema) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function dumping one row of ``schema``, written out field by field (as
    :mod:`dataclasses` writes its ``__init__``): a loop over the fields, with its tests of
    each field's kind, cost as much again as the conversions themselves over thousands of
    rows. ``None``, and values the field would dump as they are, are kept without a call; a
    ``Decimal`` of a decimal field is formatted inline, as :func:`_decimal_text` does."""
    namespace: dict[str, Any] = {"dump_schema": schema.dump, "Decimal": Decimal}
    lines = [
        "def dump(item):",
        "    if 'places' in item:  # DecimalString formats with the row's places: let it",
        "        return dump_schema(item)",
        "    out = {}",
    ]
    for index, (name, field) in enumerate(schema.dump_fields.items()):
        if field.attribute is not None or field.dump_default is not ma.missing:
            raise TypeError(f"Rows cannot dump {name!r}: attribute or dump_default")
        convert = _converter(name, field)
        namespace[f"convert_{index}"] = convert
        kept = "value is None" + "".join(
            f" or type(value) is {kind.__name__}" for kind in _PASSING.get(convert, ())
        )
        if convert is _decimal_text:
            kept, as_kept = "value is None", "value"
            dumped = f"format(value, 'f') if type(value) is Decimal else convert_{index}(value)"
        else:
            as_kept, dumped = "value", f"convert_{index}(value)"
        key = field.data_key or name
        lines += [
            f"    if {name!r} in item:",
            f"        value = item[{name!r}]",
            f"        out[{key!r}] = {as_kept} if {kept} else {dumped}",
        ]
    lines.append("    return out")
    exec("\n".join(lines), namespace)  # the names are the schema's own fields
    dump: Callable[[Mapping[str, Any]], dict[str, Any]] = namespace["dump"]
    return dump


#: The types each converter returns unchanged.
_PASSING: dict[_Convert, tuple[type, ...]] = {_integer: (int,), _text: (str,)}


def _converter(name: str, field: fields.Field[Any]) -> _Convert:
    if isinstance(field, Rows):
        rows = field
        return lambda value: rows._serialize(value, None, None)
    if isinstance(field, fields.Nested) and not field.many:
        nested = _row_dumper(field.schema)
        return lambda value: None if value is None else nested(value)
    if isinstance(field, DecimalString):
        return _decimal_text
    if isinstance(field, fields.Date) and field.format in (None, "iso"):
        return _iso
    if type(field) is fields.Integer and not field.as_string:
        return _integer
    if type(field) is fields.String:
        return _text
    if isinstance(field, fields.Boolean):
        return _boolean(field)
    raise TypeError(f"Rows cannot dump {name!r}: {type(field).__name__}")


def _decimal(description: str) -> DecimalString:
    return DecimalString(signed=True, allow_none=True, metadata={"description": description})


class FiguresSchema(ma.Schema):
    """The figures every period and member has."""

    target = _decimal("The target (aim, interval aim or member's allocation); null when none.")
    actual = _decimal(
        "The metric over [start, min(as_of, end)], each member counted for the days they "
        "belonged to the team; for a whole range the sum of its intervals. Null when no "
        "metric source measured it."
    )
    expected = _decimal("Expected to date: target * elapsed / total business days.")
    forecast = _decimal(
        "At the current pace: actual * total / elapsed business days; the actual once the "
        "period is over or while no business day has passed."
    )
    achievement_percent = _decimal("actual / target * 100; null when the target is 0.")
    forecast_percent = _decimal("forecast / target * 100; null when the target is 0.")
    remaining = _decimal("max(target - actual, 0).")
    needed_per_business_day = _decimal(
        "remaining / remaining business days; null when no business day is left."
    )
    status = fields.String(
        allow_none=True,
        validate=validate.OneOf([status.value for status in Status]),
        metadata={
            "description": "The one status pages and widgets show, decided in this order: "
            "no_target (the target is 0 or none; achievement_percent is null); achieved "
            "(target > 0 and actual >= target); missed (the period has ended, as_of after its "
            "last day, below the target); not_started (no business day of the period has "
            "passed); otherwise against expected to date: on_track "
            "(>= GOALS_STATUS_ON_TRACK_PERCENT, default 99 %), at_risk "
            "(< GOALS_STATUS_AT_RISK_PERCENT, default 80 %), behind in between. Null when "
            "there is a target but no actual (no metric source measured it)."
        },
    )


class PeriodFiguresSchema(FiguresSchema):
    """A goal's whole range (``interval_id`` null) or one of its intervals."""

    interval_id = fields.Integer(
        allow_none=True, metadata={"description": "Null for the goal's whole range."}
    )
    start_date = IsoDate()
    end_date = IsoDate()
    business_days = fields.Integer(metadata={"description": "Business days of the period."})
    business_days_elapsed = fields.Integer(
        metadata={"description": "Business days from the start up to and including as_of."}
    )
    business_days_remaining = fields.Integer(
        metadata={"description": "Business days after as_of until the end."}
    )
    stretch_aim = _decimal("The goal's stretch aim (whole range only), if set.")
    stretch_achievement_percent = _decimal("actual / stretch aim * 100, if a stretch aim is set.")
    actuals_error = fields.String(
        allow_none=True,
        metadata={
            "description": "Why this period's actual is null when the metric source could not "
            "answer this goal's query (ActualsResult.error); the category's other goals keep "
            "their figures."
        },
    )


def _counted() -> fields.Boolean:
    return StrictBoolean(
        metadata={
            "description": "Whether the member's results count in the goal's actual: a member "
            "of the team during the interval up to as_of (goals_team_memberships; without it, "
            "on the interval's measured day); for the whole range, in any interval. False for "
            "an allocation holder who left the team, whose actual is then null."
        }
    )


class MemberFiguresSchema(FiguresSchema):
    user_id = fields.String()
    counted = _counted()


class OwnFiguresSchema(PeriodFiguresSchema):
    """The caller's own figures (no stretch aim: it is the goal's)."""

    counted = _counted()


class PeriodProgressSchema(PeriodFiguresSchema):
    members = Rows(MemberFiguresSchema)


class TrackedGoalSchema(ma.Schema):
    id = fields.Integer()
    category = fields.String(validate=validate.OneOf([c.value for c in Category]))
    description = fields.String()
    metric = fields.String()
    team_id = fields.String(allow_none=True)
    start_date = IsoDate()
    end_date = IsoDate()
    split_into_subperiods = StrictBoolean()
    split_by_team_members = StrictBoolean()
    goal_mode = fields.String(allow_none=True)


class ActualsStateSchema(ma.Schema):
    """Whether actuals could be measured."""

    actuals_available = StrictBoolean(
        allow_none=True,
        metadata={
            "description": "false when no metric source answers the category, it failed or "
            "it did not answer in time; null when nothing had to be measured."
        },
    )
    actuals_reason = fields.String(
        allow_none=True,
        validate=validate.OneOf(REASONS),
        metadata={
            "description": "Why actuals are missing: no_source (no metric source answers the "
            "category), failed (the source raised, or could not answer this goal), timeout "
            "(it did not answer within GOALS_ACTUALS_TIMEOUT_SECONDS; the rest of the answer "
            "is served, try again later). Null when actuals are available."
        },
    )
    actuals_note = fields.String(
        allow_none=True,
        metadata={"description": "Why actuals are missing, e.g. no metric source answers."},
    )
    actuals_error = fields.String(
        allow_none=True,
        metadata={
            "description": "Set when the metric source failed (the error is logged) or did "
            "not answer in time."
        },
    )


class ProgressSchema(ActualsStateSchema):
    as_of = IsoDate()
    goal = fields.Nested(TrackedGoalSchema)
    period = fields.Nested(PeriodProgressSchema)
    intervals = Rows(PeriodProgressSchema)


class TeamWidgetGoalSchema(ma.Schema):
    goal = fields.Nested(TrackedGoalSchema)
    period = fields.Nested(PeriodFiguresSchema)
    current_interval = fields.Nested(
        PeriodFiguresSchema,
        allow_none=True,
        metadata={"description": "The interval containing as_of."},
    )


class MyWidgetGoalSchema(ma.Schema):
    goal = fields.Nested(TrackedGoalSchema)
    period = fields.Nested(
        OwnFiguresSchema,
        metadata={
            "description": "The caller's figures over the whole range; the target is the sum "
            "of the caller's allocations (null when the goal is not split by members)."
        },
    )
    current_interval = fields.Nested(OwnFiguresSchema, allow_none=True)


class TeamWidgetCategorySchema(ActualsStateSchema):
    category = fields.String(validate=validate.OneOf([c.value for c in Category]))
    goals = Rows(TeamWidgetGoalSchema)


class MyWidgetCategorySchema(ActualsStateSchema):
    category = fields.String(validate=validate.OneOf([c.value for c in Category]))
    goals = Rows(MyWidgetGoalSchema)


class TeamWidgetSchema(ma.Schema):
    as_of = IsoDate()
    team_id = fields.String(allow_none=True)
    categories = fields.List(
        fields.Nested(TeamWidgetCategorySchema),
        metadata={"description": "sales, orders (when enabled), activities, in this order."},
    )


class MyWidgetSchema(ma.Schema):
    as_of = IsoDate()
    user_id = fields.String()
    categories = fields.List(
        fields.Nested(MyWidgetCategorySchema),
        metadata={"description": "sales, orders (when enabled), activities, in this order."},
    )


# --- Breakdown (SPEC §7) ----------------------------------------------------------------------


class BreakdownArgsSchema(QueryArgsSchema):
    by = fields.String(
        required=True,
        validate=validate.OneOf(list(GROUP_BY_DIMENSIONS)),
        metadata={
            "description": "The dimension to break the actual down by; /meta lists per category "
            "the ones its metric source supports (group_by)."
        },
    )
    as_of = _as_of
    compare = fields.String(
        load_default="previous_year",
        validate=validate.OneOf(["previous_year", "previous_period"]),
        metadata={
            "description": "previous_year (default): the same days one year earlier (the last "
            "day of February maps to the last day of February); previous_period: the same days "
            "one period earlier (shifted by the range's length in days)."
        },
    )


class BreakdownRowSchema(ma.Schema):
    id = fields.String(
        metadata={"description": 'The dimension\'s host id ("": rows without a value).'}
    )
    actual = _decimal("The actual of this value over the measured days.")
    compare_actual = _decimal("The same over the comparison days.")
    difference = _decimal("actual - compare_actual: negative is a shortfall.")
    difference_percent = _decimal("difference / |compare_actual| * 100; null when that is 0.")


class BreakdownSectionSchema(ma.Schema):
    interval_id = fields.Integer(
        allow_none=True, metadata={"description": "Null for the goal's whole range."}
    )
    start_date = IsoDate()
    end_date = IsoDate()
    measured_start = IsoDate(
        allow_none=True,
        metadata={"description": "First day measured; null before the range starts."},
    )
    measured_end = IsoDate(
        allow_none=True, metadata={"description": "Last day measured: min(as_of, end)."}
    )
    compare_start = IsoDate(
        allow_none=True, metadata={"description": "First day of the comparison."}
    )
    compare_end = IsoDate(allow_none=True, metadata={"description": "Last day of the comparison."})
    actual = _decimal("The range's actual (the sum of its intervals).")
    compare_actual = _decimal("The comparison's actual.")
    difference = _decimal("actual - compare_actual.")
    actuals_error = fields.String(
        allow_none=True,
        metadata={"description": "Why the rows are missing (the source could not answer)."},
    )
    rows = fields.List(
        fields.Nested(BreakdownRowSchema),
        metadata={"description": "One per value of the dimension, largest shortfall first."},
    )


class BreakdownSchema(ActualsStateSchema):
    as_of = IsoDate()
    goal = fields.Nested(TrackedGoalSchema)
    by = fields.String()
    compare = fields.String()
    period = fields.Nested(BreakdownSectionSchema)
    current_interval = fields.Nested(
        BreakdownSectionSchema,
        allow_none=True,
        metadata={"description": "The interval containing as_of; null outside the range."},
    )
