"""Property tests: every schedule, for every method, keeps its invariants exactly.

The oracle here is independent of the implementation: exact `Fraction` arithmetic, with
half-up rounding as floor(x + ½) on non-negative values.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.listings.daycount import DayCount
from biaodi.domain.listings.schedule import (
    Instalment,
    RepaymentMethod,
    TermUnit,
    accrued_interest,
    build_schedule,
)
from biaodi.domain.shared.money import Money

amounts_fen = st.integers(min_value=100_00, max_value=10_000_000_00)  # 100.00 – 10,000,000.00
rates = st.integers(min_value=0, max_value=360_000).map(lambda n: Decimal(n).scaleb(-6))
months = st.integers(min_value=1, max_value=360)
days = st.integers(min_value=7, max_value=365)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
day_counts = st.sampled_from(list(DayCount))


def examples(count: int) -> settings:
    """Thousands of loans in all, sized so that this file runs in well under 20 s."""
    return settings(max_examples=count, deadline=None)


def half_up(value: Fraction) -> int:
    assert value >= 0
    return math.floor(value + Fraction(1, 2))


def monthly_interest(balance: int, rate: Decimal) -> int:
    return monthly(rate)(balance)


def monthly(rate: Decimal) -> Callable[[int], int]:
    """balance ↦ half_up(balance × rate ÷ 12), in integers (fast enough for every row)."""
    fraction = Fraction(rate) / 12
    p, q = fraction.numerator, fraction.denominator
    return lambda balance: (2 * balance * p + q) // (2 * q)


def exact_annuity(fen: int, rate: Decimal, n: int) -> Fraction:
    if rate == 0:
        return Fraction(fen, n)
    r = Fraction(rate) / 12
    growth = (1 + r) ** n
    return fen * r * growth / (growth - 1)


def clears_early(fen: int, rate: Decimal, n: int, payment: int) -> bool:
    """Would this level payment bring the balance to zero or below before instalment n?"""
    balance = fen
    interest_on = monthly(rate)
    for _ in range(n - 1):
        balance -= payment - interest_on(balance)
        if balance <= 0:
            return True
    return False


def assert_invariants(
    rows: list[Instalment], fen: int, interest_for: Callable[[int], int], start: date, count: int
) -> None:
    """Invariants every schedule keeps; `interest_for(balance)` is the oracle's interest."""
    assert len(rows) == count
    assert [r.seq for r in rows] == list(range(1, count + 1))
    assert sum(r.principal.fen for r in rows) == fen
    balance = fen
    for index, row in enumerate(rows):
        assert row.payment == row.principal + row.interest
        assert row.principal.fen >= 0 and row.interest.fen >= 0
        assert row.interest.fen == interest_for(balance)
        balance -= row.principal.fen
        assert row.balance.fen == balance
        if index < count - 1:
            assert balance > 0
        assert row.due_date > start
    assert rows[-1].balance == Money(0)
    assert [r.due_date for r in rows] == sorted({r.due_date for r in rows})


def assert_month_due_dates(rows: list[Instalment], start: date, first_k: int = 1) -> None:
    for k, row in enumerate(rows, first_k):
        due = row.due_date
        assert (due.year - start.year) * 12 + due.month - start.month == k
        last_day = calendar.monthrange(due.year, due.month)[1]
        assert due.day == min(start.day, last_day)


@examples(1500)
@given(amounts_fen, rates, months, starts)
@example(100_00, Decimal("0"), 360, date(2026, 1, 31))  # half-up 0.28 would overpay
@example(1000_00, Decimal("0.12"), 360, date(2026, 1, 31))
@example(187_12, Decimal("0.3511"), 241, date(2028, 1, 31))  # degrades to interest-only
@example(10_000_000_00, Decimal("0.36"), 360, date(2028, 2, 29))
@example(100_00, Decimal("0.36"), 1, date(2026, 12, 31))
def test_equal_installment(fen: int, rate: Decimal, n: int, start: date) -> None:
    check_equal_installment(fen, rate, n, start)


@examples(500)
@given(
    st.integers(min_value=100_00, max_value=5_000_00),
    st.integers(min_value=150_000, max_value=360_000).map(lambda n: Decimal(n).scaleb(-6)),
    st.integers(min_value=120, max_value=360),
    starts,
)
def test_equal_installment_small_long_loans(fen: int, rate: Decimal, n: int, start: date) -> None:
    """Where fen rounding bites hardest: small amounts, high rates, long terms."""
    check_equal_installment(fen, rate, n, start)


def check_equal_installment(fen: int, rate: Decimal, n: int, start: date) -> None:
    rows = build_schedule(
        Money(fen), rate, n, TermUnit.MONTH, RepaymentMethod.EQUAL_INSTALLMENT, start
    )
    assert_invariants(rows, fen, monthly(rate), start, n)
    assert_month_due_dates(rows, start)
    level = {r.payment.fen for r in rows[:-1]}
    assert len(level) <= 1, "every instalment but the last pays the same payment"
    if level:
        payment = level.pop()
        rounded = half_up(exact_annuity(fen, rate, n))
        assert payment <= rounded
        if payment < rounded:  # lowered only as far as needed to keep a positive balance
            assert clears_early(fen, rate, n, payment + 1)


@examples(1000)
@given(amounts_fen, rates, months, starts)
@example(100_00, Decimal("0.12"), 360, date(2026, 1, 31))
def test_equal_principal(fen: int, rate: Decimal, n: int, start: date) -> None:
    rows = build_schedule(
        Money(fen), rate, n, TermUnit.MONTH, RepaymentMethod.EQUAL_PRINCIPAL, start
    )
    assert_invariants(rows, fen, monthly(rate), start, n)
    assert_month_due_dates(rows, start)
    level = {r.principal.fen for r in rows[:-1]}
    assert len(level) <= 1, "every instalment but the last repays the same principal"
    if level:
        part = level.pop()
        rounded = half_up(Fraction(fen, n))
        assert part in (rounded, rounded - 1)
        if part < rounded:  # the half-up part would have left nothing for the last
            assert rounded * (n - 1) >= fen


@examples(600)
@given(amounts_fen, rates, months, starts)
def test_interest_first(fen: int, rate: Decimal, n: int, start: date) -> None:
    rows = build_schedule(
        Money(fen), rate, n, TermUnit.MONTH, RepaymentMethod.INTEREST_FIRST, start
    )
    assert_invariants(rows, fen, monthly(rate), start, n)
    assert_month_due_dates(rows, start)
    assert all(r.principal == Money(0) for r in rows[:-1])
    assert rows[-1].principal == Money(fen)
    assert {r.interest.fen for r in rows} == {monthly_interest(fen, rate)}


@examples(600)
@given(amounts_fen, rates, months, starts)
def test_bullet_month_term(fen: int, rate: Decimal, n: int, start: date) -> None:
    rows = build_schedule(Money(fen), rate, n, TermUnit.MONTH, RepaymentMethod.BULLET, start)
    interest = half_up(Fraction(fen) * Fraction(rate) * n / 12)
    assert_invariants(rows, fen, lambda b: interest, start, 1)
    assert_month_due_dates(rows, start, first_k=n)


def days_30_360(start: date, end: date) -> int:
    d1 = 30 if start.day == 31 else start.day
    d2 = 30 if end.day == 31 and d1 >= 30 else end.day
    return (end.year - start.year) * 360 + (end.month - start.month) * 30 + d2 - d1


def day_interest(fen: int, rate: Decimal, start: date, end: date, convention: DayCount) -> int:
    if convention is DayCount.ACT_365:
        return half_up(Fraction(fen) * Fraction(rate) * (end - start).days / 365)
    return half_up(Fraction(fen) * Fraction(rate) * days_30_360(start, end) / 360)


@examples(1500)
@given(amounts_fen, rates, days, starts, day_counts)
def test_bullet_day_term(fen: int, rate: Decimal, n: int, start: date, dc: DayCount) -> None:
    rows = build_schedule(Money(fen), rate, n, TermUnit.DAY, RepaymentMethod.BULLET, start, dc)
    due = start + timedelta(days=n)
    interest = day_interest(fen, rate, start, due, dc)
    assert_invariants(rows, fen, lambda b: interest, start, 1)
    assert rows[0].due_date == due


@examples(1000)
@given(
    st.integers(min_value=0, max_value=10_000_000_00),
    rates,
    starts,
    st.integers(min_value=0, max_value=3650),
    day_counts,
)
def test_accrued_interest(fen: int, rate: Decimal, start: date, n: int, dc: DayCount) -> None:
    end = start + timedelta(days=n)
    assert accrued_interest(Money(fen), rate, start, end, dc).fen == day_interest(
        fen, rate, start, end, dc
    )
