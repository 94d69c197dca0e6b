"""Equal split and largest remainder: every part a whole step, parts summing exactly to the aim."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_wiseparts_goals.domain.distribution import (
    distribute_copy,
    distribute_equal,
    distribute_proportional,
    equal_split,
    largest_remainder,
)

D = Decimal
ONE = D("1")
CENT = D("0.01")


def texts(values: list[Decimal]) -> list[str]:
    return [format(value, "f") for value in values]


# --- equal split: the examples of the SPEC ----------------------------------------------------


def test_100_over_3_counts():
    assert equal_split(D("100"), 3, ONE) == [D(34), D(33), D(33)]


def test_100_00_over_3_money():
    assert texts(equal_split(D("100.00"), 3, CENT)) == ["33.34", "33.33", "33.33"]


def test_7_over_10_gives_one_each_to_the_first_seven():
    assert equal_split(D("7"), 10, ONE) == [ONE] * 7 + [D(0)] * 3
    assert texts(equal_split(D("0.07"), 10, CENT)) == ["0.01"] * 7 + ["0.00"] * 3


@pytest.mark.parametrize("count", [1, 2, 3, 10, 1000])
def test_0_over_n_is_all_zero(count):
    assert equal_split(D("0"), count, ONE) == [D(0)] * count
    assert equal_split(D("0.00"), count, CENT) == [D(0)] * count


def test_an_exact_division_has_no_remainder():
    assert equal_split(D("90.00"), 3, CENT) == [D("30.00")] * 3


def test_one_part_gets_everything():
    assert equal_split(D("1000.00"), 1, CENT) == [D("1000.00")]


def test_no_parts_is_an_empty_list():
    assert equal_split(D("100"), 0, ONE) == []


def test_a_total_that_is_not_a_whole_number_of_steps_is_refused():
    with pytest.raises(ValueError, match="not a multiple"):
        equal_split(D("10.5"), 2, ONE)
    with pytest.raises(ValueError, match="not a multiple"):
        equal_split(D("10.005"), 2, CENT)


def test_the_largest_amount_splits_without_losing_a_cent():
    total = D("9999999999999999.99")
    parts = equal_split(total, 8, CENT)  # 999999999999999999 cents = 8 * 124999999999999999 + 7
    assert sum(parts) == total
    assert max(parts) - min(parts) == CENT


# --- largest remainder ------------------------------------------------------------------------


def test_proportional_to_the_weights():
    assert largest_remainder(D("100"), [D(1), D(3)], ONE) == [D(25), D(75)]
    assert texts(largest_remainder(D("100.00"), [D(1), D(2)], CENT)) == ["33.33", "66.67"]


def test_the_largest_remainders_get_the_leftover_steps():
    # Exact shares 1.5, 3.3, 5.2: floors 1, 3, 5 and one step left, for the .5.
    assert largest_remainder(D("10"), [D(15), D(33), D(52)], ONE) == [D(2), D(3), D(5)]


def test_ties_go_to_team_order():
    # Every exact share is n + 2/3: the two leftover steps go to the first two members, even
    # though the third one has the largest weight.
    assert largest_remainder(D("4"), [D(1), D(1), D(4)], ONE) == [D(1), D(1), D(2)]
    assert largest_remainder(D("1"), [D(1), D(1), D(1)], ONE) == [D(1), D(0), D(0)]
    assert largest_remainder(D("2"), [D(1), D(1), D(1)], ONE) == [D(1), D(1), D(0)]


def test_negative_weights_count_as_zero():
    assert largest_remainder(D("10"), [D(-5), D(1), D(1)], ONE) == [D(0), D(5), D(5)]


def test_all_zero_weights_are_refused():
    with pytest.raises(ValueError, match="zero"):
        largest_remainder(D("10"), [D(0), D(-1)], ONE)
    with pytest.raises(ValueError, match="zero"):
        largest_remainder(D("10"), [], ONE)


def test_decimal_weights():
    assert texts(largest_remainder(D("1.00"), [D("0.10"), D("0.20")], CENT)) == ["0.33", "0.67"]


# --- properties -------------------------------------------------------------------------------


steps = st.sampled_from([ONE, CENT])
unit_counts = st.integers(min_value=0, max_value=10**12)


def exact_share(total: Decimal, weight: Decimal, weight_sum: Decimal) -> Fraction:
    return Fraction(total) * Fraction(weight) / Fraction(weight_sum)


@given(unit_counts, st.integers(min_value=1, max_value=1000), steps)
def test_equal_split_properties(units, count, unit):
    total = units * unit
    parts = equal_split(total, count, unit)
    assert len(parts) == count
    assert sum(parts) == total
    share = Fraction(total) / count
    for part in parts:
        assert part % unit == 0
        assert abs(Fraction(part) - share) < Fraction(unit)
    # The remainder goes to the first members: parts never increase along team order.
    assert parts == sorted(parts, reverse=True)
    assert max(parts) - min(parts) <= unit


weights_lists = st.lists(
    st.decimals(min_value=-100, max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=50,
).filter(lambda ws: any(w > 0 for w in ws))


@given(unit_counts, weights_lists, steps)
def test_largest_remainder_properties(units, weights, unit):
    total = units * unit
    parts = largest_remainder(total, weights, unit)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    clean = [max(w, D(0)) for w in weights]
    weight_sum = sum(clean)
    for part, weight in zip(parts, clean, strict=True):
        assert part % unit == 0
        assert part >= 0
        assert abs(Fraction(part) - exact_share(total, weight, weight_sum)) < Fraction(unit)
        if weight == 0:
            assert part == 0


@settings(max_examples=25)
@given(unit_counts, steps)
def test_a_thousand_members(units, unit):
    total = units * unit
    parts = equal_split(total, 1000, unit)
    assert len(parts) == 1000
    assert sum(parts) == total
    weights = [D(i % 7) for i in range(1000)]
    proportional = largest_remainder(total, weights, unit)
    assert sum(proportional) == total
    weight_sum = sum(weights)
    for part, weight in zip(proportional, weights, strict=True):
        assert abs(Fraction(part) - exact_share(total, weight, weight_sum)) < Fraction(unit)


@given(
    st.integers(min_value=0, max_value=10**6),
    st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=12),
)
def test_equal_weights_behave_like_equal_split(units, sizes):
    weights = [D(3)] * len(sizes)
    assert largest_remainder(D(units), weights, ONE) == equal_split(D(units), len(sizes), ONE)


# --- member distributions ---------------------------------------------------------------------


def test_distribute_equal_keeps_team_order_and_locks():
    result = distribute_equal(D("100"), ["a", "b", "c", "d"], ONE, locked={"b": D("40")})
    assert result.values == {"a": D(20), "b": D(40), "c": D(20), "d": D(20)}
    assert list(result.values) == ["a", "b", "c", "d"]
    assert not result.fell_back_to_equal


def test_distribute_equal_with_locks_above_the_aim_gives_the_others_zero():
    result = distribute_equal(D("10"), ["a", "b"], ONE, locked={"a": D("15")})
    assert result.values == {"a": D(15), "b": D(0)}


def test_distribute_proportional_and_its_fallback():
    members = ["a", "b", "c"]
    result = distribute_proportional(D("100"), members, {"a": D(1), "b": D(3)}, ONE)
    assert result.values == {"a": D(25), "b": D(75), "c": D(0)}
    assert not result.fell_back_to_equal

    fallback = distribute_proportional(D("100"), members, {}, ONE)
    assert fallback.values == {"a": D(34), "b": D(33), "c": D(33)}
    assert fallback.fell_back_to_equal


def test_distribute_proportional_spreads_the_rest_over_unlocked_members():
    result = distribute_proportional(
        D("100.00"),
        ["a", "b", "c"],
        {"a": D(1), "b": D(1), "c": D(50)},
        CENT,
        locked={"c": D("40.00")},
    )
    assert result.values == {"a": D("30.00"), "b": D("30.00"), "c": D("40.00")}


def test_distribute_copy():
    assert distribute_copy(["a", "b"], D("12.50")).values == {"a": D("12.50"), "b": D("12.50")}
