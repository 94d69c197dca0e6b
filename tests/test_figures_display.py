"""``display_figures`` (the one-pass figures of progress and the dashboards) gives exactly
what ``compute_figures(...).rounded(...)`` gives, value for value and exponent for exponent,
so the JSON is the same: tracking uses the first for speed, the second stays the reference.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from flask_wiseparts_goals.domain.figures import (
    BusinessCalendar,
    Thresholds,
    Timeline,
    compute_figures,
    display_figures,
)
from flask_wiseparts_goals.domain.periods import Period, weekdays

PERIOD = Period(date(2026, 6, 1), date(2026, 6, 30))
CALENDARS = [
    BusinessCalendar(weekdays(Period(date(2026, 5, 1), date(2026, 7, 31)))),
    BusinessCalendar([]),  # no business day at all
    BusinessCalendar([date(2026, 6, 30)]),  # only the last day
]
VALUES = ["0", "0.00", "1", "7", "99.95", "100", "1000", "1234.56", "0.01", "999999999999.99"]


def reference(target, actual, timeline, thresholds, places, stretch_aim):
    figures = compute_figures(
        target, actual, timeline, stretch_aim=stretch_aim, thresholds=thresholds
    ).rounded(target_places=places[0], actual_places=places[1])
    return {
        "target": figures.target,
        "stretch_aim": figures.stretch_aim,
        "actual": figures.actual,
        "expected": figures.expected,
        "forecast": figures.forecast,
        "achievement_percent": figures.achievement_percent,
        "forecast_percent": figures.forecast_percent,
        "stretch_achievement_percent": figures.stretch_achievement_percent,
        "remaining": figures.remaining,
        "needed_per_business_day": figures.needed_per_business_day,
        "status": None if figures.status is None else figures.status.value,
    }


def same(left: dict, right: dict) -> bool:
    """Equal keys in the same order, equal values with the same text (exponent, sign)."""
    return list(left) == list(right) and all(str(left[key]) == str(right[key]) for key in left)


@pytest.mark.parametrize("seed", range(5))
def test_display_figures_are_the_rounded_figures(seed):
    rng = random.Random(seed)
    thresholds = Thresholds(on_track=Decimal(99), at_risk=Decimal(80))
    for _ in range(400):
        target = rng.choice([None, *map(Decimal, VALUES), Decimal(rng.randrange(10**6)) / 100])
        actual = rng.choice([None, *map(Decimal, VALUES), Decimal(rng.randrange(10**6)) / 100])
        stretch = rng.choice([None, Decimal(0), Decimal("1500.5")])
        as_of = PERIOD.start + timedelta(days=rng.randrange(-3, 34))
        timeline = Timeline.of(PERIOD, as_of, rng.choice(CALENDARS))
        places = (rng.choice([0, 2]), rng.choice([0, 2]))
        expected = reference(target, actual, timeline, thresholds, places, stretch)
        shown = display_figures(
            target,
            actual,
            timeline,
            thresholds,
            target_places=places[0],
            actual_places=places[1],
            stretch_aim=stretch,
        )
        assert same(shown, expected), (target, actual, as_of, places)
        member = display_figures(
            target,
            actual,
            timeline,
            thresholds,
            target_places=places[0],
            actual_places=places[1],
            stretch=False,
        )
        del expected["stretch_aim"], expected["stretch_achievement_percent"]
        assert same(member, expected)


def test_status_is_decided_on_exact_values_at_the_boundary():
    # 99 % of expected to date exactly is on track; a hair below is behind.
    timeline = Timeline.of(PERIOD, date(2026, 6, 30), CALENDARS[0])
    thresholds = Thresholds()
    target = Decimal("1000")
    kwargs = {"target_places": 2, "actual_places": 2}
    assert (
        display_figures(target, Decimal("990"), timeline, thresholds, **kwargs)["status"]
        == "on_track"
    )
    assert (
        display_figures(target, Decimal("989.99"), timeline, thresholds, **kwargs)["status"]
        == "behind"
    )


@pytest.mark.parametrize("seed", range(3))
def test_equal_values_give_the_same_figures_whatever_their_exponent_or_sign_of_zero(seed):
    """Progress computes the figures once for members with equal (target, actual) on the same
    timeline (``Batch.member_rows``): that is exact only because the figures depend on the
    values alone, not on how they are written (``1``, ``1.0``, ``1.00``; ``0``, ``-0.00``)."""
    rng = random.Random(seed)
    thresholds = Thresholds()

    def spellings(value: Decimal) -> list[Decimal]:
        written = [value, value.quantize(Decimal("0.01")), value.quantize(Decimal("0.0001"))]
        if value == 0:
            written += [Decimal("-0"), Decimal("-0.00")]
        return written

    for _ in range(200):
        target = rng.choice([Decimal(0), Decimal(rng.randrange(10**5)), Decimal("400")])
        actual = rng.choice([Decimal(0), Decimal(rng.randrange(10**6)) / 100, Decimal("-5")])
        as_of = PERIOD.start + timedelta(days=rng.randrange(-3, 34))
        timeline = Timeline.of(PERIOD, as_of, rng.choice(CALENDARS))
        places = {"target_places": rng.choice([0, 2]), "actual_places": rng.choice([0, 2])}
        shown = [
            display_figures(t, a, timeline, thresholds, stretch=False, **places)
            for t in spellings(target)
            for a in spellings(actual)
        ]
        assert all(same(figures, shown[0]) for figures in shown), (target, actual, as_of)
