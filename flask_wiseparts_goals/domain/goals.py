"""The settings of a goal and the rules they must satisfy (SPEC §3 "Goals", "Recurrence").

``validate_settings`` returns every problem at once, keyed by the JSON field path, so an API
client can show them all next to the fields at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .periods import Period, Recurrence, is_whole_period
from .rules import (
    FLAG_FILTERS,
    LIST_FILTERS,
    LIST_PAIR_FILTERS,
    METRICS,
    Category,
    GoalMode,
    check_places,
    places,
)

Errors = dict[str, Any]

#: Goals live in this calendar window (next/preceding periods stay within date's range).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
#: A goal spans at most this many years (120 monthly intervals): longer ranges are mistakes,
#: and would let one request build an unbounded number of intervals.
MAX_SPAN_YEARS = 10
MAX_SPAN_DAYS = 366 * MAX_SPAN_YEARS


@dataclass(frozen=True)
class GoalSettings:
    """What a goal is, independent of storage: the input of validation and interval building."""

    category: Category
    metric: str | None
    start_date: date
    end_date: date
    aim: Decimal | None = None
    stretch_aim: Decimal | None = None
    team_id: str | None = None
    split_into_subperiods: bool = False
    split_by_team_members: bool = False
    goal_mode: str | None = None
    daily_target: Decimal | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    recurrence: str | None = None
    recurring_until: date | None = None

    @property
    def period(self) -> Period:
        return Period(self.start_date, self.end_date)


def _add(errors: Errors, path: str, message: str) -> None:
    """Record ``message`` under a dotted ``path`` (``filters.brands.exclude``)."""
    node = errors
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node.setdefault(leaf, []).append(message)


#: What a goal without a date range is told (the service and the create schema alike).
DATES_MISSING = "Missing data; give start_date and end_date, or a period shortcut."
REQUIRED = "Missing data for required field."


def missing_metric_message(category: Category) -> str:
    return f"Missing data for required field; one of: {', '.join(METRICS[category])}."


def validate_settings(settings: GoalSettings, *, category_enabled: bool = True) -> Errors:
    """Every rule a goal's settings must satisfy; an empty dict when they do."""
    errors: Errors = {}
    category = settings.category
    is_activity = category is Category.ACTIVITIES

    if not category_enabled:
        _add(errors, "category", f"The {category} category is not enabled for this organization.")

    allowed_metrics = METRICS[category]
    if settings.metric is None:
        _add(errors, "metric", missing_metric_message(category))
    elif settings.metric not in allowed_metrics:
        _add(
            errors,
            "metric",
            f"{settings.metric!r} is not a metric of {category} goals; "
            f"one of: {', '.join(allowed_metrics)}.",
        )

    for name in ("start_date", "end_date"):
        day = getattr(settings, name)
        if not FIRST_DAY <= day <= LAST_DAY:
            _add(errors, name, f"Must be between {FIRST_DAY} and {LAST_DAY}.")
    if settings.start_date > settings.end_date:
        _add(errors, "end_date", "Must be on or after start_date.")
    elif (settings.end_date - settings.start_date).days >= MAX_SPAN_DAYS:
        _add(errors, "end_date", f"A goal spans at most {MAX_SPAN_YEARS} years.")

    metric_places = places(settings.metric) if settings.metric in allowed_metrics else 2
    if is_activity:
        if settings.aim is not None:
            _add(
                errors,
                "aim",
                "The aim of an activity goal is computed from its intervals and members; "
                "set targets on intervals or allocations instead.",
            )
        if settings.stretch_aim is not None:
            _add(errors, "stretch_aim", "Stretch aims apply to sales and orders goals only.")
    else:
        if settings.aim is None:
            _add(errors, "aim", REQUIRED)
        elif problem := check_places(settings.aim, metric_places):
            _add(errors, "aim", problem)
        if settings.stretch_aim is not None:
            if problem := check_places(settings.stretch_aim, metric_places):
                _add(errors, "stretch_aim", problem)
            elif settings.aim is not None and settings.stretch_aim < settings.aim:
                _add(errors, "stretch_aim", "Must be greater than or equal to aim.")

    if settings.split_by_team_members and not settings.team_id:
        _add(errors, "split_by_team_members", "Splitting by team members needs a team_id.")

    if is_activity:
        mode = settings.goal_mode or GoalMode.TOTAL
        if settings.daily_target is not None and mode != GoalMode.PER_BUSINESS_DAY:
            _add(errors, "daily_target", "A daily target needs goal_mode per_business_day.")
    else:
        if settings.goal_mode is not None:
            _add(errors, "goal_mode", "Goal modes apply to activity goals only.")
        if settings.daily_target is not None:
            _add(errors, "daily_target", "Daily targets apply to activity goals only.")

    _validate_filters(errors, settings)
    _validate_recurrence(errors, settings)
    return errors


def _validate_filters(errors: Errors, settings: GoalSettings) -> None:
    category = settings.category
    for name, value in settings.filters.items():
        categories = {**LIST_PAIR_FILTERS, **LIST_FILTERS, **FLAG_FILTERS}.get(name)
        if categories is None:
            _add(errors, f"filters.{name}", "Unknown filter.")
            continue
        if category not in categories and value not in (None, False, [], {}):
            _add(errors, f"filters.{name}", f"This filter does not apply to {category} goals.")
            continue
        if name in LIST_PAIR_FILTERS and value:
            both = set(value.get("include") or ()) & set(value.get("exclude") or ())
            if both:
                _add(
                    errors,
                    f"filters.{name}.exclude",
                    f"Ids both included and excluded: {', '.join(sorted(both))}.",
                )
    if settings.filters.get("wholesaler_branches") and settings.team_id:
        _add(
            errors,
            "filters.wholesaler_branches",
            "Wholesaler branches apply only to goals without a team "
            "(a team goal counts its team's warehouses).",
        )


def _validate_recurrence(errors: Errors, settings: GoalSettings) -> None:
    if settings.recurrence is None:
        if settings.recurring_until is not None:
            _add(errors, "recurring_until", "Needs a recurrence.")
        return
    if settings.category is not Category.ACTIVITIES:
        _add(errors, "recurrence", "Only activity goals can recur.")
        return
    if settings.start_date <= settings.end_date and not is_whole_period(
        Recurrence(settings.recurrence), settings.period
    ):
        _add(
            errors,
            "start_date",
            f"A {settings.recurrence} recurring goal must cover exactly one whole "
            f"{settings.recurrence} period.",
        )
    if settings.recurring_until is not None and settings.recurring_until < settings.start_date:
        _add(errors, "recurring_until", "Must be on or after start_date.")
