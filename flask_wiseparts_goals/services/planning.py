"""Planning (SPEC §11): seasonality over intervals, shortfall carry-forward, import and export
of targets, and the planning job that freezes original aims and settles ended intervals.

Every change of aims goes through :func:`.targets.tracked_write`, like the members'
distribution: the exceed rule (409 with what would change, ``confirm`` to cascade), the
history and the freezing of original aims apply to each of them the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain.distribution import spread_by_weights, year_before
from ..domain.rules import step
from ..exceptions import ValidationFailed
from ..models import Goal
from ..types import ActualsQuery, Filters
from .context import Context
from .structure import members_on
from .targets import ask_metric_source, tracked_write

logger = logging.getLogger("flask_wiseparts_goals.planning")

ZERO = Decimal(0)

#: ``HistoryEntry.operation`` of a seasonality split.
DISTRIBUTE_OPERATION = "distribute"


@dataclass
class IntervalsOutcome:
    """What ``POST /goals/{id}/intervals/distribute`` did."""

    strategy: str
    fell_back_to_equal: bool = False
    notes: list[str] = field(default_factory=list)
    #: The weights used, one per interval (``None`` for ``equal`` or after a fallback).
    weights: list[Decimal] | None = None


def distribute_intervals(ctx: Context, goal: Goal, request: Mapping[str, Any]) -> IntervalsOutcome:
    """Spread the goal aim over its intervals (SPEC §11 "Seasonality").

    - ``equal``: today's rule (the remainder one step each to the first intervals);
    - ``previous_year``: in proportion to the actuals of the same days one year earlier
      (:func:`.domain.distribution.year_before`), measured for the members of the goal's team
      on each interval's start (the organization for a goal without a team), with the goal's
      filters: one ``goals_collect_actuals`` call for every interval;
    - ``profile``: in proportion to ``weights``, one non-negative number per interval.

    Rounded to the step by the largest remainder: the interval aims sum exactly to the goal
    aim. No weights to go by (no source, or all zero) → the equal split, with a note.
    Interval aims below their members' allocations are the exceed rule's 409 (``confirm``).
    """
    strategy = request["strategy"]
    weights_in = request.get("weights")
    errors: dict[str, list[str]] = {}
    if goal.is_activity:
        errors["strategy"] = [
            "Activity goals derive their interval aims from daily and members' targets: set "
            "those instead."
        ]
    intervals = list(goal.intervals)
    if strategy == "profile":
        if weights_in is None:
            errors["weights"] = ["Missing data for required field."]
        elif len(weights_in) != len(intervals):
            errors["weights"] = [
                f"One weight per interval: this goal has {len(intervals)}, not {len(weights_in)}."
            ]
    elif weights_in is not None:
        errors["weights"] = ["Only the profile strategy takes weights."]
    if errors:
        raise ValidationFailed(errors)

    outcome = IntervalsOutcome(strategy=strategy)
    weights: list[Decimal] | None = None
    if strategy == "profile":
        weights = [Decimal(weight) for weight in weights_in or ()]
        if not any(weights):
            outcome.notes.append("Every weight of the profile is 0: split equally.")
    elif strategy == "previous_year":
        weights = _previous_year_weights(ctx, goal, outcome)
        if weights is not None and not any(weights):
            outcome.notes.append("No actuals in the same days one year earlier: split equally.")
    spread = spread_by_weights(
        goal.aim, weights if weights is not None else [ZERO] * len(intervals), step(goal.metric)
    )
    if strategy != "equal":
        outcome.fell_back_to_equal = spread.fell_back_to_equal
        outcome.weights = None if spread.fell_back_to_equal else weights
    with tracked_write(ctx, goal, DISTRIBUTE_OPERATION):
        for interval, aim in zip(intervals, spread.values, strict=True):
            interval.aim = aim
    return outcome


def _previous_year_weights(
    ctx: Context, goal: Goal, outcome: IntervalsOutcome
) -> list[Decimal] | None:
    """Each interval's actual in the same days one year earlier; ``None`` without a source."""
    filters = Filters.from_json(goal.filters)
    queries = []
    for index, interval in enumerate(goal.intervals):
        start, end = year_before(interval.start_date, interval.end_date)
        members = members_on(ctx, goal.team_id, interval.start_date) if goal.team_id else None
        queries.append(
            ActualsQuery(
                key=f"previous_year:{index}",
                metric=goal.metric,
                start=start,
                end=end,
                user_ids=members,
                team_id=goal.team_id,
                goal_id=goal.id,
                interval_id=interval.id,
                filters=filters,
            )
        )
    answer = ask_metric_source(
        ctx, goal, queries, "split by a profile or equally, or try again later"
    )
    if answer is None:
        outcome.notes.append(
            f"No metric source answers the {goal.category} category: split equally."
        )
        return None
    weights = []
    for query in queries:
        result = answer.get(query.key)
        weights.append(max(result.total or ZERO, ZERO) if result is not None else ZERO)
    return weights
