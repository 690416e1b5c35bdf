"""Repayment schedules: golden values and small cases checked by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from biaodi.domain.listings.daycount import DayCount, accrual_days, add_months
from biaodi.domain.listings.schedule import (
    Instalment,
    RepaymentMethod,
    TermUnit,
    accrued_interest,
    build_schedule,
)
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

M = TermUnit.MONTH
D = TermUnit.DAY
EI = RepaymentMethod.EQUAL_INSTALLMENT
EP = RepaymentMethod.EQUAL_PRINCIPAL
IF = RepaymentMethod.INTEREST_FIRST
BULLET = RepaymentMethod.BULLET


def y(text: str) -> Money:
    return Money.parse(text, allow_zero=True)


def amounts(row: Instalment) -> tuple[str, str, str, str]:
    return (str(row.principal), str(row.interest), str(row.payment), str(row.balance))


# --- golden values ------------------------------------------------------------------------


def test_equal_installment_golden_100k_12pc_12_months() -> None:
    rows = build_schedule(y("100000"), Decimal("0.12"), 12, M, EI, date(2026, 1, 15))
    assert len(rows) == 12
    assert {str(r.payment) for r in rows[:-1]} == {"8884.88"}
    assert amounts(rows[0]) == ("7884.88", "1000.00", "8884.88", "92115.12")
    assert amounts(rows[1]) == ("7963.73", "921.15", "8884.88", "84151.39")
    assert amounts(rows[10]) == ("8709.81", "175.07", "8884.88", "8796.88")
    # the last repays what is left (8796.88) plus 1 % of it: the residue lands here
    assert amounts(rows[11]) == ("8796.88", "87.97", "8884.85", "0.00")
    assert sum((r.interest for r in rows), Money(0)) == y("6618.53")
    assert [r.seq for r in rows] == list(range(1, 13))
    assert rows[0].due_date == date(2026, 2, 15) and rows[-1].due_date == date(2027, 1, 15)


def test_equal_installment_golden_200k_7_5pc_180_months() -> None:
    rows = build_schedule(y("200000"), Decimal("0.075"), 180, M, EI, date(2026, 3, 1))
    assert len(rows) == 180
    assert {str(r.payment) for r in rows[:-1]} == {"1854.02"}
    # 200,000.00 × 0.075 / 12 = 1,250.00 exactly
    assert amounts(rows[0]) == ("604.02", "1250.00", "1854.02", "199395.98")
    assert rows[-1].balance == Money(0)
    assert sum((r.principal for r in rows), Money(0)) == y("200000")


# --- each method, small cases by hand ------------------------------------------------------


def test_equal_principal_by_hand() -> None:
    rows = build_schedule(y("100000"), Decimal("0.12"), 3, M, EP, date(2026, 1, 15))
    assert [amounts(r) for r in rows] == [
        ("33333.33", "1000.00", "34333.33", "66666.67"),
        ("33333.33", "666.67", "34000.00", "33333.34"),  # 666.6667 → 666.67
        ("33333.34", "333.33", "33666.67", "0.00"),  # last takes the odd fen
    ]


def test_interest_first_by_hand() -> None:
    rows = build_schedule(y("50000"), Decimal("0.096"), 3, M, IF, date(2026, 1, 15))
    assert [amounts(r) for r in rows] == [
        ("0.00", "400.00", "400.00", "50000.00"),
        ("0.00", "400.00", "400.00", "50000.00"),
        ("50000.00", "400.00", "50400.00", "0.00"),
    ]


def test_bullet_on_a_month_term_is_one_instalment_at_maturity() -> None:
    rows = build_schedule(y("10000"), Decimal("0.12"), 6, M, BULLET, date(2026, 1, 31))
    assert len(rows) == 1
    assert rows[0].seq == 1 and rows[0].due_date == date(2026, 7, 31)
    assert amounts(rows[0]) == ("10000.00", "600.00", "10600.00", "0.00")


def test_bullet_on_a_day_term_act_365() -> None:
    rows = build_schedule(y("5000"), Decimal("0.10"), 14, D, BULLET, date(2026, 3, 1))
    # 5,000.00 × 0.10 × 14 / 365 = 19.178… → 19.18
    assert [(r.due_date, amounts(r)) for r in rows] == [
        (date(2026, 3, 15), ("5000.00", "19.18", "5019.18", "0.00"))
    ]


def test_day_term_act_365_versus_30_360() -> None:
    start = date(2026, 1, 31)  # + 30 days = 2 March; 30/360 counts 32 days (Jan 31 as 30th)
    act = build_schedule(y("10000"), Decimal("0.12"), 30, D, BULLET, start)
    thirty = build_schedule(
        y("10000"), Decimal("0.12"), 30, D, BULLET, start, day_count=DayCount.THIRTY_360
    )
    assert act[0].due_date == thirty[0].due_date == date(2026, 3, 2)
    assert act[0].interest == y("98.63")  # 10,000 × 0.12 × 30/365 = 98.630…
    assert thirty[0].interest == y("106.67")  # 10,000 × 0.12 × 32/360 = 106.666…
    assert thirty[0].payment == y("10106.67")


def test_day_term_uses_the_calendar_not_months() -> None:
    rows = build_schedule(y("1000"), Decimal("0.073"), 180, D, BULLET, date(2028, 1, 1))
    assert rows[0].due_date == date(2028, 6, 29)  # leap year: 180 days on
    assert rows[0].interest == y("36.00")  # 1,000 × 0.073 × 180/365 = 36.00 exactly


# --- due dates ------------------------------------------------------------------------------


def test_jan_31_clamps_to_month_end_and_recovers() -> None:
    rows = build_schedule(y("12000"), Decimal("0.12"), 4, M, EP, date(2027, 1, 31))
    assert [r.due_date for r in rows] == [
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]


def test_jan_31_in_a_leap_year_falls_on_feb_29() -> None:
    rows = build_schedule(y("12000"), Decimal("0.12"), 13, M, EI, date(2028, 1, 31))
    dues = [r.due_date for r in rows]
    assert dues[:3] == [date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]
    assert dues[12] == date(2029, 2, 28)


def test_add_months_counts_from_the_start() -> None:
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2028, 2, 29), 48) == date(2032, 2, 29)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 1, 15), 0) == date(2026, 1, 15)


def test_month_interest_ignores_month_length() -> None:
    rows = build_schedule(y("10000"), Decimal("0.12"), 2, M, IF, date(2026, 1, 31))
    assert [r.interest for r in rows] == [y("100"), y("100")]  # February and March alike


# --- rounding and residues --------------------------------------------------------------------


def test_zero_rate_equal_installment_is_amount_over_term() -> None:
    rows = build_schedule(y("1000"), Decimal("0"), 3, M, EI, date(2026, 1, 15))
    assert [amounts(r) for r in rows] == [
        ("333.33", "0.00", "333.33", "666.67"),
        ("333.33", "0.00", "333.33", "333.34"),
        ("333.34", "0.00", "333.34", "0.00"),
    ]


def test_zero_rate_level_rounds_down_when_half_up_would_overpay() -> None:
    # 100.00 / 360 = 0.2777…: 0.28 × 359 = 100.52 would repay the loan early, so 0.27 it is
    for method in (EI, EP):
        rows = build_schedule(y("100"), Decimal("0"), 360, M, method, date(2026, 1, 15))
        assert {r.payment for r in rows[:-1]} == {y("0.27")}
        assert rows[-1].principal == y("3.07")  # 100.00 − 359 × 0.27
        assert all(r.balance > Money(0) for r in rows[:-1])


def test_small_long_loan_keeps_a_positive_balance() -> None:
    # exact payment 10.2861…: 10.29 would clear the loan before month 360, so 10.28 is used
    rows = build_schedule(y("1000"), Decimal("0.12"), 360, M, EI, date(2026, 1, 15))
    assert {r.payment for r in rows[:-1]} == {y("10.28")}
    assert all(r.balance > Money(0) and r.principal >= Money(0) for r in rows[:-1])
    assert amounts(rows[-1]) == ("31.16", "0.31", "31.47", "0.00")


def test_ill_conditioned_loan_degrades_to_interest_only_not_negative() -> None:
    # 187.12 at 35.11 % over 241 months: exact payment 5.4800…, but 5.48 clears the loan
    # early and 5.47 is exactly the monthly interest: no principal moves until maturity.
    rows = build_schedule(y("187.12"), Decimal("0.3511"), 241, M, EI, date(2026, 1, 15))
    assert {amounts(r) for r in rows[:-1]} == {("0.00", "5.47", "5.47", "187.12")}
    assert amounts(rows[-1]) == ("187.12", "5.47", "192.59", "0.00")


def test_accrued_interest_rounds_half_up() -> None:
    one_day = (date(2026, 1, 1), date(2026, 1, 2))
    assert accrued_interest(Money(1825), Decimal("0.1"), *one_day) == Money(1)  # 0.5 fen
    assert accrued_interest(Money(1824), Decimal("0.1"), *one_day) == Money(0)  # 0.4997
    assert accrued_interest(Money(1800), Decimal("0.1"), *one_day, DayCount.THIRTY_360) == Money(1)
    assert accrued_interest(Money(0), Decimal("0.1"), *one_day) == Money(0)
    assert accrued_interest(y("10000"), Decimal("0.12"), date(2026, 5, 5), date(2026, 5, 5)) == (
        Money(0)
    )


def test_accrued_interest_broken_period() -> None:
    # 80,000.00 at 9 % from 15 Jan to 3 Mar 2026: 47 actual days, 48 days by 30/360
    start, end = date(2026, 1, 15), date(2026, 3, 3)
    assert accrued_interest(y("80000"), Decimal("0.09"), start, end) == y("927.12")
    assert accrued_interest(y("80000"), Decimal("0.09"), start, end, DayCount.THIRTY_360) == y(
        "960.00"
    )


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 1, 15), date(2026, 3, 3), 48),
        (date(2026, 1, 31), date(2026, 2, 28), 28),
        (date(2026, 1, 31), date(2026, 3, 31), 60),  # both 31sts count as 30ths
        (date(2026, 3, 30), date(2026, 3, 31), 0),
        (date(2026, 3, 29), date(2026, 3, 31), 2),  # end on the 31st kept: start before 30th
        (date(2026, 2, 28), date(2026, 3, 1), 3),
        (date(2025, 12, 15), date(2026, 12, 15), 360),
    ],
)
def test_30_360_day_count(start: date, end: date, days: int) -> None:
    assert accrual_days(start, end, DayCount.THIRTY_360) == days


def test_act_365_day_count_and_basis() -> None:
    assert accrual_days(date(2028, 2, 1), date(2028, 3, 1), DayCount.ACT_365) == 29
    assert DayCount.ACT_365.basis == 365 and DayCount.THIRTY_360.basis == 360


def test_strings_are_accepted_for_enums() -> None:
    by_enum = build_schedule(y("5000"), Decimal("0.1"), 6, M, EP, date(2026, 1, 15))
    by_text = build_schedule(
        y("5000"), Decimal("0.1"), 6, "month", "equal_principal", date(2026, 1, 15), "act365"
    )  # type: ignore[arg-type]
    assert by_enum == by_text


# --- validation -----------------------------------------------------------------------------

GOOD: dict[str, object] = {
    "amount": y("10000"),
    "annual_rate": Decimal("0.12"),
    "term": 12,
    "term_unit": M,
    "method": EI,
    "start": date(2026, 1, 15),
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": Money(0)}, "amount"),
        ({"amount": Money(-100)}, "amount"),
        ({"amount": 10000}, "amount"),
        ({"annual_rate": Decimal("-0.01")}, "annual_rate"),
        ({"annual_rate": Decimal("1")}, "annual_rate"),
        ({"annual_rate": Decimal("NaN")}, "annual_rate"),
        ({"annual_rate": 0.12}, "annual_rate"),
        ({"term": 0}, "term"),
        ({"term": 361}, "term"),
        ({"term": True}, "term"),
        ({"term": 12.0}, "term"),
        ({"term": 3651, "term_unit": D, "method": BULLET}, "term"),
        ({"term_unit": "week"}, "term_unit"),
        ({"method": "balloon"}, "method"),
        ({"term": 30, "term_unit": D}, "method"),
        ({"term": 30, "term_unit": D, "method": EP}, "method"),
        ({"term": 30, "term_unit": D, "method": IF}, "method"),
        ({"day_count": "act/360"}, "day_count"),
        ({"start": datetime(2026, 1, 15, 10, 0)}, "start"),
        ({"start": "2026-01-15"}, "start"),
        ({"start": date(9999, 6, 1)}, "start"),
    ],
)
def test_invalid_input_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_schedule(**{**GOOD, **changes})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_limits_are_inclusive() -> None:
    assert len(build_schedule(**{**GOOD, "term": 360})) == 360  # type: ignore[arg-type]
    assert len(build_schedule(**{**GOOD, "term": 1})) == 1  # type: ignore[arg-type]
    rows = build_schedule(**{**GOOD, "term": 3650, "term_unit": D, "method": BULLET})  # type: ignore[arg-type]
    assert rows[0].due_date == date(2036, 1, 13)  # 10 years less 2 leap days
    assert build_schedule(**{**GOOD, "annual_rate": Decimal("0.9999")})  # type: ignore[arg-type]


def test_accrued_interest_validation() -> None:
    with pytest.raises(InvalidInput) as caught:
        accrued_interest(y("100"), Decimal("0.1"), date(2026, 2, 1), date(2026, 1, 31))
    assert caught.value.field == "end"
    with pytest.raises(InvalidInput) as caught:
        accrued_interest(Money(-1), Decimal("0.1"), date(2026, 1, 1), date(2026, 1, 31))
    assert caught.value.field == "principal"
    with pytest.raises(InvalidInput) as caught:
        accrued_interest(y("100"), Decimal("1.5"), date(2026, 1, 1), date(2026, 1, 31))
    assert caught.value.field == "annual_rate"
