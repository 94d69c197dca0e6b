"""Interval aims, members' allocations, distribution and interval copy."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest.error_handler import ErrorSchema

from .._compat import generate_etag
from ..exceptions import (
    PreconditionFailed,
    PreconditionRequired,
    UnsupportedMediaType,
    ValidationFailed,
)
from ..models import Goal, Interval
from ..schemas.goals import ConfirmArgsSchema, IntervalSchema
from ..schemas.targets import (
    AllocationsInputSchema,
    AllocationsSchema,
    CopySchema,
    DistributeResultSchema,
    DistributeSchema,
    IntervalUpdateSchema,
    TargetsCsvArgsSchema,
    TargetsCsvResultSchema,
)
from ..services.context import Context, load_goal
from ..services.planning import export_targets_csv, import_targets_csv, targets_csv_max_bytes
from ..services.targets import (
    copy_interval,
    current_allocations,
    distribute,
    find_interval,
    set_allocations,
    update_interval,
)
from .common import (
    REQUIRES_IF_MATCH,
    body_limit,
    context,
    make_blueprint,
    read_body,
    transaction,
)

blp = make_blueprint("targets", "Interval aims and members' targets: set, distribute, copy.")


def _interval(ctx: Context, goal_id: int, interval_id: int, action: str) -> tuple[Goal, Interval]:
    goal = load_goal(ctx, goal_id, action)
    return goal, find_interval(goal, interval_id)


def _allocations_view(ctx: Context, goal: Goal, interval: Interval) -> dict[str, Any]:
    return {"interval": interval, "allocations": current_allocations(ctx, goal, interval)}


def check_optional_if_match(data: Any, schema: Any) -> None:
    """POST writes accept an optional ``If-Match``: a stale one is a 412 like on PUT/PATCH."""
    if request.if_match:
        etag = generate_etag(blp, schema().dump(data))
        if etag not in request.if_match:
            raise PreconditionFailed("The resource changed since you read it; reload it.")


@blp.route("/goals/<goals_id:goal_id>/intervals/<goals_id:interval_id>")
class IntervalItem(MethodView):
    @blp.etag
    @blp.response(200, IntervalSchema)
    def get(self, goal_id: int, interval_id: int) -> Interval:
        """One interval; its ``ETag`` is what ``PATCH`` needs in ``If-Match``."""
        return _interval(context(), goal_id, interval_id, "read")[1]

    @blp.etag
    @blp.arguments(IntervalUpdateSchema)
    @blp.arguments(ConfirmArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, IntervalSchema)
    def patch(
        self, data: dict[str, Any], goal_id: int, interval_id: int, confirm: bool
    ) -> Interval:
        """Set the interval's aim (sales, orders; activities in total mode) or daily target
        (activities per business day), when the goal is not split by members for activities.

        Sales/orders: interval aims above the goal aim, or below the members' allocations, are a
        409 stating the cascade; with ``confirm=true`` the goal aim rises to the sum of the
        intervals (and the interval aim to its allocations).
        """
        ctx = context(confirm=confirm)
        with transaction(ctx):
            goal, interval = _interval(ctx, goal_id, interval_id, "update")
            blp.check_etag(interval, IntervalSchema)
            update_interval(ctx, goal, interval, data)
        return interval


@blp.route("/goals/<goals_id:goal_id>/intervals/<goals_id:interval_id>/copy")
class IntervalCopy(MethodView):
    @blp.arguments(CopySchema, required=False)
    @blp.arguments(ConfirmArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, IntervalSchema(many=True))
    def post(
        self, _body: dict[str, Any], goal_id: int, interval_id: int, confirm: bool
    ) -> list[Interval]:
        """Copy this interval's values (members' targets or daily targets, or its own target)
        to every other interval of the goal. Per-day effective totals are recomputed on each
        interval's business days. Optional ``If-Match``: the ETag of ``GET .../intervals``."""
        ctx = context(confirm=confirm)
        with transaction(ctx):
            goal, interval = _interval(ctx, goal_id, interval_id, "allocate")
            check_optional_if_match(list(goal.intervals), lambda: IntervalSchema(many=True))
            copy_interval(ctx, goal, interval)
        return list(goal.intervals)


@blp.route("/goals/<goals_id:goal_id>/intervals/<goals_id:interval_id>/allocations")
class Allocations(MethodView):
    @blp.etag
    @blp.response(200, AllocationsSchema)
    def get(self, goal_id: int, interval_id: int) -> dict[str, Any]:
        """The members' targets in team order, with the interval's aim, allocated and unallocated
        totals. Members who joined since the interval was built appear with a zero target."""
        ctx = context()
        goal, interval = _interval(ctx, goal_id, interval_id, "read")
        return _allocations_view(ctx, goal, interval)

    @blp.etag
    @blp.arguments(AllocationsInputSchema)
    @blp.arguments(ConfirmArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, AllocationsSchema)
    def put(
        self, data: dict[str, Any], goal_id: int, interval_id: int, confirm: bool
    ) -> dict[str, Any]:
        """Set several members' targets at once (``daily_target`` in per-business-day mode).
        Members not listed keep theirs. Only members of the team on the interval's start may be
        allocated (422). Sales/orders allocations above the interval aim are a 409 stating the
        cascade, applied with ``confirm=true``."""
        ctx = context(confirm=confirm)
        with transaction(ctx):
            goal, interval = _interval(ctx, goal_id, interval_id, "allocate")
            blp.check_etag(_allocations_view(ctx, goal, interval), AllocationsSchema)
            set_allocations(ctx, goal, interval, data["allocations"])
        return _allocations_view(ctx, goal, interval)


@blp.route("/goals/<goals_id:goal_id>/intervals/<goals_id:interval_id>/allocations/distribute")
class Distribute(MethodView):
    @blp.arguments(DistributeSchema)
    @blp.arguments(ConfirmArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, DistributeResultSchema)
    @blp.alt_response(
        502, schema=ErrorSchema, description="basis=actuals: the metric source failed."
    )
    @blp.alt_response(
        504,
        schema=ErrorSchema,
        description="basis=actuals: the metric source did not answer within "
        "GOALS_ACTUALS_TIMEOUT_SECONDS; nothing was written.",
    )
    def post(
        self, data: dict[str, Any], goal_id: int, interval_id: int, confirm: bool
    ) -> dict[str, Any]:
        """Distribute the interval over its members.

        - ``equal``: the aim in whole steps (1, or 0.01 for money), the remainder one step each
          to the first members in team order; sums exactly to the aim.
        - ``proportional``: by each member's value in the preceding period (``basis``), rounded
          by the largest remainder; falls back to equal without data (``fell_back_to_equal``).
        - ``copy``: ``source_user_id``'s value to every other member.

        ``locked_user_ids`` keep their values; the rest of the aim goes to the others. Optional
        ``If-Match``: the ETag of ``GET .../allocations``.
        """
        ctx = context(confirm=confirm)
        with transaction(ctx):
            goal, interval = _interval(ctx, goal_id, interval_id, "allocate")
            check_optional_if_match(_allocations_view(ctx, goal, interval), AllocationsSchema)
            outcome = distribute(ctx, goal, interval, data)
        return {
            **_allocations_view(ctx, goal, interval),
            "strategy": outcome.strategy,
            "fell_back_to_equal": outcome.fell_back_to_equal,
            "notes": outcome.notes,
        }


_CSV_EXAMPLE = "interval_start,user_id,target\r\n2026-01-01,,3000.00\r\n2026-01-01,rep,1000.00\r\n"


def _csv_body() -> str:
    """The request body as text: ``text/csv`` in UTF-8 (a spreadsheet's byte order mark is
    ignored), at most as large as the goal's own file can be
    (:func:`~..services.planning.targets_csv_max_bytes`, and at least
    ``GOALS_MAX_BODY_BYTES``): a larger one is a 413, chunked or not, before any row is read.
    The goal is loaded (and the caller's right to allocate checked) before the body is read."""
    if request.mimetype != "text/csv":
        raise UnsupportedMediaType(
            "Send the file as CSV (Content-Type: text/csv).",
            errors={"csv": ["Expected Content-Type text/csv."]},
        )
    ctx = context()
    goal = load_goal(ctx, (request.view_args or {})["goal_id"], "allocate")
    data = read_body(body_limit(targets_csv_max_bytes(ctx, goal)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            {"1": {"_row": ["The file is not UTF-8 text."]}}, location="csv"
        ) from None


def _csv_etag(text: str) -> str:
    """The ETag of an export: a digest of the file itself, so the file a client holds and the
    targets it describes are compared, whatever else of the goal changed."""
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _check_csv_if_match(ctx: Context, goal: Goal) -> None:
    """``PUT targets.csv`` is a compare-and-set (SPEC §13): the ``If-Match`` of the export the
    file was made from is required (428) and must still be current (412). The goal's row is
    locked (``load_goal``), so no other write can change the targets between this check and
    the commit."""
    if not request.if_match:
        raise PreconditionRequired(
            "Send the ETag of the targets file you edited in If-Match (download the file "
            "again to get it).",
            errors={"headers": {"If-Match": ["Missing data for required field."]}},
        )
    if not request.if_match.contains(_csv_etag(export_targets_csv(ctx, goal))):
        raise PreconditionFailed(
            "The targets changed since this file was downloaded: download it again and "
            "repeat your changes there."
        )


@blp.route("/goals/<goals_id:goal_id>/targets.csv")
class TargetsCsv(MethodView):
    #: PUT reads ``text/csv``, not JSON (see ``common._identify``).
    csv_body = True

    @blp.response(200, description="The goal's targets as CSV.", content_type="text/csv")
    @blp.doc(
        responses={
            "200": {
                "description": "The goal's targets as CSV.",
                "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
            }
        }
    )
    def get(self, goal_id: int) -> Response:
        """Download the goal's targets: columns ``interval_start, user_id, target`` (or
        ``daily_target`` for per-business-day goals). One row per interval with an empty
        ``user_id`` (its aim or daily target; not for activity goals split by members), and
        for a goal split by members one row per member in team order."""
        ctx = context()
        goal = load_goal(ctx, goal_id, "read")
        text = export_targets_csv(ctx, goal)
        response = Response(
            text,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="goal-{goal.id}-targets.csv"'},
        )
        response.set_etag(_csv_etag(text))
        response.make_conditional(request)  # 304 for a matching If-None-Match
        return response

    @blp.arguments(TargetsCsvArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, TargetsCsvResultSchema)
    @blp.doc(
        # The If-Match header parameter, 412 and 428 (extension._document_errors).
        **{REQUIRES_IF_MATCH: "The ETag of the GET targets.csv the file comes from."},
        requestBody={
            "required": True,
            "description": "The CSV file (UTF-8), with the columns of GET targets.csv.",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
        },
    )
    def put(self, goal_id: int, confirm: bool, dry_run: bool) -> dict[str, Any]:
        """Upload targets as CSV (the file GET answers, edited): rows not in the file keep
        their values. Every row is checked first: any error is a 422 naming each row (the
        header is row 1), column and reason (``errors.csv.<row>.<column>``), and nothing is
        written. Interval aims above the goal aim, or members' targets above their interval
        aim, are a 409 stating the cascade, applied with ``confirm=true``. ``dry_run=true``
        answers the same (the changes, or the 409) without writing. One transaction;
        recorded in the history as ``import``. ``If-Match`` is required: the ETag of the
        ``GET targets.csv`` the file comes from (428 without it, 412 when the targets changed
        since, so an old spreadsheet never silently overwrites a colleague's edit)."""
        text = _csv_body()
        ctx = context(confirm=confirm)
        with transaction(ctx):
            goal = load_goal(ctx, goal_id, "allocate")
            _check_csv_if_match(ctx, goal)
            rows, changes = import_targets_csv(ctx, goal, text)
            if dry_run:
                ctx.session.rollback()
        return {"dry_run": dry_run, "rows": rows, "changes": changes}
