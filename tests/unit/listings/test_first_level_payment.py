"""`first_level_payment` is the first row's payment of the equal-instalment schedule, always:
the shortcut a risk decision takes must never differ from the schedule the loan gets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.listings.schedule import build_schedule, first_level_payment
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

START = date(2026, 11, 28)


@settings(max_examples=300, deadline=None)
@given(fen=st.integers(min_value=1, max_value=10_000_000_00),
       rate=st.integers(min_value=0, max_value=999_999).map(lambda n: Decimal(n).scaleb(-6)),
       months=st.integers(min_value=1, max_value=360))
@example(fen=1, rate=Decimal("0.999999"), months=360)  # a level that must be searched for
@example(fen=100_000_00, rate=Decimal("0.12"), months=12)  # 8,884.88 a month
def test_the_first_payment_is_the_schedules(fen: int, rate: Decimal, months: int) -> None:
    expected = build_schedule(Money(fen), rate, months, "month", "equal_installment",
                              START)[0].payment
    assert first_level_payment(Money(fen), rate, months, START) == expected


def test_the_golden_value_and_the_same_refusals() -> None:
    assert first_level_payment(Money.yuan(100_000), Decimal("0.12"), 12, START) == \
        Money.parse("8884.88")
    with pytest.raises(InvalidInput) as info:
        first_level_payment(Money(0), Decimal("0.1"), 12, START)
    assert info.value.field == "amount"
    with pytest.raises(InvalidInput) as info:
        first_level_payment(Money(100), Decimal("0.1"), 361, START)
    assert info.value.field == "term"
