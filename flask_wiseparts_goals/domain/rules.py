"""Categories, metrics, value precision and filter rules (SPEC §3 "Goals")."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class Category(StrEnum):
    SALES = "sales"
    ACTIVITIES = "activities"
    ORDERS = "orders"


class Metric(StrEnum):
    NET = "net"
    GROSS = "gross"
    QUANTITY = "quantity"
    MARGIN = "margin"
    COUNT = "count"


class GoalMode(StrEnum):
    TOTAL = "total"
    PER_BUSINESS_DAY = "per_business_day"


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    SHOP = "shop"
    SOCIAL = "social"


METRICS: dict[Category, tuple[Metric, ...]] = {
    Category.SALES: (Metric.NET, Metric.GROSS, Metric.QUANTITY, Metric.MARGIN),
    Category.ORDERS: (Metric.COUNT, Metric.NET, Metric.GROSS, Metric.QUANTITY, Metric.MARGIN),
    Category.ACTIVITIES: (Metric.COUNT,),
}

#: The feature flag a category needs, if any.
CATEGORY_FEATURE: dict[Category, str] = {Category.ORDERS: "orders"}

MONEY_METRICS = frozenset({Metric.NET, Metric.GROSS, Metric.MARGIN})

#: Include/exclude filters, and which categories accept them.
LIST_PAIR_FILTERS: dict[str, frozenset[Category]] = {
    "brands": frozenset({Category.SALES, Category.ORDERS}),
    "brand_families": frozenset({Category.SALES, Category.ORDERS}),
    "customers": frozenset({Category.SALES, Category.ORDERS, Category.ACTIVITIES}),
    "customer_branches": frozenset({Category.SALES, Category.ORDERS, Category.ACTIVITIES}),
}
#: Plain list filters.
LIST_FILTERS: dict[str, frozenset[Category]] = {
    "wholesaler_branches": frozenset({Category.SALES, Category.ORDERS}),
    "activity_types": frozenset({Category.ACTIVITIES}),
    "channels": frozenset({Category.ORDERS}),
}
#: Boolean filters.
FLAG_FILTERS: dict[str, frozenset[Category]] = {
    "verified_only": frozenset({Category.ACTIVITIES}),
    "ordered_only": frozenset({Category.ORDERS}),
}

ALL_FILTERS = (*LIST_PAIR_FILTERS, *LIST_FILTERS, *FLAG_FILTERS)

#: The largest absolute value a stored amount may have (the columns are NUMERIC(18, 2)).
MAX_VALUE = Decimal("9999999999999999.99")


def filters_for(category: Category) -> tuple[str, ...]:
    """The filter names a category accepts, in display order."""
    return tuple(
        name
        for table in (LIST_PAIR_FILTERS, LIST_FILTERS, FLAG_FILTERS)
        for name, categories in table.items()
        if category in categories
    )


def default_metric(category: Category) -> Metric | None:
    """The metric set automatically (activities count); ``None`` when the user must choose."""
    return Metric.COUNT if category is Category.ACTIVITIES else None


def is_money(metric: Metric | str) -> bool:
    return Metric(metric) in MONEY_METRICS


def places(metric: Metric | str) -> int:
    """Decimal places of an aim or target of this metric: 2 for money, 0 for count/quantity."""
    return 2 if is_money(metric) else 0


def step(metric: Metric | str) -> Decimal:
    """The smallest unit distribution hands out: 0.01 for money, 1 for count and quantity."""
    return Decimal(1).scaleb(-places(metric))


def decimal_places(value: Decimal) -> int:
    """How many decimal places a value carries (``Decimal("1.50")`` → 2, ``Decimal("10")`` → 0)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_places(value: Decimal, allowed: int) -> str | None:
    """An error message when ``value`` has more decimal places than ``allowed``, else ``None``."""
    if decimal_places(value) > allowed:
        if allowed == 0:
            return "Must be a whole number."
        return f"At most {allowed} decimal places."
    return None
