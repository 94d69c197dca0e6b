"""Date periods: shortcuts, monthly splitting, recurrence periods, business days.

All ranges are closed: ``Period(start, end)`` contains both ``start`` and ``end``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"period starts after it ends: {self.start} > {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def clip(self, other: Period) -> Period | None:
        """The overlap of two periods, or ``None``."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start <= end else None

    def preceding(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


class Recurrence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMESTER = "semester"
    YEARLY = "yearly"


class Shortcut(StrEnum):
    THIS_MONTH = "this_month"
    THIS_QUARTER = "this_quarter"
    THIS_SEMESTER = "this_semester"
    THIS_YEAR = "this_year"


_MONTHS: dict[Recurrence, int] = {
    Recurrence.MONTHLY: 1,
    Recurrence.QUARTERLY: 3,
    Recurrence.SEMESTER: 6,
    Recurrence.YEARLY: 12,
}

SHORTCUT_RECURRENCE: dict[Shortcut, Recurrence] = {
    Shortcut.THIS_MONTH: Recurrence.MONTHLY,
    Shortcut.THIS_QUARTER: Recurrence.QUARTERLY,
    Shortcut.THIS_SEMESTER: Recurrence.SEMESTER,
    Shortcut.THIS_YEAR: Recurrence.YEARLY,
}


def period_containing(recurrence: Recurrence | str, day: date) -> Period:
    """The whole calendar period of this kind that contains ``day``.

    Quarters start in January, April, July, October; semesters in January and July.
    """
    months = _MONTHS[Recurrence(recurrence)]
    first_month = (day.month - 1) // months * months + 1
    return Period(date(day.year, first_month, 1), _month_end(day.year, first_month + months - 1))


def _month_end(year: int, month: int) -> date:
    """The last day of a month (computed in place: no overflow in December of year 9999)."""
    return date(year, month, calendar.monthrange(year, month)[1])


def next_period(recurrence: Recurrence | str, period: Period) -> Period:
    """The whole period of this kind that starts the day after ``period`` ends."""
    return period_containing(recurrence, period.end + timedelta(days=1))


def is_whole_period(recurrence: Recurrence | str, period: Period) -> bool:
    return period_containing(recurrence, period.start) == period


def resolve_shortcut(shortcut: Shortcut | str, today: date) -> Period:
    """``this_month`` & co., resolved against ``today`` (already in the organization's timezone)."""
    return period_containing(SHORTCUT_RECURRENCE[Shortcut(shortcut)], today)


def month_splits(period: Period) -> list[Period]:
    """Calendar months clipped to ``period``.

    2026-01-15..2026-03-10 → Jan 15–31, Feb 1–28, Mar 1–10.
    """
    splits = []
    start = period.start
    while start <= period.end:
        end = min(_month_end(start.year, start.month), period.end)
        splits.append(Period(start, end))
        if end == date.max:
            break
        start = end + timedelta(days=1)
    return splits


def interval_periods(period: Period, split_into_subperiods: bool) -> list[Period]:
    """The intervals of a goal: the whole range, or its calendar months."""
    return month_splits(period) if split_into_subperiods else [period]


def days_of(period: Period) -> Iterator[date]:
    for ordinal in range(period.start.toordinal(), period.end.toordinal() + 1):
        yield date.fromordinal(ordinal)


def weekdays(period: Period) -> list[date]:
    """Monday to Friday within the period: the default business days."""
    # By ordinal: day 1 (0001-01-01) is a Monday, so ``(ordinal - 1) % 7`` is the weekday.
    return [
        date.fromordinal(ordinal)
        for ordinal in range(period.start.toordinal(), period.end.toordinal() + 1)
        if (ordinal - 1) % 7 < 5
    ]


def count_in(days: Iterable[date], period: Period) -> int:
    """How many of ``days`` fall within ``period``."""
    return sum(1 for day in days if day in period)


def local_date(moment: datetime, timezone: str, fallback: str = "UTC") -> date:
    """The date of an aware ``moment`` in an IANA timezone (an unknown name falls back)."""
    return moment.astimezone(_zone(timezone, fallback)).date()


def day_start(day: date, timezone: str, fallback: str = "UTC") -> datetime:
    """The first moment of ``day`` in an IANA timezone, as an aware UTC datetime."""
    return datetime.combine(day, time.min, tzinfo=_zone(timezone, fallback)).astimezone(UTC)


def _zone(timezone: str, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        return ZoneInfo(fallback)
