"""Planning (SPEC §11): seasonality over intervals, shortfall carry-forward, import and export
of targets, and the planning job that freezes original aims and settles ended intervals.

Every change of aims goes through :func:`.targets.tracked_write`, like the members'
distribution: the exceed rule (409 with what would change, ``confirm`` to cascade), the
history and the freezing of original aims apply to each of them the same way.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..domain.distribution import shortfall_shares, spread_by_weights, year_before
from ..domain.figures import BusinessCalendar
from ..domain.periods import day_start
from ..domain.rules import MAX_VALUE, Category, GoalMode, check_places, places, step
from ..exceptions import ValidationFailed
from ..models import Allocation, Goal, Interval, freeze_originals, utcnow
from ..plugins import HostHooks
from ..types import ActualsQuery, Filters, Identity
from .context import Context, claim_goal, goal_target, today_in
from .history import Snapshot, record_changes, record_event, snapshot
from .structure import members_on
from .targets import ask_metric_source, current_allocations, tracked_write

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


# -- shortfall policy ---------------------------------------------------------------------------


def set_shortfall_policy(ctx: Context, goal: Goal, data: Mapping[str, Any]) -> None:
    """Apply ``shortfall_policy`` from a create or update body (sales and orders goals only:
    an activity goal's aims follow its daily and members' targets, nothing can be carried)."""
    policy = data.get("shortfall_policy")
    if policy is None:
        return
    if goal.is_activity and policy != "none":
        raise ValidationFailed(
            {
                "shortfall_policy": [
                    "Activity goals derive their aims from daily and members' targets: "
                    "nothing can be carried forward."
                ]
            }
        )
    old = goal.shortfall_policy
    goal.shortfall_policy = policy
    if goal.id is not None and old != policy:
        record_event(ctx, goal, "shortfall_policy", old, policy, "manual")


# -- the planning job -----------------------------------------------------------------------------

#: ``HistoryEntry.operation`` of a carried shortfall.
CARRY_OPERATION = "carry_forward"
#: The user id history rows of the job carry (``changed_by``), as for recurrence.
SYSTEM_USER_ID = "system"
#: UTC+14 (POSIX signs are inverted): no timezone's today is later than this one's.
_FURTHEST_AHEAD = "Etc/GMT-14"


@dataclass
class PlanningSummary:
    """What one run of the planning job did.

    :param frozen: intervals whose original aim was kept in this run (started, untouched).
    :param carried: ended intervals whose shortfall was carried forward.
    :param settled: ended intervals settled without a shortfall (achieved).
    :param skipped: goals another runner held or had settled meanwhile.
    :param unmeasured: goals left for a later run because no metric source answers.
    :param failed: goals whose step raised: rolled back, logged, retried by the next run.
    """

    frozen: int = 0
    carried: int = 0
    settled: int = 0
    skipped: int = 0
    unmeasured: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_text(self) -> str:
        return (
            f"original aims kept {self.frozen}, carried {self.carried}, settled {self.settled}, "
            f"skipped {self.skipped}, unmeasured {self.unmeasured}, failed {self.failed}"
        )


class _AlreadySettled(Exception):
    """Another runner settled one of the goal's intervals first."""


def run_planning(
    session: Session,
    hooks: HostHooks,
    *,
    as_of: date | None = None,
    config: Mapping[str, Any] | None = None,
) -> PlanningSummary:
    """Keep the original aims of intervals that have started, then settle every ended interval
    of a goal with a shortfall policy: carry its shortfall forward, exactly once.

    "Today" is each goal's own today in its ``timezone``, or ``as_of`` for every goal. Safe to
    run anywhere, any number of times at once (APScheduler 3 runs a job in every process that
    starts a scheduler; exactness comes from the database):

    * keeping original aims is an idempotent ``UPDATE ... WHERE original_aim IS NULL``;
    * each goal is one transaction that locks the goal row (``FOR NO KEY UPDATE SKIP
      LOCKED`` on PostgreSQL; SQLite has one writer), then claims its due intervals with a
      compare-and-set ``UPDATE goals_interval SET shortfall_settled_at = now WHERE id IN
      (...) AND shortfall_settled_at IS NULL``: a runner that claims fewer rows than it
      expected rolls back, so an interval's shortfall is carried at most once, and the claim
      commits with the carry or not at all.

    The run owns the session's transactions: call it with no pending changes.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("run_planning commits per goal: commit or discard pending changes.")
    config = config or {}
    fallback = str(config.get("GOALS_DEFAULT_TIMEZONE") or "UTC")
    summary = PlanningSummary()
    try:
        summary.frozen = _freeze_started(session, as_of, fallback)
        session.commit()
    except Exception as error:  # the database: retried by the next run
        session.rollback()
        summary.failed += 1
        summary.errors.append(f"original aims: {_describe(error)}")
        logger.exception("planning: keeping original aims failed")
    latest_today = as_of or today_in(_FURTHEST_AHEAD)
    goal_ids = due_goal_ids(session, latest_today)
    session.rollback()  # end the read; every goal has its own transaction
    for goal_id in goal_ids:
        try:
            _settle_goal(session, hooks, goal_id, as_of, fallback, config, summary)
            session.commit()
        except _AlreadySettled:
            session.rollback()
            summary.skipped += 1
        except Exception as error:  # a plugin, the database, a bug: this goal only
            session.rollback()
            summary.failed += 1
            summary.errors.append(f"goal {goal_id}: {_describe(error)}")
            logger.error(
                "planning: goal %s failed and is retried on the next run: %s",
                goal_id,
                _describe(error),
                exc_info=error,
            )
    log = logger.warning if summary.failed else logger.info
    log("planning run: %s", summary.as_text())
    return summary


def _freeze_started(session: Session, as_of: date | None, fallback: str) -> int:
    """The bulk form of :func:`.models.freeze_originals`: two UPDATEs per timezone in use."""
    frozen = 0
    timezones = session.scalars(
        sa.select(Goal.timezone).where(Goal.deleted_at.is_(None)).distinct()
    ).all()
    for timezone in timezones:
        today = as_of or today_in(timezone, fallback)
        # A goal's plan is what stands at the end of the day it was created (freeze_originals).
        goals = sa.select(Goal.id).where(
            Goal.timezone == timezone,
            Goal.deleted_at.is_(None),
            Goal.created_at < day_start(today, timezone, fallback),
        )
        started = sa.select(Interval.id).where(
            Interval.goal_id.in_(goals), Interval.start_date <= today
        )
        result: sa.CursorResult[Any] = session.execute(  # type: ignore[assignment]
            sa.update(Interval)
            .where(Interval.id.in_(started), Interval.original_aim.is_(None))
            .values(original_aim=Interval.aim)
            .execution_options(synchronize_session=False)
        )
        frozen += result.rowcount
        session.execute(
            sa.update(Allocation)
            .where(Allocation.interval_id.in_(started), Allocation.original_target.is_(None))
            .values(original_target=Allocation.target)
            .execution_options(synchronize_session=False)
        )
    return frozen


def _due_conditions(latest_today: date) -> list[sa.ColumnElement[bool]]:
    return [
        Goal.shortfall_policy != "none",
        Goal.deleted_at.is_(None),
        Goal.category != Category.ACTIVITIES.value,
        Interval.shortfall_settled_at.is_(None),
        Interval.end_date < latest_today,
        Interval.end_date < Goal.end_date,  # a later interval exists to carry to
    ]


def due_goal_ids(session: Session, latest_today: date) -> list[int]:
    """Goals with a shortfall policy and an ended, unsettled interval that is not their last,
    on ``latest_today`` (the latest "today" of any timezone; each goal's own decides later)."""
    query = (
        sa.select(Goal.id)
        .join(Interval, Interval.goal_id == Goal.id)
        .where(*_due_conditions(latest_today))
        .group_by(Goal.id)
        .order_by(Goal.id)
    )
    return list(session.scalars(query))


def _settle_goal(
    session: Session,
    hooks: HostHooks,
    goal_id: int,
    as_of: date | None,
    fallback: str,
    config: Mapping[str, Any],
    summary: PlanningSummary,
) -> None:
    goal = session.scalars(
        sa.select(Goal)
        .where(Goal.id == goal_id, Goal.deleted_at.is_(None), Goal.shortfall_policy != "none")
        .options(selectinload(Goal.intervals).selectinload(Interval.allocations))
        .with_for_update(of=Goal, key_share=True, skip_locked=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if goal is None:
        raise _AlreadySettled
    today = as_of or today_in(goal.timezone, fallback)
    intervals = list(goal.intervals)
    due = [
        interval
        for interval in intervals[:-1]
        if interval.shortfall_settled_at is None and interval.end_date < today
    ]
    if not due:
        return
    ctx = Context(
        session=session,
        hooks=hooks,
        identity=Identity(
            user_id=SYSTEM_USER_ID, organization_id=goal.organization_id, timezone=goal.timezone
        ),
        config=config,
        today=today,
        confirm=True,
    )
    queries = [
        ActualsQuery(
            key=f"shortfall:{interval.id}",
            metric=goal.metric,
            start=interval.start_date,
            end=interval.end_date,
            user_ids=members_on(ctx, goal.team_id, interval.end_date) if goal.team_id else None,
            team_id=goal.team_id,
            goal_id=goal.id,
            interval_id=interval.id,
            filters=Filters.from_json(goal.filters),
        )
        for interval in due
    ]
    with session.no_autoflush:
        answer = hooks.collect_actuals(goal.organization_id, goal.category, queries)
    if answer is None:
        summary.unmeasured += 1
        logger.warning(
            "planning: no metric source answers %s: goal %s keeps its shortfalls for later",
            goal.category,
            goal.id,
        )
        return
    failed = [r.error for q in queries if (r := answer.get(q.key)) is not None and r.error]
    if failed:  # a per-query error (SPEC §7): no shortfall from a number the source lacks
        summary.unmeasured += 1
        logger.warning(
            "planning: the metric source could not measure goal %s (%s): its shortfalls wait",
            goal.id,
            failed[0],
        )
        return
    claim_goal(ctx, goal)  # a new version: ETags read before the carry are stale
    now = utcnow()
    claimed: sa.CursorResult[Any] = session.execute(  # type: ignore[assignment]
        sa.update(Interval)
        .where(Interval.id.in_([i.id for i in due]), Interval.shortfall_settled_at.is_(None))
        .values(shortfall_settled_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != len(due):
        raise _AlreadySettled
    unit = step(goal.metric)
    for interval, query in zip(due, queries, strict=True):
        set_committed_value(interval, "shortfall_settled_at", now)
        result = answer.get(query.key)
        actual = (result.total or ZERO) if result is not None else ZERO
        if carry_shortfall(ctx, goal, interval, actual, unit):
            summary.carried += 1
        else:
            summary.settled += 1


def carry_shortfall(
    ctx: Context, goal: Goal, interval: Interval, actual: Decimal, unit: Decimal
) -> bool:
    """Move an ended interval's shortfall (aim − actual, when positive) to the later intervals
    by the goal's policy; ``True`` when something moved.

    The shortfall *moves*: the ended interval's aim becomes what it achieved (its
    ``original_aim`` still shows the aim it started with) and the goal aim stays, so the
    interval aims keep summing to it and the exceed rule keeps holding. Members' targets stay
    as they are (in the ended interval as agreed; in the later ones the unallocated rest grows
    for the manager to distribute). History: ``carry_forward`` rows on both sides.
    """
    shortfall = (interval.aim - max(actual, ZERO)).quantize(unit)
    later = [other for other in goal.intervals if other.start_date > interval.end_date]
    shares = shortfall_shares(shortfall, len(later), goal.shortfall_policy, unit)
    if not any(shares):
        return False
    freeze_originals([interval], ctx.today)
    before = snapshot(goal, [interval])
    interval.aim -= sum(shares, ZERO)
    # Outside tracked_write: the ended interval keeps its members' targets, which may now
    # exceed its aim; the exceed rule is checked (and holds) on the receiving intervals.
    record_changes(ctx, goal, before, CARRY_OPERATION, after=snapshot(goal, [interval]))
    receivers = [other for other, share in zip(later, shares, strict=True) if share]
    with tracked_write(ctx, goal, CARRY_OPERATION, intervals=receivers):
        for other, share in zip(later, shares, strict=True):
            other.aim += share
    return True


def _describe(error: BaseException) -> str:
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


# -- import and export of targets ------------------------------------------------------------------

#: ``HistoryEntry.operation`` of a CSV import.
IMPORT_OPERATION = "import"
CSV_INTERVAL = "interval_start"
CSV_USER = "user_id"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: A decimal as the JSON API takes it: ASCII digits, an optional sign and fraction.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


#: Spreadsheets run a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(text: str) -> str:
    """An id a spreadsheet would run as a formula is exported behind an apostrophe (which
    spreadsheets hide and :func:`_unsafe_cell` removes on import)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _unsafe_cell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text


def csv_value_column(goal: Goal) -> str:
    """``daily_target`` for per-business-day goals, ``target`` for the others."""
    return "daily_target" if goal.goal_mode == GoalMode.PER_BUSINESS_DAY else "target"


def _csv_places(goal: Goal) -> int:
    return 2 if goal.goal_mode == GoalMode.PER_BUSINESS_DAY else places(goal.metric)


def _interval_rows_allowed(goal: Goal) -> bool:
    """An interval row (no ``user_id``) sets the interval's aim or daily target: not for an
    activity goal split by members, whose interval totals are the members' sum."""
    return not (goal.is_activity and goal.split_by_team_members)


def export_targets_csv(ctx: Context, goal: Goal) -> str:
    """The goal's targets as CSV: ``interval_start, user_id, target`` (or ``daily_target``).

    One row per interval with an empty ``user_id`` (its aim or daily target, where people set
    it) and, for a goal split by members, one row per member in team order (members who
    joined since the interval was built appear with 0). Decimals in the goal's places.
    """
    value_column = csv_value_column(goal)
    per_day = value_column == "daily_target"
    quantum = Decimal(1).scaleb(-_csv_places(goal))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([CSV_INTERVAL, CSV_USER, value_column])

    def text(value: Decimal | None) -> str:
        return format((value or ZERO).quantize(quantum), "f")

    for interval in goal.intervals:
        start = interval.start_date.isoformat()
        if _interval_rows_allowed(goal):
            writer.writerow([start, "", text(interval.daily_target if per_day else interval.aim)])
        if goal.split_by_team_members:
            for allocation in current_allocations(ctx, goal, interval):
                value = allocation.daily_target if per_day else allocation.target
                writer.writerow([start, _safe_cell(allocation.user_id), text(value)])
    return out.getvalue()


@dataclass(frozen=True)
class _CsvRow:
    number: int
    interval: Interval
    user_id: str | None
    value: Decimal


def _csv_errors(message: str, errors: dict[str, dict[str, list[str]]]) -> ValidationFailed:
    return ValidationFailed(errors, location="csv", message=message)


def parse_targets_csv(ctx: Context, goal: Goal, text: str) -> list[_CsvRow]:
    """Every row checked; a 422 listing each problem as ``errors.csv.<row>.<column>`` (the
    header is row 1) when there is any: nothing is written then."""
    value_column = csv_value_column(goal)
    expected = [CSV_INTERVAL, CSV_USER, value_column]
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: dict[str, dict[str, list[str]]] = {}
    try:
        header = next(reader, None)
        if header is None:
            raise _csv_errors(
                "The file is empty.",
                {"1": {"_row": [f"Expected the header {','.join(expected)}."]}},
            )
        header = [name.strip() for name in header]
        header_errors: dict[str, list[str]] = {}
        for name in header:
            if name not in expected:
                other = "target" if value_column == "daily_target" else "daily_target"
                header_errors[name or "_row"] = [
                    f"This goal takes {value_column}, not {other}."
                    if name == other
                    else f"Unknown column; the columns are {', '.join(expected)}."
                ]
        for name in expected:
            if header.count(name) != 1:
                header_errors.setdefault(name, []).append(
                    "Missing column." if name not in header else "Duplicated column."
                )
        if header_errors:
            raise _csv_errors("The CSV header is not valid.", {"1": header_errors})
        position = {name: header.index(name) for name in expected}
        starts = {interval.start_date.isoformat(): interval for interval in goal.intervals}
        members: dict[date, tuple[str, ...]] = {}
        seen: dict[tuple[date, str | None], int] = {}
        rows: list[_CsvRow] = []
        for number, record in enumerate(reader, start=2):
            if not record or all(not cell.strip() for cell in record):
                continue  # blank lines (a trailing newline, a spreadsheet's empty rows)
            row_errors = _check_row(ctx, goal, record, position, starts, members, value_column)
            if isinstance(row_errors, dict):
                errors[str(number)] = row_errors
                continue
            interval, user_id, value = row_errors
            key = (interval.start_date, user_id)
            if key in seen:
                errors[str(number)] = {
                    CSV_USER if user_id else CSV_INTERVAL: [
                        f"Same interval and member as row {seen[key]}."
                    ]
                }
                continue
            seen[key] = number
            rows.append(_CsvRow(number, interval, user_id, value))
    except csv.Error as error:
        errors[str(reader.line_num)] = {"_row": [f"Not valid CSV: {error}."]}
    if errors:
        raise _csv_errors("Some rows are not valid; nothing was written.", errors)
    return rows


def _check_row(
    ctx: Context,
    goal: Goal,
    record: list[str],
    position: Mapping[str, int],
    starts: Mapping[str, Interval],
    members: dict[date, tuple[str, ...]],
    value_column: str,
) -> dict[str, list[str]] | tuple[Interval, str | None, Decimal]:
    if len(record) != len(position):
        return {"_row": [f"Expected {len(position)} values, found {len(record)}."]}
    errors: dict[str, list[str]] = {}
    start_text = record[position[CSV_INTERVAL]].strip()
    user_id = _unsafe_cell(record[position[CSV_USER]].strip()) or None
    value_text = record[position[value_column]].strip()
    interval = starts.get(start_text)
    if not _ISO_DATE.fullmatch(start_text):
        errors[CSV_INTERVAL] = ["Not a date: use YYYY-MM-DD."]
    elif interval is None:
        errors[CSV_INTERVAL] = [f"No interval of this goal starts on {start_text}."]
    if user_id is None:
        if not _interval_rows_allowed(goal):
            errors[CSV_USER] = [
                "This goal is split by team members: its interval totals are the members' "
                "sum; name a member."
            ]
    elif not goal.split_by_team_members:
        errors[CSV_USER] = ["This goal is not split by team members: leave user_id empty."]
    elif interval is not None:
        assert goal.team_id is not None
        if interval.start_date not in members:
            members[interval.start_date] = members_on(ctx, goal.team_id, interval.start_date)
        if user_id not in members[interval.start_date]:
            errors[CSV_USER] = [
                f"Not a member of team {goal.team_id} on {interval.start_date.isoformat()}."
            ]
    value = _csv_decimal(value_text, _csv_places(goal), errors, value_column)
    if errors:
        return errors
    assert interval is not None and value is not None
    return interval, user_id, value


def _csv_decimal(
    text: str, places_: int, errors: dict[str, list[str]], column: str
) -> Decimal | None:
    if not text:
        errors[column] = ["Missing value."]
        return None
    if not _PLAIN_DECIMAL.fullmatch(text):
        errors[column] = ['Not a number: use digits and a decimal point (e.g. "1250.50").']
        return None
    value = Decimal(text)
    if value < 0:
        errors[column] = ["Must be greater than or equal to 0."]
    elif value > MAX_VALUE:
        errors[column] = [f"Must be at most {MAX_VALUE}."]
    elif problem := check_places(value, places_):
        errors[column] = [problem]
    else:
        return value + 0
    return None


def import_targets_csv(ctx: Context, goal: Goal, text: str) -> tuple[int, list[dict[str, Any]]]:
    """Apply a targets CSV (see :func:`export_targets_csv`); rows not in the file keep their
    values. Every row is checked before anything changes; the exceed rule applies to the
    whole file (409, or the cascade with ``confirm``), recorded in the history as ``import``.

    :return: the number of data rows, and every value that changed (cascade included): the
        diff answered to the caller.
    """
    rows = parse_targets_csv(ctx, goal, text)
    if any(row.user_id is None for row in rows):
        ctx.require("update", goal_target(goal))
    per_day = csv_value_column(goal) == "daily_target"
    by_interval: dict[int, dict[str, Allocation]] = {}
    for row in rows:
        if row.user_id is not None and id(row.interval) not in by_interval:
            by_interval[id(row.interval)] = {
                a.user_id: a for a in current_allocations(ctx, goal, row.interval, attach=True)
            }
    before = snapshot(goal)
    with tracked_write(ctx, goal, IMPORT_OPERATION):
        for row in rows:
            if row.user_id is not None:
                allocation = by_interval[id(row.interval)][row.user_id]
                if per_day:
                    allocation.daily_target = row.value
                else:
                    allocation.target = row.value
            elif per_day:
                row.interval.daily_target = row.value
            else:
                row.interval.aim = row.value
        _check_bounds(goal, per_day)
    return len(rows), _diff(goal, before, snapshot(goal))


def _check_bounds(goal: Goal, per_day: bool) -> None:
    """422 when the file's values would add up (members to intervals, intervals to the goal,
    daily targets × business days) beyond what an amount can hold (SPEC §6 "Bounded
    numbers"), before anything reaches the database."""
    total = ZERO
    for interval in goal.intervals:
        days = Decimal(interval.business_days)
        if goal.split_by_team_members:
            if per_day:
                allocated = sum(
                    (
                        (a.daily_target or ZERO)
                        * (days if a.business_days is None else a.business_days)
                        for a in interval.allocations
                    ),
                    ZERO,
                )
            else:
                allocated = sum((a.target for a in interval.allocations), ZERO)
        else:
            allocated = (interval.daily_target or ZERO) * days if per_day else ZERO
        aim = allocated if goal.is_activity else max(interval.aim, allocated)
        total += aim
        if aim > MAX_VALUE or total > MAX_VALUE:
            raise _csv_errors(
                "The file's values add up to more than an amount can hold; nothing was written.",
                {"_file": {"_row": [f"The aims would add up to more than {MAX_VALUE}."]}},
            )


def _diff(goal: Goal, before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    changes = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old == new or ((old or ZERO) == 0 and (new or ZERO) == 0):
            continue
        field_, start, end, user_id = key
        quantum = Decimal(1).scaleb(-(2 if field_ == "daily_target" else goal.places))
        changes.append(
            {
                "interval_start": start,
                "interval_end": end,
                "user_id": user_id,
                "field": field_,
                "old_value": None if old is None else format(old.quantize(quantum), "f"),
                "new_value": None if new is None else format(new.quantize(quantum), "f"),
            }
        )
    return changes


# -- members' own calendars -----------------------------------------------------------------------


def apply_member_calendars(
    ctx: Context, goal: Goal, intervals: Sequence[Interval] | None = None
) -> None:
    """Per-business-day goals split by members: each allocation's own business days, when the
    host answers ``goals_business_days`` per member (SPEC §11 "Members' own calendars"), so
    that its effective target is daily target × the member's days. Otherwise (or in other
    modes) ``None``: the interval's days.

    One hook call per member over the goal's whole range (memoized for the request), counted
    per interval. Called on every change of the goal's targets (``tracked_write``): absences
    entered later count from the next change on, as the team calendar does on a rebuild.
    """
    scope = goal.intervals if intervals is None else intervals
    per_day = goal.goal_mode == GoalMode.PER_BUSINESS_DAY and goal.split_by_team_members
    if not per_day or not ctx.hooks.member_calendars:
        for interval in scope:
            for allocation in interval.allocations:
                # Assigned only when it changes: an assignment marks the object dirty, and a
                # thousand dirty allocations cost the next flush a thousand objects to inspect.
                if allocation.business_days is not None:
                    allocation.business_days = None
        return
    calendars: dict[str, BusinessCalendar] = {}
    with ctx.session.no_autoflush:  # the host reads its tables in this session
        for interval in scope:
            for allocation in interval.allocations:
                user_id = allocation.user_id
                if user_id not in calendars:
                    calendars[user_id] = BusinessCalendar(
                        ctx.hooks.business_days(
                            ctx.organization_id,
                            goal.team_id,
                            goal.start_date,
                            goal.end_date,
                            user_id=user_id,
                        )
                    )
                allocation.business_days = calendars[user_id].count(
                    interval.start_date, interval.end_date
                )
