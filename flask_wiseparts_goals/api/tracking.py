"""``/goals/{id}/progress``, ``/widgets/team`` and ``/widgets/me``: tracking and dashboards.

Each answers with a constant number of SQL statements and one ``goals_collect_actuals`` call
per category, whatever the number of goals, intervals and members (docs/tracking.md).
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.error_handler import ErrorSchema
from flask_smorest.pagination import PaginationParameters

from ..schemas.tracking import (
    BreakdownArgsSchema,
    BreakdownSchema,
    MyWidgetArgsSchema,
    MyWidgetSchema,
    ProgressArgsSchema,
    ProgressSchema,
    TeamWidgetArgsSchema,
    TeamWidgetSchema,
)
from ..services.breakdown import goal_breakdown
from ..services.tracking import goal_progress, my_widget, team_widget
from .common import context, make_blueprint

#: The most member rows a progress answer lists per interval (the default page size too).
MAX_PROGRESS_MEMBERS = 500

blp = make_blueprint(
    "tracking", "Tracking: progress of a goal, the team and the individual dashboards."
)


@blp.route("/goals/<goals_id:goal_id>/progress")
class Progress(MethodView):
    @blp.arguments(ProgressArgsSchema, location="query")
    @blp.response(200, ProgressSchema)
    @blp.paginate(page_size=MAX_PROGRESS_MEMBERS, max_page_size=MAX_PROGRESS_MEMBERS)
    @blp.alt_response(404, response="DEFAULT_ERROR")
    @blp.alt_response(
        502, schema=ErrorSchema, description="The metric source of the goal's category failed."
    )
    def get(
        self, args: dict[str, Any], goal_id: int, pagination_parameters: PaginationParameters
    ) -> dict[str, Any]:
        """A goal's figures on ``as_of`` (default today): for the whole range and each interval,
        and per member (allocation target when split by members, else actuals only).

        Members are paged: ``page`` and ``page_size`` (default and at most 500) cut every
        member list (the period's and each interval's) at the same positions, so page 2 holds
        members 501 to 1000 of each; the period and interval figures are on every page.
        ``X-Pagination`` counts the members of the longest list.

        Without a metric source for the category, actuals and what derives from them are
        ``null`` and ``actuals_note`` says why; a failing source is a 502, one that does not
        answer in time leaves them ``null`` with ``actuals_reason: timeout``.
        """
        ctx = context()
        first = pagination_parameters.first_item
        progress = goal_progress(
            ctx,
            goal_id,
            as_of=args.get("as_of") or ctx.today,
            members=slice(first, first + pagination_parameters.page_size),
        )
        pagination_parameters.item_count = progress.pop("member_count")
        return progress


@blp.route("/goals/<goals_id:goal_id>/breakdown")
class Breakdown(MethodView):
    @blp.arguments(BreakdownArgsSchema, location="query")
    @blp.response(200, BreakdownSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR")
    @blp.alt_response(
        502, schema=ErrorSchema, description="The metric source of the goal's category failed."
    )
    def get(self, args: dict[str, Any], goal_id: int) -> dict[str, Any]:
        """A goal's actual per value of a dimension (``by=brand``, ``customer``...) on
        ``as_of`` (default today), for the whole range and the current interval, next to the
        same days of the preceding year (``compare=previous_year``, default) or of the
        preceding period (``compare=previous_period``), with the difference; rows ordered
        largest shortfall first.

        Members are counted as in progress (each for their own days); the comparison counts
        the same members over the shifted days. A dimension the category's source cannot
        group by is a 422 naming ``by``.
        """
        ctx = context()
        return goal_breakdown(
            ctx,
            goal_id,
            by=args["by"],
            as_of=args.get("as_of") or ctx.today,
            compare=args["compare"],
        )


@blp.route("/widgets/team")
class TeamWidget(MethodView):
    @blp.arguments(TeamWidgetArgsSchema, location="query")
    @blp.response(200, TeamWidgetSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The team dashboard: goals of ``team_id`` (every goal the caller may read when
        omitted) active on ``as_of``, grouped by category (sales, orders, activities), with the
        figures of the whole range and of the current interval.

        Orders goals are hidden when the orders feature is off. A failing metric source leaves
        its category's actuals ``null`` with ``actuals_error``; the other categories are shown.
        """
        ctx = context()
        return team_widget(ctx, as_of=args.get("as_of") or ctx.today, team_id=args.get("team_id"))


@blp.route("/widgets/me")
class MyWidget(MethodView):
    @blp.arguments(MyWidgetArgsSchema, location="query")
    @blp.response(200, MyWidgetSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's dashboard: goals active on ``as_of`` that count the caller (team goals
        of the caller's teams, organization-wide goals) or where the caller holds an
        allocation, with the caller's own target, actual, forecast and achievement."""
        ctx = context()
        return my_widget(ctx, as_of=args.get("as_of") or ctx.today)
