"""``/goals/{id}/intervals``: a goal's time slices and their aims."""

from __future__ import annotations

from flask.views import MethodView

from ..models import Interval
from ..schemas.goals import IntervalSchema
from ..services.context import load_goal
from .common import context, make_blueprint

blp = make_blueprint("intervals", "Intervals: a goal's months (or whole range) and their aims.")


@blp.route("/goals/<goals_id:goal_id>/intervals")
class Intervals(MethodView):
    @blp.etag
    @blp.response(200, IntervalSchema(many=True))
    def get(self, goal_id: int) -> list[Interval]:
        """The goal's intervals in date order, with business days, aim and (split by members)
        what is allocated and what is left."""
        return list(load_goal(context(), goal_id).intervals)
