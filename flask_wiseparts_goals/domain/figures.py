"""Tracking figures: actual, expected to date, forecast, achievement and status (SPEC §3
"Tracking and dashboards").

Everything is computed with exact ``Decimal`` arithmetic on the values as given; rounding
happens once, for display, in :meth:`Figures.rounded`:

- amounts that are set or measured use their own places: the target, the stretch aim and the
  remaining amount use the goal's places (2 for money and per-business-day activity targets,
  0 for counts and quantities); the actual uses the metric's places (2 for money, 0 otherwise);
- estimates (expected to date, forecast, needed per remaining business day) always have
  2 decimals, since 41.67 visits expected by today is more telling than 42;
- percentages have 1 decimal.

Display rounding is half-up (what spreadsheets do: 99.95 % shows as 100.0 %), unlike the
half-even of exact storage. A status is decided on exact values, never on rounded ones.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from typing import Any

from .periods import Period

ZERO = Decimal(0)
HUNDRED = Decimal(100)

#: Decimal places of estimates (expected, forecast, needed per business day).
ESTIMATE_PLACES = 2
#: Decimal places of percentages.
PERCENT_PLACES = 1
#: Working precision: amounts have at most 18 digits; ratios of them need room on both sides.
_PRECISION = 48
#: The arithmetic of the figures (what ``localcontext`` with ``prec = _PRECISION`` gives).
_ARITHMETIC = Context(prec=_PRECISION)
#: Display rounding: half-up at the working precision.
_DISPLAY = Context(prec=_PRECISION, rounding=ROUND_HALF_UP)
#: ``10 ** -places`` for every number of places a figure has.
_EXPONENTS = {places: Decimal(1).scaleb(-places) for places in range(0, 7)}
_ESTIMATE = _EXPONENTS[ESTIMATE_PLACES]
_PERCENT = _EXPONENTS[PERCENT_PLACES]


class Status(StrEnum):
    """Where the actual stands against what is expected by now (SPEC §3, §14).

    The API's status is the only one: pages and widgets show it and derive none of their own.
    Decided in this order: no target; achieved; missed (ended below target); not started;
    then against expected to date.
    """

    NO_TARGET = "no_target"  # target 0 or none: nothing to achieve (achievement is null)
    ACHIEVED = "achieved"  # target > 0 and actual >= target
    MISSED = "missed"  # the period has ended (as_of after its end) below the target
    NOT_STARTED = "not_started"  # before the period's first business day
    ON_TRACK = "on_track"  # actual >= on-track % of expected to date
    BEHIND = "behind"  # in between
    AT_RISK = "at_risk"  # actual < at-risk % of expected to date


#: Each status's value (a lookup, cheaper than the enum's ``value`` property).
_STATUS_VALUES = {status: status.value for status in Status}


@dataclass(frozen=True)
class Thresholds:
    """Status thresholds in % of the target expected to date (``GOALS_STATUS_*_PERCENT``)."""

    on_track: Decimal = Decimal(99)
    at_risk: Decimal = Decimal(80)

    def __post_init__(self) -> None:
        if self.at_risk > self.on_track:
            raise ValueError(
                f"the at-risk threshold ({self.at_risk} %) is above on track ({self.on_track} %)"
            )


class BusinessCalendar:
    """The business days of a range, counted per sub-range in O(log n).

    Built once from what ``goals_business_days`` answered for the widest range a request needs
    (one team's goals), then asked for every goal, interval and elapsed part within it. Counts
    outside the range it was built for are meaningless: the caller provides a covering range.
    """

    def __init__(self, days: Iterable[date]) -> None:
        self._days = sorted(set(days))

    def count(self, start: date, end: date) -> int:
        """Business days in the closed range ``[start, end]`` (0 when ``start > end``)."""
        if start > end:
            return 0
        return bisect_right(self._days, end) - bisect_left(self._days, start)

    def __len__(self) -> int:
        return len(self._days)


@dataclass(frozen=True)
class Timeline:
    """How far into a period a day is, in business days.

    :param total: business days of the whole period, BD(start..end).
    :param elapsed: business days from the start up to and including ``as_of`` (clipped to the
        period), BD(start..min(as_of, end)); 0 before the start.
    :param started: ``as_of`` is on or after the start (something can have been measured).
    :param over: ``as_of`` is on or after the end (nothing is left to forecast).
    :param ended: ``as_of`` is after the end: the period is closed and can no longer reach
        its target (on its last day it still can).
    """

    total: int
    elapsed: int
    started: bool
    over: bool
    ended: bool = False

    @property
    def remaining(self) -> int:
        """Business days after ``as_of`` until the end."""
        return self.total - self.elapsed

    @classmethod
    def of(cls, period: Period, as_of: date, calendar: BusinessCalendar) -> Timeline:
        started = as_of >= period.start
        return cls(
            total=calendar.count(period.start, period.end),
            elapsed=calendar.count(period.start, min(as_of, period.end)) if started else 0,
            started=started,
            over=as_of >= period.end,
            ended=as_of > period.end,
        )

    def measured(self, period: Period, as_of: date) -> Period | None:
        """The range an actual covers, [start, min(as_of, end)]; ``None`` before the start."""
        if not self.started:
            return None
        return Period(period.start, min(as_of, period.end))


@dataclass(frozen=True)
class Figures:
    """A period's (or a member's) figures. ``None`` means "cannot be said": no target, no
    actual (no metric source), or a ratio to zero."""

    target: Decimal | None
    actual: Decimal | None
    expected: Decimal | None
    forecast: Decimal | None
    achievement_percent: Decimal | None
    forecast_percent: Decimal | None
    remaining: Decimal | None
    needed_per_business_day: Decimal | None
    status: Status | None
    stretch_aim: Decimal | None = None
    stretch_achievement_percent: Decimal | None = None

    def rounded(self, *, target_places: int, actual_places: int) -> Figures:
        """The same figures quantized for display (see the module docstring).

        :param target_places: the goal's places (target, stretch aim, remaining).
        :param actual_places: the metric's places (actual).
        """
        return replace(
            self,
            target=_quantize(self.target, target_places),
            stretch_aim=_quantize(self.stretch_aim, target_places),
            remaining=_quantize(self.remaining, target_places),
            actual=_quantize(self.actual, actual_places),
            expected=_quantize(self.expected, ESTIMATE_PLACES),
            forecast=_quantize(self.forecast, ESTIMATE_PLACES),
            needed_per_business_day=_quantize(self.needed_per_business_day, ESTIMATE_PLACES),
            achievement_percent=_quantize(self.achievement_percent, PERCENT_PLACES),
            forecast_percent=_quantize(self.forecast_percent, PERCENT_PLACES),
            stretch_achievement_percent=_quantize(self.stretch_achievement_percent, PERCENT_PLACES),
        )


def compute_figures(
    target: Decimal | None,
    actual: Decimal | None,
    timeline: Timeline,
    *,
    stretch_aim: Decimal | None = None,
    thresholds: Thresholds | None = None,
) -> Figures:
    """Every figure of one period from its target, its actual and where ``as_of`` stands.

    - expected to date = target * elapsed BD / total BD (a period without business days
      expects nothing until it is over, then the whole target);
    - forecast = actual * total BD / elapsed BD, the pace so far carried to the end; the
      actual itself once the period is over or while no business day has passed;
    - achievement % = actual / target * 100 and forecast % = forecast / target * 100
      (``None`` when the target is 0);
    - remaining = max(target - actual, 0); needed per remaining business day = remaining /
      remaining BD (``None`` when no business day is left);
    - status (see :func:`decide_status`): no target when the target is 0 or none; achieved
      when actual ≥ target > 0; missed when the period has ended below the target; not started
      before the first business day; otherwise against expected to date: on track at
      ``thresholds.on_track`` % or more, at risk below ``thresholds.at_risk`` %, behind in
      between.

    :param target: ``None`` when there is none (a member of a goal not split by members).
    :param actual: ``None`` when no metric source measured it.
    """
    thresholds = thresholds or Thresholds()
    with localcontext() as context:
        context.prec = _PRECISION
        expected = _expected(target, timeline)
        forecast = _forecast(actual, timeline)
        remaining = None
        if target is not None and actual is not None:
            remaining = max(target - actual, ZERO)
        needed = None
        if remaining is not None and timeline.remaining > 0:
            needed = remaining / timeline.remaining
        return Figures(
            target=target,
            actual=actual,
            expected=expected,
            forecast=forecast,
            achievement_percent=_percent(actual, target),
            forecast_percent=_percent(forecast, target),
            remaining=remaining,
            needed_per_business_day=needed,
            status=decide_status(target, actual, expected, timeline, thresholds),
            stretch_aim=stretch_aim,
            stretch_achievement_percent=_percent(actual, stretch_aim),
        )


def _expected(target: Decimal | None, timeline: Timeline) -> Decimal | None:
    if target is None:
        return None
    if timeline.total == 0:
        return target if timeline.over else ZERO
    return target * timeline.elapsed / timeline.total


def _forecast(actual: Decimal | None, timeline: Timeline) -> Decimal | None:
    if actual is None:
        return None
    if timeline.over or timeline.elapsed == 0:
        return actual
    return actual * timeline.total / timeline.elapsed


def _percent(value: Decimal | None, base: Decimal | None) -> Decimal | None:
    if value is None or base is None or base == 0:
        return None
    return value * HUNDRED / base


def decide_status(
    target: Decimal | None,
    actual: Decimal | None,
    expected: Decimal | None,
    timeline: Timeline,
    thresholds: Thresholds,
) -> Status | None:
    """The status of one period (or member) from exact values, never from rounded ones.

    ``no_target`` whenever the target is 0 or none (whatever the actual: there is nothing to
    achieve); otherwise ``None`` when no actual was measured. Then ``achieved`` (actual ≥
    target), ``missed`` (the period has ended: ``as_of`` after its last day, on which the
    target could still be reached), ``not_started`` (no business day has passed), and last
    the pace against ``expected`` to date.
    """
    if target is None or target == 0:
        return Status.NO_TARGET
    if actual is None or expected is None:
        return None
    if actual >= target:
        return Status.ACHIEVED
    if timeline.ended:
        return Status.MISSED
    if timeline.elapsed == 0:
        return Status.NOT_STARTED
    # Compared multiplied out, so that no rounded ratio decides a status.
    multiply = _ARITHMETIC.multiply
    scaled = multiply(actual, HUNDRED)
    if scaled >= multiply(thresholds.on_track, expected):
        return Status.ON_TRACK
    if scaled < multiply(thresholds.at_risk, expected):
        return Status.AT_RISK
    return Status.BEHIND


def _exponent(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def _quantize(value: Decimal | None, places: int) -> Decimal | None:
    if value is None:
        return None
    exponent = _EXPONENTS.get(places) or _exponent(places)
    rounded = value.quantize(exponent, context=_DISPLAY)
    # ``+ 0`` normalizes -0 to 0 (and changes no other value).
    return _DISPLAY.add(rounded, ZERO) if rounded.is_signed() else rounded


def display_figures(
    target: Decimal | None,
    actual: Decimal | None,
    timeline: Timeline,
    thresholds: Thresholds,
    *,
    target_places: int,
    actual_places: int,
    stretch_aim: Decimal | None = None,
    stretch: bool = True,
) -> dict[str, Any]:
    """``compute_figures(...).rounded(...)`` as a JSON-ready dict in one pass: the same rules
    and the same values, without the intermediate objects (progress computes thousands of
    member rows per request). The keys are those of the API's figures; ``stretch=False``
    leaves out ``stretch_aim`` and ``stretch_achievement_percent`` (a member's figures).
    ``status`` is the status's value."""
    arithmetic = _ARITHMETIC
    total, elapsed = timeline.total, timeline.elapsed
    left = total - elapsed
    expected = forecast = remaining = needed = achievement = forecast_percent = None
    if target is not None:
        if total == 0:
            expected = target if timeline.over else ZERO
        else:
            expected = arithmetic.divide(arithmetic.multiply(target, elapsed), total)
    if actual is not None:
        if timeline.over or elapsed == 0:
            forecast = actual
        else:
            forecast = arithmetic.divide(arithmetic.multiply(actual, total), elapsed)
        if target is not None:
            remaining = max(arithmetic.subtract(target, actual), ZERO)
            if left > 0:
                needed = arithmetic.divide(remaining, left)
            if target != 0:
                achievement = arithmetic.divide(arithmetic.multiply(actual, HUNDRED), target)
                forecast_percent = arithmetic.divide(arithmetic.multiply(forecast, HUNDRED), target)
    decided = decide_status(target, actual, expected, timeline, thresholds)
    status = None if decided is None else _STATUS_VALUES[decided]
    stretch_percent = None
    if stretch and actual is not None and stretch_aim is not None and stretch_aim != 0:
        stretch_percent = arithmetic.divide(arithmetic.multiply(actual, HUNDRED), stretch_aim)
    # _quantize, inlined: this runs for every member row of a progress (thousands a request).
    display = _DISPLAY
    exponents = _EXPONENTS
    target_exponent = exponents.get(target_places) or _exponent(target_places)
    if target is not None:
        target = target.quantize(target_exponent, context=display)
        if target.is_signed():
            target = display.add(target, ZERO)
    data: dict[str, Any] = {"target": target}
    if stretch:
        data["stretch_aim"] = _quantize(stretch_aim, target_places)
    if actual is not None:
        actual = actual.quantize(
            exponents.get(actual_places) or _exponent(actual_places), context=display
        )
        if actual.is_signed():
            actual = display.add(actual, ZERO)
    data["actual"] = actual
    estimate, percent = _ESTIMATE, _PERCENT
    if expected is not None:
        expected = expected.quantize(estimate, context=display)
        if expected.is_signed():
            expected = display.add(expected, ZERO)
    data["expected"] = expected
    if forecast is not None:
        forecast = forecast.quantize(estimate, context=display)
        if forecast.is_signed():
            forecast = display.add(forecast, ZERO)
    data["forecast"] = forecast
    if achievement is not None:
        achievement = achievement.quantize(percent, context=display)
        if achievement.is_signed():
            achievement = display.add(achievement, ZERO)
    data["achievement_percent"] = achievement
    if forecast_percent is not None:
        forecast_percent = forecast_percent.quantize(percent, context=display)
        if forecast_percent.is_signed():
            forecast_percent = display.add(forecast_percent, ZERO)
    data["forecast_percent"] = forecast_percent
    if stretch:
        data["stretch_achievement_percent"] = _quantize(stretch_percent, PERCENT_PLACES)
    if remaining is not None:
        remaining = remaining.quantize(target_exponent, context=display)
        if remaining.is_signed():
            remaining = display.add(remaining, ZERO)
    data["remaining"] = remaining
    if needed is not None:
        needed = needed.quantize(estimate, context=display)
        if needed.is_signed():
            needed = display.add(needed, ZERO)
    data["needed_per_business_day"] = needed
    data["status"] = status
    return data
