"""``GET /goals/{id}/history``: every change of aims, targets and allocations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView

from ..models import HistoryEntry
from ..schemas.targets import HistoryEntrySchema
from ..services.context import load_goal
from .common import SelectPage, context, make_blueprint

blp = make_blueprint("history", "Who changed which aim or target, when, from what to what.")


@blp.route("/goals/<goals_id:goal_id>/history")
class History(MethodView):
    @blp.response(200, HistoryEntrySchema(many=True))
    @blp.paginate(SelectPage, page_size=50, max_page_size=500)
    def get(self, goal_id: int) -> Any:
        """The goal's change history, oldest first (paginated: ``page``, ``page_size``)."""
        ctx = context()
        goal = load_goal(ctx, goal_id)
        return (
            sa.select(HistoryEntry).where(HistoryEntry.goal_id == goal.id).order_by(HistoryEntry.id)
        )
