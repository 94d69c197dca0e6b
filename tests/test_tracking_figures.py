"""Tracking figures as pure functions: no Flask, no database (SPEC §3 "Tracking and dashboards").

The reference period is 2026-06-01 (Monday) .. 2026-06-26 (Friday): four whole weeks, 20
business days from Monday to Friday.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from flask_wiseparts_goals.domain.figures import (
    BusinessCalendar,
    Figures,
    Status,
    Thresholds,
    Timeline,
    compute_figures,
)
from flask_wiseparts_goals.domain.periods import Period, weekdays

D = Decimal
PERIOD = Period(date(2026, 6, 1), date(2026, 6, 26))
WEEKDAYS = BusinessCalendar(weekdays(Period(date(2026, 5, 1), date(2026, 7, 31))))


def figures(
    target: str | None,
    actual: str | None,
    as_of: date,
    *,
    calendar: BusinessCalendar = WEEKDAYS,
    period: Period = PERIOD,
    **kwargs,
) -> Figures:
    timeline = Timeline.of(period, as_of, calendar)
    return compute_figures(
        None if target is None else D(target),
        None if actual is None else D(actual),
        timeline,
        **kwargs,
    )


def test_calendar_counts_closed_ranges():
    assert WEEKDAYS.count(date(2026, 6, 1), date(2026, 6, 26)) == 20
    assert WEEKDAYS.count(date(2026, 6, 6), date(2026, 6, 7)) == 0  # a weekend
    assert WEEKDAYS.count(date(2026, 6, 5), date(2026, 6, 5)) == 1
    assert WEEKDAYS.count(date(2026, 6, 5), date(2026, 6, 4)) == 0


def test_mid_period():
    result = figures("1000", "400", date(2026, 6, 12))  # Friday of week 2: 10 of 20 days
    assert result.expected == D(500)
    assert result.forecast == D(800)
    assert result.achievement_percent == D(40)
    assert result.forecast_percent == D(80)
    assert result.remaining == D(600)
    assert result.needed_per_business_day == D(60)
    assert result.status is Status.BEHIND  # exactly 80 % of expected is not "at risk"


def test_timeline_mid_period():
    timeline = Timeline.of(PERIOD, date(2026, 6, 12), WEEKDAYS)
    assert (timeline.total, timeline.elapsed, timeline.remaining) == (20, 10, 10)
    assert timeline.started and not timeline.over
    assert timeline.measured(PERIOD, date(2026, 6, 12)) == Period(PERIOD.start, date(2026, 6, 12))


def test_first_day_counts_as_elapsed():
    result = figures("1000", "50", PERIOD.start)
    assert result.expected == D(50)  # 1 of 20 business days
    assert result.forecast == D(1000)  # 50 a day for 20 days
    assert result.status is Status.ON_TRACK


def test_weekend_as_of_counts_like_the_friday_before():
    saturday = figures("1000", "400", date(2026, 6, 13))
    friday = figures("1000", "400", date(2026, 6, 12))
    assert saturday == friday
    assert saturday.forecast == D(800)


def test_no_business_day_passed_forecast_is_the_actual():
    period = Period(date(2026, 5, 30), date(2026, 6, 26))  # starts on a Saturday
    result = figures("1000", "30", date(2026, 5, 31), period=period)
    timeline = Timeline.of(period, date(2026, 5, 31), WEEKDAYS)
    assert timeline.started and timeline.elapsed == 0
    assert result.forecast == D(30)
    assert result.expected == D(0)
    assert result.status is Status.NOT_STARTED  # SPEC §14: before the first business day


def test_after_the_end():
    result = figures("1000", "950", date(2026, 7, 10))
    timeline = Timeline.of(PERIOD, date(2026, 7, 10), WEEKDAYS)
    assert (timeline.elapsed, timeline.remaining, timeline.over) == (20, 0, True)
    assert result.forecast == D(950)  # nothing left to forecast
    assert result.expected == D(1000)
    assert result.remaining == D(50)
    assert result.needed_per_business_day is None  # no business day left
    assert result.achievement_percent == D(95)
    assert result.status is Status.MISSED  # SPEC §14: ended below the target


def test_last_day_is_over():
    timeline = Timeline.of(PERIOD, PERIOD.end, WEEKDAYS)
    assert timeline.over and timeline.elapsed == timeline.total == 20


def test_before_the_start():
    as_of = date(2026, 5, 20)
    timeline = Timeline.of(PERIOD, as_of, WEEKDAYS)
    assert not timeline.started and timeline.elapsed == 0 and timeline.remaining == 20
    assert timeline.measured(PERIOD, as_of) is None
    result = figures("1000", "0", as_of)
    assert result.expected == D(0)
    assert result.forecast == D(0)
    assert result.needed_per_business_day == D(50)
    assert result.status is Status.NOT_STARTED  # SPEC §14


def test_target_zero():
    result = figures("0", "120", date(2026, 6, 12))
    assert result.achievement_percent is None
    assert result.forecast_percent is None
    assert result.remaining == D(0)
    assert result.expected == D(0)
    assert result.forecast == D(240)
    assert result.status is Status.NO_TARGET  # SPEC §14: achieved needs a target > 0


def test_holidays_change_business_day_counts_and_the_forecast():
    holidays = {date(2026, 6, 8), date(2026, 6, 9)}
    calendar = BusinessCalendar(
        day for day in weekdays(Period(date(2026, 6, 1), date(2026, 6, 30))) if day not in holidays
    )
    timeline = Timeline.of(PERIOD, date(2026, 6, 12), calendar)
    assert (timeline.total, timeline.elapsed) == (18, 8)
    result = figures("1000", "400", date(2026, 6, 12), calendar=calendar)
    assert result.forecast == D(900)  # 400 / 8 days * 18 days
    assert result.rounded(target_places=2, actual_places=2).expected == D("444.44")  # 1000 * 8/18
    assert result.needed_per_business_day == D(60)  # 600 over the 10 days left


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        ("1000", Status.ACHIEVED),
        ("1200", Status.ACHIEVED),
        ("500", Status.ON_TRACK),  # expected to date is 500
        ("495", Status.ON_TRACK),  # exactly 99 %
        ("494.99", Status.BEHIND),
        ("400", Status.BEHIND),  # exactly 80 %
        ("399.99", Status.AT_RISK),
        ("0", Status.AT_RISK),
        ("-10", Status.AT_RISK),  # returns exceeding sales
    ],
)
def test_status_thresholds(actual, status):
    assert figures("1000", actual, date(2026, 6, 12)).status is status


def test_configured_thresholds():
    thresholds = Thresholds(on_track=D(95), at_risk=D(50))
    assert figures("1000", "475", date(2026, 6, 12), thresholds=thresholds).status is (
        Status.ON_TRACK
    )
    assert figures("1000", "474", date(2026, 6, 12), thresholds=thresholds).status is (
        Status.BEHIND
    )
    assert figures("1000", "249", date(2026, 6, 12), thresholds=thresholds).status is (
        Status.AT_RISK
    )


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError, match="at-risk"):
        Thresholds(on_track=D(80), at_risk=D(90))


def test_stretch_aim():
    result = figures("1000", "600", date(2026, 6, 12), stretch_aim=D(1200))
    assert result.stretch_aim == D(1200)
    assert result.stretch_achievement_percent == D(50)
    assert figures("1000", "600", date(2026, 6, 12)).stretch_achievement_percent is None


def test_no_actual_leaves_what_depends_on_it_unknown():
    result = figures("1000", None, date(2026, 6, 12))
    assert result.expected == D(500)
    assert (result.actual, result.forecast, result.achievement_percent) == (None, None, None)
    assert (result.remaining, result.needed_per_business_day, result.status) == (None,) * 3


def test_no_target_still_forecasts():
    result = figures(None, "400", date(2026, 6, 12))
    assert result.forecast == D(800)
    assert (result.expected, result.achievement_percent) == (None, None)
    assert result.status is Status.NO_TARGET  # SPEC §14: no target, not "cannot be said"


def test_period_without_business_days():
    weekend = Period(date(2026, 6, 6), date(2026, 6, 7))
    during = figures("10", "4", date(2026, 6, 6), period=weekend)
    assert during.expected == D(0) and during.forecast == D(4)
    assert during.needed_per_business_day is None
    after = figures("10", "4", date(2026, 6, 8), period=weekend)
    assert after.expected == D(10)
    assert after.status is Status.MISSED  # SPEC §14: ended below the target


def test_exact_arithmetic_and_display_rounding():
    result = figures("1000", "333.33", date(2026, 6, 10))  # 8 of 20 days
    assert result.forecast == D("833.325")  # exact until display
    shown = result.rounded(target_places=2, actual_places=2)
    assert shown.forecast == D("833.33")  # half-up, not half-even
    assert shown.achievement_percent == D("33.3")
    assert shown.expected == D("400.00")
    assert str(shown.target) == "1000.00"


def test_display_rounding_is_half_up_for_percentages():
    shown = figures("1000", "999.5", date(2026, 6, 12)).rounded(target_places=2, actual_places=2)
    assert shown.achievement_percent == D("100.0")  # 99.95 %


def test_counts_show_whole_targets_and_actuals_with_two_decimal_estimates():
    shown = figures("100", "7", date(2026, 6, 3)).rounded(target_places=0, actual_places=0)
    assert str(shown.target) == "100" and str(shown.actual) == "7"
    assert str(shown.remaining) == "93"
    assert str(shown.expected) == "15.00"  # 100 * 3 / 20
    assert str(shown.forecast) == "46.67"  # 7 * 20 / 3
    assert str(shown.needed_per_business_day) == "5.47"  # 93 / 17


def test_only_decimals_never_floats():
    result = figures("1000", "333.33", date(2026, 6, 10), stretch_aim=D(1500))
    for value in (result, result.rounded(target_places=2, actual_places=2)):
        for item in dataclasses.fields(value):
            number = getattr(value, item.name)
            assert number is None or isinstance(number, (Decimal, Status)), item.name


def test_large_amounts_keep_every_digit():
    big = "9999999999999999.99"
    result = figures(big, "1234567890123456.78", PERIOD.start + timedelta(days=3))
    shown = result.rounded(target_places=2, actual_places=2)
    assert str(shown.target) == big
    assert str(shown.forecast) == "6172839450617283.90"  # 4 of 20 days
