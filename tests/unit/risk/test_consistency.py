"""Data-consistency checks: pure functions from declared data to facts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from biaodi.domain.accounts.identity import make_resident_id
from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.risk import consistency as c
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

TODAY = date(2026, 11, 28)


def test_a_valid_id_number_gives_birth_date_age_and_province() -> None:
    number = make_resident_id("310101", date(1990, 11, 29), 7)
    facts = c.id_facts(number, TODAY)
    assert facts.valid and facts.birth_date == date(1990, 11, 29)
    assert facts.age_on(TODAY) == 35  # the birthday is tomorrow
    assert facts.province_code == "31" and facts.province == "上海"


@pytest.mark.parametrize("number", [
    "110101199003071234",  # wrong check digit
    "110101199002301238",  # 30 February
    "990101199003071234",  # no such province
    "11010119900307123",  # 17 characters
    "",
])
def test_malformed_id_numbers_are_facts_not_exceptions(number: str) -> None:
    facts = c.id_facts(number, TODAY)
    assert not facts.valid and facts.age_on(TODAY) is None and facts.province is None


def test_minors_are_still_read_so_that_a_rule_can_refuse_them() -> None:
    facts = c.id_facts(make_resident_id("110101", date(2010, 1, 1), 1), TODAY)
    assert facts.valid and facts.age_on(TODAY) == 16


@pytest.mark.parametrize(("declared", "code"), [
    ("北京", "11"), ("北京市", "11"), ("11", "11"), (" 广东省 ", "44"), ("内蒙古自治区", "15"),
    ("广西壮族自治区", "45"), ("新疆维吾尔自治区", "65"), ("宁夏回族自治区", "64"),
])
def test_declared_provinces_become_region_codes(declared: str, code: str) -> None:
    assert c.province_code(declared) == code


def test_an_unknown_province_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match="province-level division") as exc:
        c.province_code("Atlantis")
    assert exc.value.field == "province"


def test_age_at_maturity_counts_whole_years() -> None:
    birth = date(1961, 12, 15)
    assert c.age_at_maturity(birth, TODAY, 0) == 64  # the birthday is on 15 December
    assert c.age_at_maturity(birth, TODAY, 1) == 65
    assert c.age_at_maturity(birth, TODAY, 121) == 75
    assert c.age_at_maturity(date(1961, 11, 28), TODAY, 0) == 65


def test_bank_cards_luhn_and_masking() -> None:
    assert c.luhn_ok("4111111111111111")
    assert c.luhn_ok("79927398713") and not c.luhn_ok("79927398710")
    assert c.normalise_card("6222 0202 0011 2233") == "6222020200112233"
    assert c.mask_card("6222020200112233") == "6222********2233"
    with pytest.raises(InvalidInput, match="12 to 19 digits") as exc:
        c.normalise_card("1234-abcd")
    assert exc.value.field == "bank_card"


def test_unified_social_credit_codes() -> None:
    assert c.credit_code_ok("91350100M000100Y43")
    assert c.credit_code_ok("91110000600037341L")
    assert not c.credit_code_ok("91350100M000100Y44")  # check character
    assert not c.credit_code_ok("91350100M000100Y4")  # length
    assert not c.credit_code_ok("91350100M00O100Y43")  # O is not in the alphabet


def test_instalment_is_the_schedule_payment() -> None:
    amount, rate = Money.yuan(100000), Decimal("0.12")
    expected = build_schedule(amount, rate, 12, "month", "equal_installment", TODAY)[0].payment
    assert c.monthly_instalment(amount, rate, 12, TODAY) == expected == Money.yuan("8884.88")


def test_debt_to_income() -> None:
    ratio = c.debt_to_income(Money.yuan(3000), Money.yuan(1000), Money.yuan(10000))
    assert ratio == Decimal("0.4000")
    assert c.debt_to_income(Money.yuan(1), Money(0), Money(0)) == c.NO_INCOME_DTI


def test_loan_to_value() -> None:
    assert c.loan_to_value(Money.yuan(70), Money.yuan(100)) == Decimal("0.7000")
    assert c.loan_to_value(Money.yuan(70), None) is None
