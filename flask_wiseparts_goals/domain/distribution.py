"""Spreading an aim over members or intervals so that the parts sum exactly to it.

Every function works in whole *units* of ``step`` (1 for counts and quantities, 0.01 for money)
so that no rounding ever loses or invents a cent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


def _units(value: Decimal, step: Decimal) -> int:
    units = value / step
    if units != units.to_integral_value():
        raise ValueError(f"{value} is not a multiple of {step}")
    return int(units)


def equal_split(total: Decimal, count: int, step: Decimal) -> list[Decimal]:
    """Divide ``total`` into ``count`` parts of whole steps; the remainder goes one step each to
    the first parts.

    100 over 3 → 34, 33, 33; 100.00 over 3 (step 0.01) → 33.34, 33.33, 33.33.
    """
    if count <= 0:
        return []
    base, remainder = divmod(_units(total, step), count)
    return [(base + (1 if i < remainder else 0)) * step for i in range(count)]


def largest_remainder(total: Decimal, weights: Sequence[Decimal], step: Decimal) -> list[Decimal]:
    """Divide ``total`` in proportion to ``weights``, rounded to ``step`` by the largest-remainder
    method (ties go to the earlier position). Negative weights count as 0.

    :raises ValueError: when every weight is 0 (the caller falls back to :func:`equal_split`).
    """
    clean = [max(weight, Decimal(0)) for weight in weights]
    weight_sum = sum(clean, Decimal(0))
    if weight_sum == 0:
        raise ValueError("all weights are zero")
    units = _units(total, step)
    # Exact integers: every weight scaled by the same power of ten, so that each share is
    # units * W_i / S with integer W_i and S, its floor and remainder one divmod, and the
    # remainders compare exactly (same denominator). Decimal division would round at 28
    # digits, which breaks ties (1, 1, 4 over 4 units: every remainder is 2/3, so team order
    # decides) in favour of larger weights; Fractions give the same result as this, slower.
    exponent = min(min(int(weight.as_tuple().exponent) for weight in clean), 0)
    scaled = [int(weight.scaleb(-exponent)) for weight in clean]
    scaled_sum = sum(scaled)
    parts = [divmod(units * weight, scaled_sum) for weight in scaled]
    floors = [share for share, _ in parts]
    left = units - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-parts[i][1], i))
    for i in order[:left]:
        floors[i] += 1
    return [units_ * step for units_ in floors]


@dataclass(frozen=True)
class Distribution:
    """The outcome of a distribution: a value per member, and whether proportional fell back."""

    values: dict[str, Decimal]
    fell_back_to_equal: bool = False


def distribute_equal(
    aim: Decimal,
    members: Sequence[str],
    step: Decimal,
    locked: Mapping[str, Decimal] | None = None,
) -> Distribution:
    """Equal split of ``aim`` over ``members`` (team order), keeping ``locked`` members' values.

    The unlocked members share ``aim - sum(locked)``; a negative rest shares 0.
    """
    locked = dict(locked or {})
    free = [member for member in members if member not in locked]
    rest = max(aim - sum(locked.values(), Decimal(0)), Decimal(0))
    values = dict(locked)
    values.update(zip(free, equal_split(rest, len(free), step), strict=True))
    return Distribution({member: values[member] for member in members})


def distribute_proportional(
    aim: Decimal,
    members: Sequence[str],
    weights: Mapping[str, Decimal],
    step: Decimal,
    locked: Mapping[str, Decimal] | None = None,
) -> Distribution:
    """Proportional split by ``weights`` (a member without a weight weighs 0).

    Falls back to :func:`distribute_equal` when the free members' weights are all 0 (or there
    are none), and says so.
    """
    locked = dict(locked or {})
    free = [member for member in members if member not in locked]
    rest = max(aim - sum(locked.values(), Decimal(0)), Decimal(0))
    try:
        shares = largest_remainder(rest, [weights.get(m, Decimal(0)) for m in free], step)
    except ValueError:
        fallback = distribute_equal(aim, members, step, locked)
        return Distribution(fallback.values, fell_back_to_equal=True)
    values = dict(locked)
    values.update(zip(free, shares, strict=True))
    return Distribution({member: values[member] for member in members})


def distribute_copy(members: Sequence[str], source_value: Decimal) -> Distribution:
    """Every member gets the source member's value."""
    return Distribution({member: source_value for member in members})


#: The strategies ``POST .../allocations/distribute`` accepts.
STRATEGIES = ("equal", "proportional", "copy")


# -- planning over intervals (SPEC §11) -------------------------------------------------------

#: The strategies ``POST /goals/{id}/intervals/distribute`` accepts.
INTERVAL_STRATEGIES = ("equal", "previous_year", "profile")

#: ``Goal.shortfall_policy`` values.
SHORTFALL_POLICIES = ("none", "next_interval", "spread_remaining")


@dataclass(frozen=True)
class Spread:
    """An aim spread over positions (intervals), and whether the weights fell back to equal."""

    values: list[Decimal]
    fell_back_to_equal: bool = False


def spread_by_weights(total: Decimal, weights: Sequence[Decimal], step: Decimal) -> Spread:
    """``total`` in proportion to ``weights`` (largest remainder, ties to the earlier
    position); the equal split when there is nothing to weigh (every weight 0)."""
    try:
        return Spread(largest_remainder(total, weights, step))
    except ValueError:
        return Spread(equal_split(total, len(weights), step), fell_back_to_equal=True)


def year_before(start: date, end: date) -> tuple[date, date]:
    """The same days one year earlier: 29 February becomes the 28th, and a range ending on
    the last day of a month ends on the last day of that month a year earlier (February 2025
    is compared with the whole of February 2024, all 29 days)."""

    def shift(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            return day.replace(year=day.year - 1, day=28)

    earlier_end = shift(end)
    if (end + timedelta(days=1)).day == 1:  # a month's last day
        next_month = (earlier_end.replace(day=28) + timedelta(days=4)).replace(day=1)
        earlier_end = next_month - timedelta(days=1)
    return shift(start), earlier_end


def shortfall_shares(
    shortfall: Decimal, remaining: int, policy: str, step: Decimal
) -> list[Decimal]:
    """What each of the ``remaining`` later intervals receives of an ended interval's
    ``shortfall``: all of it to the next one (``next_interval``), or the equal split over all
    of them (``spread_remaining``); nothing under ``none`` or without a later interval."""
    if remaining <= 0 or shortfall <= 0 or policy == "none":
        return [Decimal(0)] * max(remaining, 0)
    if policy == "next_interval":
        return [shortfall] + [Decimal(0)] * (remaining - 1)
    return equal_split(shortfall, remaining, step)
