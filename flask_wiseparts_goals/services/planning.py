"""Planning (SPEC §11): seasonality over intervals, and import and export of targets. (The
shortfall policy is :mod:`.shortfall`, members' own calendars :mod:`.calendars`, the planning
job :mod:`..jobs.planning`.)

Every change of aims goes through :func:`.targets.tracked_write`, like the members'
distribution: the exceed rule (409 with what would change, ``confirm`` to cascade), the
history and the freezing of original aims apply to each of them the same way.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.distribution import spread_by_weights, year_before
from ..domain.rules import MAX_VALUE, GoalMode, check_places, places, step
from ..exceptions import ValidationFailed
from ..models import Allocation, Goal, Interval
from ..types import ActualsQuery, Filters
from .context import Context, goal_target
from .history import Snapshot, snapshot
from .structure import members_on
from .targets import ask_metric_source, current_allocations, tracked_write

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
    """An id is exported behind an apostrophe (which spreadsheets hide, and
    :func:`_id_cell` removes on import) when a spreadsheet would run it as a formula, and
    also when it begins with an apostrophe itself or begins or ends with white space (which
    the import would otherwise take as the escape, or trim): every id reads back as it was."""
    if text.startswith((*_FORMULA_STARTS, "'")) or text != text.strip():
        return "'" + text
    return text


def _id_cell(cell: str) -> str:
    """An id cell as :func:`_safe_cell` wrote it: behind an apostrophe, the rest exactly;
    otherwise trimmed (a hand-written ``rep , 100``)."""
    trimmed = cell.lstrip(" ")
    return trimmed[1:] if trimmed.startswith("'") else cell.strip()


#: The longest row a valid targets CSV can have: a date, an id of 64 characters of up to 4
#: bytes each behind an apostrophe (or 64 quotes, doubled and quoted: fewer bytes), the
#: largest amount with a sign, separators and a line break.
MAX_CSV_ROW_BYTES = 10 + 1 + (1 + 64 * 4 + 2) + 1 + 20 + 2
#: The header, a byte order mark and blank lines a spreadsheet adds.
_CSV_SLACK_BYTES = 4096


def targets_csv_max_bytes(ctx: Context, goal: Goal) -> int:
    """The largest targets CSV of this goal the import reads: as many rows as its export can
    have (an interval row each, a row per allocation holder and member), each as long as a
    valid row can be. So a file exported from the goal, edited or not, is never refused for
    its size, whatever the goal's size (SPEC §13b), while a file larger than the goal's own
    is refused (413) before it is read."""
    rows = len(goal.intervals) if _interval_rows_allowed(goal) else 0
    if goal.split_by_team_members and goal.team_id is not None:
        for interval in goal.intervals:
            members = members_on(ctx, goal.team_id, interval.start_date)
            rows += len({a.user_id for a in interval.allocations}.union(members))
    return _CSV_SLACK_BYTES + rows * MAX_CSV_ROW_BYTES


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
    user_id = _id_cell(record[position[CSV_USER]]) or None
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
        _check_bounds(goal, per_day, rows)
    return len(rows), _diff(goal, before, snapshot(goal))


def _check_bounds(goal: Goal, per_day: bool, rows: Sequence[_CsvRow]) -> None:
    """422 when the file's values would add up (members to intervals, intervals to the goal,
    daily targets × business days) beyond what an amount can hold (SPEC §6 "Bounded
    numbers"), before anything reaches the database. The error names the row and column of
    the file's largest value in the interval that overflows (or in the whole file, when the
    sum of the intervals does): the one to look at first."""
    column = csv_value_column(goal)

    def refuse(scope: Sequence[_CsvRow], what: str) -> ValidationFailed:
        culprit = max(scope or rows, key=lambda row: (row.value, -row.number), default=None)
        where = {"_file": {"_row": [what]}}
        if culprit is not None:
            where = {str(culprit.number): {column: [what]}}
        return _csv_errors(
            "The file's values add up to more than an amount can hold; nothing was written.",
            where,
        )

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
        if aim > MAX_VALUE:
            raise refuse(
                [row for row in rows if row.interval is interval],
                f"The interval of {interval.start_date.isoformat()} would add up to more "
                f"than {MAX_VALUE}.",
            )
        if total > MAX_VALUE:
            raise refuse([], f"The aims would add up to more than {MAX_VALUE}.")


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
