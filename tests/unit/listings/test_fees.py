"""Fees as yearly rates on the principal owed, charged with each instalment, and the all-in
cost (IRR of the borrower's cash flows) the cost cap checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from biaodi.domain.listings.cost import check_listing_cost_cap, listing_all_in_cost
from biaodi.domain.listings.fees import all_in_cost, fee_schedule
from biaodi.domain.listings.policy import ListingTerms
from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.shared.compliance import CN_2016, PERMISSIVE, ComplianceViolation
from biaodi.domain.shared.money import Money

START = date(2026, 12, 1)


def costs(amount: str, rate: str, term: int, unit: str, method: str, service: str,
          guarantee: str = "0") -> tuple[list, list, Decimal]:
    schedule = build_schedule(Money.yuan(amount), Decimal(rate), term, unit, method, START)
    fees = fee_schedule(schedule, Money.yuan(amount), Decimal(service), Decimal(guarantee),
                        term, unit, method)
    return schedule, fees, all_in_cost(Money.yuan(amount), schedule, fees, term, unit, method)


def test_each_instalment_carries_its_fee_on_the_balance_still_owed() -> None:
    schedule, fees, _ = costs("120000", "0.12", 12, "month", "equal_principal", "0.01", "0.02")
    assert [str(f.service) for f in fees[:3]] == ["100.00", "91.67", "83.33"]  # 1 % ÷ 12
    assert [str(f.guarantee) for f in fees[:2]] == ["200.00", "183.33"]
    assert str(fees[-1].service) == "8.33"  # the last month's 10,000.00 owed
    assert sum(r.principal.fen for r in schedule) == 12_000_000  # fees never touch principal


def test_all_in_cost_is_the_rate_when_there_are_no_fees() -> None:
    assert costs("100000", "0.12", 12, "month", "equal_installment", "0")[2] == Decimal("0.12")


def test_yearly_fees_add_to_the_cost_whatever_the_term() -> None:
    # A 1 % yearly fee costs about 1 % a year on a 3-month and on a 12-month loan alike,
    # where the old one-off 1 % fee cost 4 % a year over 3 months.
    _, _, short = costs("20000", "0.09", 3, "month", "equal_installment", "0.01")
    _, _, long = costs("20000", "0.09", 12, "month", "equal_installment", "0.01")
    assert Decimal("0.0999") < short <= Decimal("0.1001")
    assert Decimal("0.0999") < long <= Decimal("0.1001")


def test_a_fourteen_day_art_loan_fits_under_the_cap() -> None:
    schedule, fees, cost = costs("100", "0.08", 14, "day", "bullet", "0")
    assert str(schedule[0].interest) == "0.31" and fees[0].total == Money(0)
    assert cost == Decimal("0.080822")  # 0.31 yuan on 100 yuan for 14 days, rounded up
    terms = ListingTerms(Money.yuan(100), Decimal("0.12"), 14, "day", "bullet")
    all_in = listing_all_in_cost(terms, Decimal(0), Decimal(0), START)
    check_listing_cost_cap(all_in, CN_2016, START, 30_000)


def test_the_cap_checks_interest_and_fees_together() -> None:
    terms = ListingTerms(Money.yuan(10_000), Decimal("0.115"), 12, "month", "equal_installment")
    within = listing_all_in_cost(terms, Decimal("0.005"), Decimal(0), START)
    check_listing_cost_cap(within, CN_2016, START, 30_000)  # 11.5 % + 0.5 % = 12 %
    over = listing_all_in_cost(terms, Decimal("0.005"), Decimal("0.01"), START)
    with pytest.raises(ComplianceViolation) as refused:
        check_listing_cost_cap(over, CN_2016, START, 30_000)
    assert refused.value.rule_id == "cn2020.cost_cap_4x_lpr"


def test_service_fees_by_type_and_term_band() -> None:
    assert CN_2016.service_fee_rate("collateral", 14, "day") == 0
    assert CN_2016.service_fee_rate("credit", 6, "month") == 0
    assert CN_2016.service_fee_rate("credit", 12, "month") == Decimal("0.005")
    assert CN_2016.service_fee_rate("credit", 36, "month") == Decimal("0.01")
    assert PERMISSIVE.service_fee_rate("instant", 1, "day") == 0
