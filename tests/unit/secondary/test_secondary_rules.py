from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaodi.domain.errors import Conflict, InvalidInput
from biaodi.domain.secondary import (
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
