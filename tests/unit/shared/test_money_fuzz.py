"""Malformed amounts never crash `Money.parse` / `Money.yuan`: a valid Money or `InvalidInput`
naming the field; a positive parse is never zero, negative or above the ceiling."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.shared.money import DEFAULT_CEILING_FEN, Money
from fuzz_support import anything, huge_ints, odd_decimals, outcome, texts

FUZZ = settings(max_examples=150, deadline=None)
values = st.one_of(anything, texts, huge_ints, odd_decimals)


@FUZZ
@given(values)
@example(10**5000)  # int too long for str(): was a bare ValueError
@example(Decimal("1E+999999999"))  # formatting it in full needed gigabytes
@example("１００")
@example("100\n")
def test_parse_refuses_or_returns_a_positive_amount_under_the_ceiling(value):
    money, refusal = outcome(lambda: Money.parse(value, field="price"))
    if refusal is not None:
        assert refusal.field == "price"
        return
    assert isinstance(money, Money)
    assert 0 < money.fen <= DEFAULT_CEILING_FEN
    assert not isinstance(value, float | bool)


@FUZZ
@given(values)
@example(-(10**5000))
@example(Decimal("-1E+999999999"))
def test_yuan_refuses_or_returns_money(value):
    money, refusal = outcome(lambda: Money.yuan(value))
    if refusal is None:
        assert isinstance(money, Money)
        assert not isinstance(value, float | bool)
