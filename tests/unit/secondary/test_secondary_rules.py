from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaodi.domain.secondary.valuation import (
    SaleRules,
    Share,
    accrued_interest,
    asking_price,
    check_yield,
    fair_value,
    part_price,
    split_shares,
    transfer_fee,
    yield_to_maturity,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput

SHARES = [Share(1, date(2026, 2, 15), 0, 1_000), Share(2, date(2026, 3, 15), 100_000, 1_000)]


def test_accrued_interest_is_pro_rata_in_the_current_period() -> None:
    # 31 days from Jan 15 to Feb 15; 10 days elapsed → 1000 × 10 / 31 = 322.58 → 323
    assert accrued_interest(SHARES, date(2026, 1, 15), date(2026, 1, 25)) == 323
    assert accrued_interest(SHARES, date(2026, 1, 15), date(2026, 1, 15)) == 0
    assert fair_value(100_000, SHARES, date(2026, 1, 15), date(2026, 1, 25)) == 100_323


def test_price_guardrails() -> None:
    rules = SaleRules()
    assert asking_price(100_000, Decimal("0.05"), rules) == 105_000
    assert asking_price(100_001, Decimal("-0.015"), rules) == 98_501  # 98500.985 → 98501
    with pytest.raises(InvalidInput, match=r"premium may be at most 5\.00"):
        asking_price(100_000, Decimal("0.0501"), rules)
    with pytest.raises(InvalidInput, match=r"discount may be at most 20\.00"):
        asking_price(100_000, Decimal("-0.21"), rules)
    assert part_price(105_000, 30_000, 100_000) == 31_500
    assert transfer_fee(105_000, rules) == 525


def test_yield_to_maturity_matches_a_known_bond() -> None:
    # 1 year zero-coupon: pay 100,000, receive 110,000 in 365 days → 10 %
    one = [Share(1, date(2027, 1, 1), 100_000, 10_000)]
    assert yield_to_maturity(100_000, date(2026, 1, 1), one) == Decimal("0.100000")
    # With a 5 % expected loss the same price yields (1.1 × 0.95) − 1 = 4.5 %
    assert yield_to_maturity(100_000, date(2026, 1, 1), one, Decimal("0.05")) == \
        Decimal("0.045000")
    with pytest.raises(Conflict, match="may not be negative"):
        check_yield(yield_to_maturity(120_000, date(2026, 1, 1), one))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 500_000), st.integers(0, 50_000)), min_size=1,
             max_size=36),
    st.data(),
)
def test_split_is_exact_both_ways(parts: list[tuple[int, int]], data: st.DataObject) -> None:
    shares = [Share(k + 1, date(2026, 1, 1), p, i) for k, (p, i) in enumerate(parts)]
    total = sum(p for p, _ in parts)
    if total == 0:
        return
    sold = data.draw(st.integers(1, total))
    seller, buyer = split_shares(shares, total - sold, sold)
    assert sum(s.principal for s in buyer) == sold
    assert sum(s.principal for s in seller) == total - sold
    for original, a, b in zip(shares, seller or [Share(0, date.min, 0, 0)] * len(shares),
                              buyer, strict=True):
        assert a.principal + b.principal == original.principal
        assert a.interest + b.interest == original.interest
        assert min(a.principal, b.principal, a.interest, b.interest) >= 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 400), st.integers(0, 500_000), st.integers(0, 50_000)),
             min_size=1, max_size=36),
    st.integers(50, 150),
    st.integers(0, 300),
)
def test_the_yield_is_the_rate_that_prices_the_cash_flows(
        flows: list[tuple[int, int, int]], price_pct: int, loss_bp: int) -> None:
    """At the yield returned (six decimals), the loss-adjusted present value of the flows
    brackets the price: a hair lower rate values them above it, a hair higher below."""
    on = date(2026, 1, 1)
    shares, day = [], on
    for seq, (gap, principal, interest) in enumerate(flows, start=1):
        day = date.fromordinal(day.toordinal() + gap)
        shares.append(Share(seq, day, principal, interest))
    total = sum(p + i for _, p, i in flows)
    if total == 0:
        return
    price = max(1, total * price_pct // 100)
    loss = Decimal(loss_bp) / 10_000
    found = yield_to_maturity(price, on, shares, loss)

    def present_value(rate: Decimal) -> Decimal:
        return sum((Decimal(s.principal + s.interest)
                    * ((1 - loss) / (1 + rate)) ** (Decimal((s.due_date - on).days) / 365)
                    for s in shares), Decimal(0))

    if found <= Decimal("-0.99") or found >= Decimal("10"):
        return  # outside the bracket the platform quotes (e.g. a price far above the flows)
    assert present_value(found - Decimal("0.000001")) >= price >= \
        present_value(found + Decimal("0.000001"))
