"""``/goals`` and ``/goals/{id}``: create, list, read, change and delete goals."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Page

from ..models import Goal
from ..schemas.goals import (
    ConfirmArgsSchema,
    GoalCreateSchema,
    GoalListArgsSchema,
    GoalSchema,
    GoalUpdateSchema,
)
from ..services.context import load_goal
from ..services.goals import create_goal, delete_goal, list_goals, update_goal
from .common import context, make_blueprint, transaction

blp = make_blueprint("goals", "Goals: what to measure, for whom, over which period.")


@blp.route("/goals")
class Goals(MethodView):
    @blp.arguments(GoalListArgsSchema, location="query")
    @blp.response(200, GoalSchema(many=True))
    @blp.paginate(Page, page_size=20, max_page_size=100)
    def get(self, args: dict[str, Any]) -> list[Goal]:
        """List the goals the caller may read (newest period first).

        Filters: ``category``, ``team_id``, ``active_on`` (goals whose range contains the day).
        Pagination: ``page``, ``page_size`` (default 20, at most 100), ``X-Pagination`` header.
        """
        return list_goals(context(), **args)

    @blp.arguments(GoalCreateSchema)
    @blp.response(201, GoalSchema)
    def post(self, data: dict[str, Any]) -> Goal:
        """Create a goal and its intervals.

        Give ``start_date``/``end_date`` or a ``period`` shortcut. Sales and orders goals need an
        ``aim``, spread over the intervals by the equal-split rule; activity goals compute
        theirs from interval and member targets.
        """
        ctx = context()
        with transaction(ctx):
            goal = create_goal(ctx, data)
        return goal


@blp.route("/goals/<goals_id:goal_id>")
class GoalItem(MethodView):
    @blp.etag
    @blp.response(200, GoalSchema)
    def get(self, goal_id: int) -> Goal:
        """One goal. Its ``ETag`` is the ``If-Match`` value that writes require."""
        return load_goal(context(), goal_id)

    @blp.etag
    @blp.arguments(GoalUpdateSchema)
    @blp.arguments(ConfirmArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, GoalSchema)
    def patch(self, data: dict[str, Any], goal_id: int, confirm: bool) -> Goal:
        """Change a goal (``If-Match`` required).

        A new ``aim`` is spread over the intervals again. Changing dates, split, team or mode
        rebuilds the intervals: those with unchanged bounds keep their values; a change that
        would remove non-zero aims or targets, or leave allocations above a lowered aim, is a
        409 describing it, applied when repeated with ``confirm=true``.
        """
        ctx = context(confirm=confirm)
        with transaction(ctx):
            goal = load_goal(ctx, goal_id, "update")
            blp.check_etag(goal, GoalSchema)
            update_goal(ctx, goal, data)
        return goal

    @blp.etag
    @blp.response(204)
    def delete(self, goal_id: int) -> None:
        """Delete a goal (``If-Match`` required). The goal is kept, hidden, with its history."""
        ctx = context()
        with transaction(ctx):
            goal = load_goal(ctx, goal_id, "delete")
            blp.check_etag(goal, GoalSchema)
            delete_goal(ctx, goal)
