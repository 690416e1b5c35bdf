"""Malformed secondary-market inputs (premium, price, dates, loss rate) are refused naming the
field; an accepted asking price stays within the guardrails."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.secondary.valuation import (
    SaleRules,
    Share,
    asking_price,
    fair_value,
    yield_to_maturity,
)
from fuzz_support import anything, huge_ints, odd_dates, odd_decimals, outcome

FUZZ = settings(max_examples=150, deadline=None)
RULES = SaleRules()
premiums = st.one_of(odd_decimals, st.integers(-300_000, 300_000).map(
    lambda n: Decimal(n).scaleb(-6)), anything)


@FUZZ
@given(st.integers(min_value=0, max_value=10**15), premiums)
@example(100_00, Decimal("NaN"))
@example(100_00, 0.01)
def test_asking_price_within_guardrails_or_refused(fair, premium):
    price, refusal = outcome(lambda: asking_price(fair, premium, RULES))
    if refusal is not None:
        assert refusal.field == "premium"
        return
    low = fair * (1 - RULES.max_discount) - 1
    high = fair * (1 + RULES.max_premium) + 1
    assert low <= price <= high


def _shares(start: date) -> list[Share]:
    try:
        return [Share(k, start + timedelta(days=30 * k), 100_00, 1_00) for k in range(1, 4)]
    except OverflowError:
        return []


@FUZZ
@given(huge_ints, st.dates(), odd_dates,  # shares' dates come from storage: plain dates
       st.one_of(odd_decimals, st.integers(0, 1000).map(lambda n: Decimal(n).scaleb(-3))))
@example(100_00, date(2026, 1, 1), date(2026, 1, 1), Decimal("NaN"))
@example(100_00, date(2026, 1, 1), date(2026, 1, 1), Decimal("-Infinity"))
@example(100_00, date(2026, 1, 1), datetime(2026, 1, 1, 12), Decimal(0))
@example(1, date(2000, 1, 1), date(1, 1, 1), Decimal("-1E+999999999"))
@example(1, date(2000, 1, 1), date(1, 1, 1), Decimal("1E+999999999"))
def test_yield_is_a_bounded_rate_or_refused(price, start, on, loss):
    shares = _shares(start)
    ytm, refusal = outcome(lambda: yield_to_maturity(price, on, shares, loss))
    if refusal is None:
        assert Decimal("-0.99") <= ytm <= Decimal("10")
    fair, refusal = outcome(lambda: fair_value(300_00, shares, start, on))
    assert refusal is not None or fair >= 300_00
