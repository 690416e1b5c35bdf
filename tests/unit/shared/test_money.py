from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money, allocate_largest_remainder, round_half_up


@pytest.mark.parametrize(
    ("text", "fen"),
    [("100", 10000), ("100.5", 10050), ("100.50", 10050), ("0.01", 1), (" 7.25 ", 725)],
)
def test_parses_decimal_strings_with_at_most_two_decimals(text: str, fen: int) -> None:
    assert Money.parse(text).fen == fen


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (100.5, "floating-point"),
        ("1e3", "at most two decimals"),
        ("12.345", "at most two decimals"),
        ("NaN", "at most two decimals"),
        ("Infinity", "at most two decimals"),
        ("-5", "positive"),
        ("0", "greater than zero"),
        ("", "at most two decimals"),
        ("1,000", "at most two decimals"),
        ("0x10", "at most two decimals"),
        (True, "floating-point"),
    ],
)
def test_refuses_everything_else_naming_the_field(value: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Money.parse(value, field="deposit_amount")
    assert info.value.field == "deposit_amount"
    assert fragment in info.value.message
    assert "deposit_amount" in info.value.message


def test_ceiling_is_enforced() -> None:
    with pytest.raises(InvalidInput, match=r"must not exceed 1000\.00"):
        Money.parse("1000.01", ceiling_fen=100_000)
    assert Money.parse("1000.00", ceiling_fen=100_000).fen == 100_000


def test_money_refuses_floats_and_formats() -> None:
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(100).times_rate(0.1)  # type: ignore[arg-type]
    assert str(Money(-1205)) == "-12.05"
    assert Money(123456789).formatted() == "1,234,567.89"


def test_rounding_rule_is_half_up_away_from_zero() -> None:
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("-2.5")) == -3
    assert round_half_up(Decimal("2.4999")) == 2
    assert Money(333).times_rate(Decimal("0.015")) == Money(5)  # 4.995 → 5


amounts = st.integers(min_value=-(10**14), max_value=10**14)


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_roundtrips_its_own_output(fen: int) -> None:
    money = Money(fen)
    assert Money.parse(str(money), allow_zero=True, ceiling_fen=None) == money


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_parse_matches_decimal_arithmetic(value: Decimal) -> None:
    text = format(value, "f")
    assert Money.parse(text, positive=False, ceiling_fen=None).fen == int(value * 100)


@given(amounts, amounts, amounts)
def test_addition_is_exact_associative_and_subtraction_inverts(a: int, b: int, c: int) -> None:
    x, y, z = Money(a), Money(b), Money(c)
    assert (x + y) + z == x + (y + z)
    assert (x + y) - y == x
    assert x + y == y + x
    assert (x * 3).fen == 3 * a


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=50).filter(any),
)
def test_largest_remainder_allocation_is_exact_and_fair(total: int, weights: list[int]) -> None:
    parts = allocate_largest_remainder(total, weights)
    assert sum(parts) == total
    denominator = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / denominator
        assert abs(Decimal(part) - exact) < 1
