"""A goal's actual per value of one dimension, against a comparison period (SPEC §7
"Breakdown", docs/tracking.md "Breakdown").

Measured exactly as progress is (same members over the same days, the whole range the sum of
its intervals), with ``ActualsQuery.group_by`` set; the comparison asks the same queries (same
members, same spans) on the days a year earlier (``previous_year``) or one period earlier
(``previous_period``). Everything goes to the source in one ``goals_collect_actuals`` call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from ..domain.distribution import year_before
from ..domain.periods import Period
from ..domain.rules import Category, places
from ..exceptions import MetricSourceError, ValidationFailed
from ..models import Goal, Interval
from .capabilities import category_offer
from .context import Context, load_goal
from .tracking import ZERO, Batch, Slot, goal_summary

#: The comparisons ``compare=`` accepts; the first is the default.
COMPARISONS = ("previous_year", "previous_period")


#: Maps a measured range ``(start, end)`` to the comparison's.
Shift = Callable[[date, date], tuple[date, date]]


def period_earlier(period: Period) -> Shift:
    """The same days one period earlier: shifted by the period's length in days (the period
    of the same length just before, as proportional distribution by actuals uses)."""
    offset = timedelta(days=period.days)
    return lambda start, end: (start - offset, end - offset)


def goal_breakdown(
    ctx: Context,
    goal_id: int,
    *,
    by: str,
    as_of: date,
    compare: str = "previous_year",
) -> dict[str, Any]:
    """The goal's actual per value of ``by`` for its whole range and its current interval, on
    ``as_of``, next to the same days of the comparison, with the difference; rows ordered
    largest shortfall first (most negative difference), then by id.

    :param by: a breakdown dimension the category's source can group by (``/meta``'s
        ``group_by``); anything else is a 422 naming ``by``.
    :param compare: ``previous_year`` (default) or ``previous_period``.
    :raises MetricSourceError: (502) when the category's source fails.

    Statements: 2 (goal, intervals). Hooks: actuals once.
    """
    goal = load_goal(ctx, goal_id)
    offer = category_offer(ctx, Category(goal.category))
    if by not in offer.group_by:
        offered = ", ".join(offer.group_by) or "none"
        raise ValidationFailed(
            {"by": [f"The {goal.category} metric source cannot break down by {by!r} ({offered})."]},
            location="query",
        )
    if compare not in COMPARISONS:
        raise ValidationFailed(
            {"compare": [f"Must be one of: {', '.join(COMPARISONS)}."]}, location="query"
        )
    intervals = ctx.session.scalars(
        sa.select(Interval)
        .where(Interval.goal_id == goal.id, Interval.start_date <= as_of)
        .order_by(Interval.start_date)
    ).all()

    batch = Batch(ctx, as_of, group_by=by)
    batch.load_calendars([goal])
    asked = list(zip(intervals, batch.ask_intervals(goal, intervals), strict=True))
    whole = batch.ask_period(goal, [slot for _, slot in asked])
    current = next(((i, slot) for i, slot in asked if i.start_date <= as_of <= i.end_date), None)
    pairs: list[tuple[str, Slot, Shift]] = [
        ("period", whole, _shift(compare, Period(goal.start_date, goal.end_date)))
    ]
    if current is not None:
        interval, slot = current
        shift = _shift(compare, Period(interval.start_date, interval.end_date))
        pairs.append(("current_interval", slot, shift))
    # A year earlier is the same shift for the range and the interval (shared queries); one
    # period earlier is not, so those keys are tagged per range.
    compared = [
        (name, slot, batch.ask_shifted(slot, shift, _tag(compare, name)), shift)
        for name, slot, shift in pairs
    ]
    batch.collect()
    answer = batch.answer(goal.category)
    if answer.failed:
        raise MetricSourceError(answer.error)

    body: dict[str, Any] = {
        "as_of": as_of,
        "goal": goal_summary(goal),
        "by": by,
        "compare": compare,
        **{k: v for k, v in answer.as_json().items() if k != "category"},
        "period": None,
        "current_interval": None,
    }
    for name, slot, earlier, shift in compared:
        body[name] = _section(batch, goal, slot, earlier, shift)
    return body


def _tag(compare: str, name: str) -> str:
    return compare if compare == "previous_year" else f"{compare}:{name}"


def _shift(compare: str, period: Period) -> Shift:
    """``previous_year``: :func:`~flask_wiseparts_goals.domain.distribution.year_before`, the
    rule seasonality uses too (29 February becomes the 28th; a range ending on a month's last
    day ends on that month's last day a year earlier)."""
    return year_before if compare == "previous_year" else period_earlier(period)


def _section(batch: Batch, goal: Goal, slot: Slot, earlier: Slot, shift: Shift) -> dict[str, Any]:
    """One range's rows: actual and comparison per dimension value, largest shortfall first.
    Before the range starts nothing is measured: no dates, zeros, no rows."""
    measured = slot.timeline.measured(slot.period, batch.as_of)
    compared = None if measured is None else shift(measured.start, measured.end)
    actual, before = batch.groups(slot), batch.groups(earlier)
    error = batch.error_of(slot) or batch.error_of(earlier)
    rows = []
    if actual is not None and before is not None:
        for value in sorted({*actual, *before}):
            now, then = actual.get(value, ZERO), before.get(value, ZERO)
            rows.append((now - then, value, now, then))
        rows.sort(key=lambda row: (row[0], row[1]))
    elif error is None and batch.answer(goal.category).results is not None:
        error = "The metric source answered without a breakdown (ActualsResult.groups)."
    digits = places(goal.metric)
    return {
        "interval_id": slot.interval_id,
        "start_date": slot.period.start,
        "end_date": slot.period.end,
        "measured_start": None if measured is None else measured.start,
        "measured_end": None if measured is None else measured.end,
        "compare_start": None if compared is None else compared[0],
        "compare_end": None if compared is None else compared[1],
        "actual": _round(batch.actual(slot), digits),
        "compare_actual": _round(batch.actual(earlier), digits),
        "difference": _difference(batch.actual(slot), batch.actual(earlier), digits),
        "actuals_error": error,
        "rows": [
            {
                "id": value,
                "actual": _round(now, digits),
                "compare_actual": _round(then, digits),
                "difference": _round(difference, digits),
                "difference_percent": _percent(difference, then),
            }
            for difference, value, now, then in rows
        ],
    }


def _round(value: Decimal | None, digits: int) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _difference(now: Decimal | None, then: Decimal | None, digits: int) -> Decimal | None:
    return None if now is None or then is None else _round(now - then, digits)


def _percent(difference: Decimal, then: Decimal) -> Decimal | None:
    if then == 0:
        return None
    return (difference / abs(then) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
