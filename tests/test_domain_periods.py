"""Periods: month splitting, shortcuts, recurrence periods, business days (no Flask)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_wiseparts_goals.domain.periods import (
    Period,
    Recurrence,
    Shortcut,
    count_in,
    days_of,
    interval_periods,
    is_whole_period,
    month_splits,
    next_period,
    period_containing,
    resolve_shortcut,
    weekdays,
)


def d(text: str) -> date:
    return date.fromisoformat(text)


def p(start: str, end: str) -> Period:
    return Period(d(start), d(end))


def bounds(periods: list[Period]) -> list[tuple[str, str]]:
    return [(x.start.isoformat(), x.end.isoformat()) for x in periods]


# --- Period -----------------------------------------------------------------------------------


def test_period_is_closed_and_counts_both_ends():
    period = p("2026-01-30", "2026-02-02")
    assert period.days == 4
    assert d("2026-01-30") in period
    assert d("2026-02-02") in period
    assert d("2026-01-29") not in period
    assert d("2026-02-03") not in period
    assert "2026-01-31" not in period  # only dates are contained


def test_single_day_period():
    assert p("2026-05-05", "2026-05-05").days == 1


def test_period_refuses_to_end_before_it_starts():
    with pytest.raises(ValueError, match="starts after it ends"):
        p("2026-02-01", "2026-01-31")


def test_clip_gives_the_overlap_or_none():
    q1 = p("2026-01-01", "2026-03-31")
    assert q1.clip(p("2026-03-15", "2026-04-15")) == p("2026-03-15", "2026-03-31")
    assert q1.clip(p("2026-03-31", "2026-04-15")) == p("2026-03-31", "2026-03-31")
    assert q1.clip(p("2026-04-01", "2026-04-15")) is None


def test_preceding_has_the_same_length_and_ends_the_day_before():
    march = p("2026-03-01", "2026-03-31")
    before = march.preceding()
    assert before == p("2026-01-29", "2026-02-28")
    assert before.days == march.days


# --- month splitting --------------------------------------------------------------------------


def test_month_splits_example_of_the_spec():
    assert bounds(month_splits(p("2026-01-15", "2026-03-10"))) == [
        ("2026-01-15", "2026-01-31"),
        ("2026-02-01", "2026-02-28"),
        ("2026-03-01", "2026-03-10"),
    ]


def test_month_splits_leap_february_2028():
    assert bounds(month_splits(p("2028-01-15", "2028-03-10"))) == [
        ("2028-01-15", "2028-01-31"),
        ("2028-02-01", "2028-02-29"),
        ("2028-03-01", "2028-03-10"),
    ]
    assert bounds(month_splits(p("2028-02-01", "2028-02-29"))) == [("2028-02-01", "2028-02-29")]


def test_month_splits_february_of_a_common_year_and_of_2100():
    assert bounds(month_splits(p("2027-02-10", "2027-03-01"))) == [
        ("2027-02-10", "2027-02-28"),
        ("2027-03-01", "2027-03-01"),
    ]
    # 2100 is not a leap year (divisible by 100, not by 400).
    assert month_splits(p("2100-02-01", "2100-03-31"))[0].end == d("2100-02-28")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-05-03", "2026-05-20"),
        ("2026-05-01", "2026-05-31"),
        ("2026-05-31", "2026-05-31"),
        ("2026-05-01", "2026-05-01"),
    ],
)
def test_a_range_inside_one_month_is_one_interval(start, end):
    assert bounds(month_splits(p(start, end))) == [(start, end)]


def test_month_splits_across_a_year_boundary():
    assert bounds(month_splits(p("2025-12-15", "2026-01-10"))) == [
        ("2025-12-15", "2025-12-31"),
        ("2026-01-01", "2026-01-10"),
    ]
    assert bounds(month_splits(p("2025-12-31", "2026-01-01"))) == [
        ("2025-12-31", "2025-12-31"),
        ("2026-01-01", "2026-01-01"),
    ]


def test_a_whole_year_is_twelve_calendar_months():
    splits = month_splits(p("2026-01-01", "2026-12-31"))
    assert len(splits) == 12
    assert [s.start.month for s in splits] == list(range(1, 13))
    assert all(s.start.day == 1 for s in splits)
    assert [s.days for s in splits] == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def test_month_splits_reach_the_last_representable_month():
    assert bounds(month_splits(p("9999-11-15", "9999-12-31"))) == [
        ("9999-11-15", "9999-11-30"),
        ("9999-12-01", "9999-12-31"),
    ]


_dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2110, 12, 31))


@given(_dates, st.integers(min_value=0, max_value=800))
def test_month_splits_tile_the_range_with_one_piece_per_calendar_month(start, length):
    period = Period(start, start + timedelta(days=length))
    splits = month_splits(period)
    assert splits[0].start == period.start
    assert splits[-1].end == period.end
    for previous, current in pairwise(splits):
        assert current.start == previous.end + timedelta(days=1)
    for piece in splits:
        assert (piece.start.year, piece.start.month) == (piece.end.year, piece.end.month)
    assert sum(piece.days for piece in splits) == period.days
    months = {(piece.start.year, piece.start.month) for piece in splits}
    assert len(months) == len(splits)


def test_interval_periods_without_split_is_the_whole_range():
    period = p("2026-01-15", "2026-03-10")
    assert interval_periods(period, False) == [period]
    assert interval_periods(period, True) == month_splits(period)


# --- calendar periods, shortcuts, recurrence ----------------------------------------------------


@pytest.mark.parametrize(
    ("recurrence", "day", "start", "end"),
    [
        ("monthly", "2026-02-14", "2026-02-01", "2026-02-28"),
        ("monthly", "2028-02-29", "2028-02-01", "2028-02-29"),
        ("monthly", "2026-12-31", "2026-12-01", "2026-12-31"),
        ("quarterly", "2026-01-01", "2026-01-01", "2026-03-31"),
        ("quarterly", "2026-05-15", "2026-04-01", "2026-06-30"),
        ("quarterly", "2026-09-30", "2026-07-01", "2026-09-30"),
        ("quarterly", "2026-10-01", "2026-10-01", "2026-12-31"),
        ("semester", "2026-06-30", "2026-01-01", "2026-06-30"),
        ("semester", "2026-07-01", "2026-07-01", "2026-12-31"),
        ("yearly", "2028-02-29", "2028-01-01", "2028-12-31"),
        ("quarterly", "9999-12-05", "9999-10-01", "9999-12-31"),
        ("yearly", "9999-12-31", "9999-01-01", "9999-12-31"),
    ],
)
def test_period_containing(recurrence, day, start, end):
    assert period_containing(recurrence, d(day)) == p(start, end)


@pytest.mark.parametrize(
    ("shortcut", "today", "start", "end"),
    [
        ("this_month", "2028-02-10", "2028-02-01", "2028-02-29"),
        ("this_quarter", "2026-05-15", "2026-04-01", "2026-06-30"),
        ("this_semester", "2026-07-01", "2026-07-01", "2026-12-31"),
        ("this_semester", "2026-01-31", "2026-01-01", "2026-06-30"),
        ("this_year", "2026-12-31", "2026-01-01", "2026-12-31"),
    ],
)
def test_resolve_shortcut(shortcut, today, start, end):
    assert resolve_shortcut(shortcut, d(today)) == p(start, end)
    assert resolve_shortcut(Shortcut(shortcut), d(today)) == p(start, end)


def test_unknown_shortcut_is_refused():
    with pytest.raises(ValueError):
        resolve_shortcut("next_month", d("2026-01-01"))


@pytest.mark.parametrize(
    ("recurrence", "start", "end", "whole"),
    [
        ("monthly", "2026-02-01", "2026-02-28", True),
        ("monthly", "2026-02-01", "2026-02-27", False),
        ("monthly", "2026-02-02", "2026-02-28", False),
        ("monthly", "2026-01-01", "2026-02-28", False),
        ("quarterly", "2026-04-01", "2026-06-30", True),
        ("quarterly", "2026-02-01", "2026-04-30", False),
        ("semester", "2026-07-01", "2026-12-31", True),
        ("yearly", "2026-01-01", "2026-12-31", True),
        ("yearly", "2026-07-01", "2027-06-30", False),
    ],
)
def test_is_whole_period(recurrence, start, end, whole):
    assert is_whole_period(recurrence, p(start, end)) is whole


@pytest.mark.parametrize(
    ("recurrence", "start", "end", "next_start", "next_end"),
    [
        ("monthly", "2028-01-01", "2028-01-31", "2028-02-01", "2028-02-29"),
        ("monthly", "2026-12-01", "2026-12-31", "2027-01-01", "2027-01-31"),
        ("quarterly", "2026-10-01", "2026-12-31", "2027-01-01", "2027-03-31"),
        ("semester", "2026-01-01", "2026-06-30", "2026-07-01", "2026-12-31"),
        ("yearly", "2026-01-01", "2026-12-31", "2027-01-01", "2027-12-31"),
    ],
)
def test_next_period(recurrence, start, end, next_start, next_end):
    assert next_period(Recurrence(recurrence), p(start, end)) == p(next_start, next_end)


# --- business days ----------------------------------------------------------------------------


def test_weekdays_are_monday_to_friday():
    week = weekdays(p("2026-01-05", "2026-01-11"))  # Monday to Sunday
    assert week == [d("2026-01-05") + timedelta(days=i) for i in range(5)]
    assert weekdays(p("2026-01-10", "2026-01-11")) == []  # a weekend


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        ("2026-01-01", "2026-01-31", 22),
        ("2026-02-01", "2026-02-28", 20),
        ("2028-02-01", "2028-02-29", 21),
        ("2026-01-01", "2026-12-31", 261),
    ],
)
def test_weekday_counts(start, end, count):
    assert len(weekdays(p(start, end))) == count


def test_days_of_runs_to_the_last_representable_day():
    assert list(days_of(Period(date.max - timedelta(days=2), date.max))) == [
        date.max - timedelta(days=2),
        date.max - timedelta(days=1),
        date.max,
    ]


def test_count_in_counts_only_days_within_the_period():
    days = [d("2026-01-30"), d("2026-01-31"), d("2026-02-01"), d("2026-02-02")]
    assert count_in(days, p("2026-01-31", "2026-02-01")) == 2
    assert count_in(days, p("2026-03-01", "2026-03-31")) == 0
