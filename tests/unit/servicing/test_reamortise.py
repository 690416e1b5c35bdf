"""Re-amortising after a part prepayment: exact, never negative, the right shape."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.servicing.reamortise import Row, first_period_interest, reamortise
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

START = date(2026, 1, 15)


def rest_of(amount: int, rate: str, term: int, method: str, after: int) -> list[Row]:
    rows = build_schedule(Money(amount), Decimal(rate), term, "month", method, START)
    return [Row(r.seq, r.due_date, r.principal.fen, r.interest.fen) for r in rows[after:]]


def test_lower_instalment_keeps_the_term() -> None:
    rest = rest_of(10_000_000, "0.12", 12, "equal_installment", 3)  # 9 left
    balance = sum(r.principal for r in rest)
    today = date(2026, 4, 30)  # half-way through period 4 (Apr 15 – May 15)
    new = reamortise(rest, 2_000_000, Decimal("0.12"), "equal_installment",
                     "lower_instalment", date(2026, 4, 15), today)
    assert [r.seq for r in new] == [r.seq for r in rest]
    assert [r.due_date for r in new] == [r.due_date for r in rest]
    assert sum(r.principal for r in new) == balance - 2_000_000
    assert new[0].interest == first_period_interest(rest[0].interest, balance,
                                                    balance - 2_000_000, date(2026, 4, 15),
                                                    today, rest[0].due_date)
    payments = [r.principal + r.interest for r in new[1:-1]]
    assert max(payments) - min(payments) <= 1  # level again
    assert payments[0] < rest[1].principal + rest[1].interest


def test_shorter_term_keeps_the_payment() -> None:
    rest = rest_of(10_000_000, "0.12", 12, "equal_installment", 3)
    level = rest[0].principal + rest[0].interest
    new = reamortise(rest, 3_000_000, Decimal("0.12"), "equal_installment", "shorter_term",
                     date(2026, 4, 15), date(2026, 4, 15))
    live = [r for r in new if r.principal + r.interest]
    assert len(live) < len(rest)
    assert all(r.principal + r.interest == level for r in live[:-1])
    assert sum(r.principal for r in new) == sum(r.principal for r in rest) - 3_000_000


def test_methods_that_repay_at_maturity_only_lower_interest() -> None:
    rest = rest_of(1_000_000, "0.10", 6, "interest_first", 2)
    new = reamortise(rest, 400_000, Decimal("0.10"), "interest_first", "lower_instalment",
                     date(2026, 3, 15), date(2026, 3, 15))
    assert [r.principal for r in new] == [0, 0, 0, 600_000]
    assert all(r.interest == 5_000 for r in new)  # 6,000.00 × 10 % ÷ 12
    with pytest.raises(InvalidInput) as info:
        reamortise(rest, 400_000, Decimal("0.10"), "interest_first", "shorter_term",
                   date(2026, 3, 15), date(2026, 3, 15))
    assert info.value.field == "reamortise"
    with pytest.raises(InvalidInput) as info:
        reamortise(rest, 1_000_000, Decimal("0.10"), "interest_first", "lower_instalment",
                   date(2026, 3, 15), date(2026, 3, 15))
    assert info.value.field == "principal"


@settings(max_examples=300, deadline=None)
@given(st.integers(10_000, 10**9), st.sampled_from(["0", "0.05", "0.12", "0.2399"]),
       st.integers(2, 60), st.sampled_from(["equal_installment", "equal_principal"]),
       st.sampled_from(["shorter_term", "lower_instalment"]), st.data())
def test_every_result_is_exact_and_non_negative(amount: int, rate: str, term: int,
                                                method: str, mode: str,
                                                data: st.DataObject) -> None:
    after = data.draw(st.integers(0, term - 1))
    rest = rest_of(amount, rate, term, method, after)
    balance = sum(r.principal for r in rest)
    if balance < 2:
        return
    prepaid = data.draw(st.integers(1, balance - 1))
    period_start = START if after == 0 else rest_of(amount, rate, term, method, after - 1)[0] \
        .due_date
    today = data.draw(st.dates(period_start, rest[0].due_date))
    new = reamortise(rest, prepaid, Decimal(rate), method, mode, period_start, today)
    assert sum(r.principal for r in new) == balance - prepaid
    assert all(r.principal >= 0 and r.interest >= 0 for r in new)
    assert len(new) == len(rest)
    running = balance - prepaid
    for row in new:
        running -= row.principal
        assert running >= 0
