"""Goal settings rules (``domain/goals.py``) and categories/metrics/precision (``domain/rules.py``).

Plain unit tests: no Flask, no database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from flask_wiseparts_goals.domain.goals import GoalSettings, validate_settings
from flask_wiseparts_goals.domain.rules import (
    ALL_FILTERS,
    METRICS,
    Category,
    Metric,
    check_places,
    decimal_places,
    default_metric,
    filters_for,
    is_money,
    places,
    step,
)

D = Decimal


def sales(**changes: Any) -> GoalSettings:
    base = GoalSettings(
        category=Category.SALES,
        metric="net",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 3, 31),
        aim=D("1000.00"),
    )
    return replace(base, **changes)


def orders(**changes: Any) -> GoalSettings:
    return sales(**{"category": Category.ORDERS, "metric": "count", "aim": D("50"), **changes})


def activities(**changes: Any) -> GoalSettings:
    base = GoalSettings(
        category=Category.ACTIVITIES,
        metric="count",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 1, 31),
        goal_mode="total",
    )
    return replace(base, **changes)


def error_at(errors: dict[str, Any], path: str) -> list[str]:
    node: Any = errors
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, f"no error at {path}: {errors}"
        node = node[part]
    assert isinstance(node, list) and node
    return node


# --- rules.py ---------------------------------------------------------------------------------


def test_metrics_per_category():
    assert [m.value for m in METRICS[Category.SALES]] == ["net", "gross", "quantity", "margin"]
    assert [m.value for m in METRICS[Category.ORDERS]] == [
        "count",
        "net",
        "gross",
        "quantity",
        "margin",
    ]
    assert [m.value for m in METRICS[Category.ACTIVITIES]] == ["count"]


def test_only_activities_have_a_default_metric():
    assert default_metric(Category.ACTIVITIES) is Metric.COUNT
    assert default_metric(Category.SALES) is None
    assert default_metric(Category.ORDERS) is None


@pytest.mark.parametrize(
    ("metric", "money", "decimals", "unit"),
    [
        ("net", True, 2, D("0.01")),
        ("gross", True, 2, D("0.01")),
        ("margin", True, 2, D("0.01")),
        ("quantity", False, 0, D("1")),
        ("count", False, 0, D("1")),
    ],
)
def test_precision_of_each_metric(metric, money, decimals, unit):
    assert is_money(metric) is money
    assert places(metric) == decimals
    assert step(metric) == unit


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10", 0), ("10.0", 0), ("10.50", 1), ("1.25", 2), ("0.001", 3), ("1E+3", 0), ("0", 0)],
)
def test_decimal_places(value, expected):
    assert decimal_places(D(value)) == expected


def test_check_places_never_rounds():
    assert check_places(D("12.34"), 2) is None
    assert check_places(D("12.340"), 2) is None  # the same number
    assert check_places(D("12.345"), 2) == "At most 2 decimal places."
    assert check_places(D("12"), 0) is None
    assert check_places(D("12.5"), 0) == "Must be a whole number."


def test_filters_for_each_category():
    assert filters_for(Category.SALES) == (
        "brands",
        "brand_families",
        "customers",
        "customer_branches",
        "wholesaler_branches",
    )
    assert filters_for(Category.ORDERS) == (
        "brands",
        "brand_families",
        "customers",
        "customer_branches",
        "wholesaler_branches",
        "channels",
        "ordered_only",
    )
    assert filters_for(Category.ACTIVITIES) == (
        "customers",
        "customer_branches",
        "activity_types",
        "verified_only",
    )
    assert set(ALL_FILTERS) == set().union(*(filters_for(c) for c in Category))


# --- validate_settings: valid goals -----------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        sales(),
        sales(metric="quantity", aim=D("12")),
        sales(aim=D("0")),
        sales(stretch_aim=D("1000.00")),
        sales(stretch_aim=D("1500.50")),
        sales(team_id="team-a", split_by_team_members=True, split_into_subperiods=True),
        sales(filters={"brands": {"include": ["b1"], "exclude": ["b2"]}}),
        sales(filters={"wholesaler_branches": ["w1"]}),
        orders(filters={"channels": ["phone", "web"], "ordered_only": True}),
        orders(metric="margin", aim=D("10.50")),
        activities(),
        activities(goal_mode="per_business_day", daily_target=D("2.50")),
        activities(filters={"activity_types": ["visit"], "verified_only": True}),
        activities(filters={"customers": {"include": ["c1"]}}),
        activities(
            recurrence="monthly",
            start_date=date(2026, 2, 1),
            end_date=date(2026, 2, 28),
            recurring_until=date(2026, 12, 31),
        ),
        activities(recurrence="semester", start_date=date(2026, 7, 1), end_date=date(2026, 12, 31)),
        sales(start_date=date(2026, 1, 1), end_date=date(2026, 1, 1)),
    ],
)
def test_valid_settings_have_no_errors(settings):
    assert validate_settings(settings) == {}


def test_inclusive_one_day_range_is_valid_and_reversed_range_is_not():
    assert validate_settings(sales(end_date=date(2026, 1, 1))) == {}
    errors = validate_settings(sales(start_date=date(2026, 1, 2), end_date=date(2026, 1, 1)))
    assert error_at(errors, "end_date") == ["Must be on or after start_date."]


# --- validate_settings: every rule, with the field path ----------------------------------------


@pytest.mark.parametrize(
    ("settings", "path"),
    [
        # metric
        (sales(metric=None), "metric"),
        (sales(metric="count"), "metric"),
        (sales(metric="visits"), "metric"),
        (orders(metric="visits"), "metric"),
        (activities(metric="net"), "metric"),
        (activities(metric="quantity"), "metric"),
        # aim and precision
        (sales(aim=None), "aim"),
        (orders(aim=None), "aim"),
        (sales(aim=D("10.001")), "aim"),
        (sales(metric="quantity", aim=D("12.5")), "aim"),
        (orders(metric="count", aim=D("3.01")), "aim"),
        (activities(aim=D("10")), "aim"),
        (activities(aim=D("0")), "aim"),
        # stretch aim
        (sales(stretch_aim=D("999.99")), "stretch_aim"),
        (sales(stretch_aim=D("1000.001")), "stretch_aim"),
        (sales(metric="quantity", aim=D("5"), stretch_aim=D("6.5")), "stretch_aim"),
        (activities(stretch_aim=D("10")), "stretch_aim"),
        # team split, modes, daily targets
        (sales(split_by_team_members=True), "split_by_team_members"),
        (activities(split_by_team_members=True), "split_by_team_members"),
        (sales(goal_mode="total"), "goal_mode"),
        (sales(daily_target=D("1")), "daily_target"),
        (activities(daily_target=D("2")), "daily_target"),
        (activities(goal_mode=None, daily_target=D("2")), "daily_target"),
        # filters that do not belong to the category
        (sales(filters={"activity_types": ["visit"]}), "filters.activity_types"),
        (sales(filters={"verified_only": True}), "filters.verified_only"),
        (sales(filters={"channels": ["web"]}), "filters.channels"),
        (sales(filters={"ordered_only": True}), "filters.ordered_only"),
        (activities(filters={"brands": {"include": ["b"]}}), "filters.brands"),
        (activities(filters={"brand_families": {"exclude": ["f"]}}), "filters.brand_families"),
        (activities(filters={"wholesaler_branches": ["w"]}), "filters.wholesaler_branches"),
        (activities(filters={"channels": ["web"]}), "filters.channels"),
        (orders(filters={"activity_types": ["visit"]}), "filters.activity_types"),
        (orders(filters={"colors": ["red"]}), "filters.colors"),
        # include/exclude conflict, wholesaler branches with a team
        (
            sales(filters={"brands": {"include": ["a", "b"], "exclude": ["b"]}}),
            "filters.brands.exclude",
        ),
        (
            activities(filters={"customers": {"include": ["c"], "exclude": ["c"]}}),
            "filters.customers.exclude",
        ),
        (
            sales(team_id="team-a", filters={"wholesaler_branches": ["w"]}),
            "filters.wholesaler_branches",
        ),
        # recurrence
        (sales(recurrence="monthly"), "recurrence"),
        (orders(recurrence="yearly"), "recurrence"),
        (activities(recurrence="monthly", end_date=date(2026, 1, 30)), "start_date"),
        (
            activities(
                recurrence="monthly", start_date=date(2026, 1, 2), end_date=date(2026, 2, 1)
            ),
            "start_date",
        ),
        (activities(recurrence="quarterly"), "start_date"),
        (
            activities(recurrence="monthly", recurring_until=date(2025, 12, 31)),
            "recurring_until",
        ),
        (activities(recurring_until=date(2026, 12, 31)), "recurring_until"),
    ],
)
def test_each_rule_reports_its_field(settings, path):
    errors = validate_settings(settings)
    error_at(errors, path)


def test_the_include_exclude_conflict_names_the_ids():
    errors = validate_settings(
        sales(filters={"brands": {"include": ["a", "b"], "exclude": ["b", "a"]}})
    )
    assert error_at(errors, "filters.brands.exclude") == ["Ids both included and excluded: a, b."]


def test_a_filter_left_empty_is_not_an_error_for_any_category():
    settings = sales(filters={"activity_types": [], "verified_only": False, "channels": []})
    assert validate_settings(settings) == {}


def test_a_disabled_category_is_an_error_on_category():
    errors = validate_settings(orders(), category_enabled=False)
    assert list(errors) == ["category"]
    assert "not enabled" in errors["category"][0]


def test_every_problem_is_reported_at_once():
    errors = validate_settings(
        sales(
            metric="visits",
            aim=None,
            end_date=date(2025, 12, 31),
            split_by_team_members=True,
            filters={"activity_types": ["visit"]},
        )
    )
    assert set(errors) == {"metric", "aim", "end_date", "split_by_team_members", "filters"}
    assert set(errors["filters"]) == {"activity_types"}


def test_money_places_apply_only_once_the_metric_is_valid():
    # An unknown metric is reported on metric; the aim is then checked with 2 places.
    errors = validate_settings(sales(metric="visits", aim=D("10.25")))
    assert list(errors) == ["metric"]
