"""``/goals/{id}/intervals``: a goal's time slices and their aims."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.error_handler import ErrorSchema

from ..models import Interval
from ..schemas.goals import ConfirmArgsSchema, IntervalSchema
from ..schemas.targets import IntervalsDistributeResultSchema, IntervalsDistributeSchema
from ..services.context import load_goal
from ..services.planning import distribute_intervals
from .common import context, make_blueprint, transaction
from .targets import check_optional_if_match

blp = make_blueprint("intervals", "Intervals: a goal's months (or whole range) and their aims.")


@blp.route("/goals/<goals_id:goal_id>/intervals")
class Intervals(MethodView):
    @blp.etag
    @blp.response(200, IntervalSchema(many=True))
    def get(self, goal_id: int) -> list[Interval]:
        """The goal's intervals in date order, with business days, aim, original aim and (split
        by members) what is allocated and what is left."""
        return list(load_goal(context(), goal_id).intervals)


@blp.route("/goals/<goals_id:goal_id>/intervals/distribute")
class IntervalsDistribute(MethodView):
    @blp.arguments(IntervalsDistributeSchema)
    @blp.arguments(ConfirmArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, IntervalsDistributeResultSchema)
    @blp.alt_response(
        502, schema=ErrorSchema, description="previous_year: the metric source failed."
    )
    @blp.alt_response(
        504,
        schema=ErrorSchema,
        description="previous_year: the metric source did not answer within "
        "GOALS_ACTUALS_TIMEOUT_SECONDS; nothing was written.",
    )
    def post(self, data: dict[str, Any], goal_id: int, confirm: bool) -> dict[str, Any]:
        """Spread the goal aim over its intervals (seasonality; sales and orders goals).

        - ``equal``: the aim in whole steps (1, or 0.01 for money), the remainder one step
          each to the first intervals.
        - ``previous_year``: in proportion to the actuals of the same days one year earlier,
          from the metric source (a month ending on its last day is compared with the whole
          same month: February 2025 with 1–29 February 2024).
        - ``profile``: in proportion to ``weights``, one non-negative number per interval.

        Rounded by the largest remainder: the interval aims sum exactly to the goal aim.
        Nothing to weigh by (no metric source, no actuals, all weights 0) → the equal split,
        ``fell_back_to_equal: true`` and a note. Recorded in the history as ``distribute``.
        Optional ``If-Match``: the ETag of ``GET .../intervals`` (412 when stale).
        """
        ctx = context(confirm=confirm)
        with transaction(ctx):
            goal = load_goal(ctx, goal_id, "update")
            check_optional_if_match(list(goal.intervals), lambda: IntervalSchema(many=True))
            outcome = distribute_intervals(ctx, goal, data)
        return {
            "strategy": outcome.strategy,
            "fell_back_to_equal": outcome.fell_back_to_equal,
            "notes": outcome.notes,
            "weights": outcome.weights,
            "intervals": list(goal.intervals),
        }
