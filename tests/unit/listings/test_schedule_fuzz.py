"""Malformed loan terms never crash `build_schedule`: it refuses naming the field, or returns a
schedule whose principal sums to the amount exactly, with no negative part."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.listings.daycount import DayCount
from biaodi.domain.listings.schedule import RepaymentMethod, TermUnit, build_schedule
from biaodi.domain.shared.money import Money
from fuzz_support import anything, huge_ints, odd_dates, odd_decimals, outcome

FUZZ = settings(max_examples=200, deadline=None)
amounts = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(Money),
    st.integers(min_value=-5, max_value=5).map(Money),
    anything,
)
rates = st.one_of(
    odd_decimals,
    st.integers(min_value=-10, max_value=1_000_000).map(lambda n: Decimal(n).scaleb(-6)),
    st.sampled_from([Decimal("1E-999999"), Decimal("1E-60"), Decimal("0.9999999999")]),
    anything,
)
terms = st.one_of(huge_ints, st.integers(min_value=-2, max_value=3700), anything)
units = st.one_of(st.sampled_from([*TermUnit, "MONTH", "", "月"]), anything)
methods = st.one_of(st.sampled_from([*RepaymentMethod, "Bullet", "\x00"]), anything)
day_counts = st.one_of(st.sampled_from(list(DayCount)), anything)
starts = st.one_of(odd_dates, anything)


@FUZZ
@given(amounts, rates, terms, units, methods, starts, day_counts)
@example(Money(100_00), Decimal("1E-999999"), 12, "month", "equal_installment",
         date(2026, 1, 31), DayCount.ACT_365)
@example(Money(100_00), Decimal("0.1"), 360, "month", "equal_installment", date.max,
         DayCount.ACT_365)
@example(Money(100_00), Decimal("0.1"), 2**70, "day", "bullet", date(2026, 1, 1), "act/365")
@example(Money(100_00), Decimal("0.1"), 12, 10**5000, "bullet", date(2026, 1, 1),
         DayCount.ACT_365)  # a unit too long to quote in the refusal
def test_schedule_refused_or_exact(amount, rate, term, unit, method, start, day_count):
    rows, refusal = outcome(
        lambda: build_schedule(amount, rate, term, unit, method, start, day_count))
    if refusal is not None:
        assert refusal.field in {"amount", "annual_rate", "term", "term_unit", "method",
                                 "start", "day_count"}
        return
    assert rows
    assert sum(row.principal.fen for row in rows) == amount.fen
    assert all(row.principal.fen >= 0 and row.interest.fen >= 0 for row in rows)
    assert all(row.due_date > start for row in rows)
