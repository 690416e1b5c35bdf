"""Borrowing caps (cn-2016 art. 17): the arithmetic, by borrower type, with the rule named."""

from __future__ import annotations

import pytest

from biaodi.domain.listings.borrowing import (
    BorrowerStanding,
    check_borrowing_caps,
    check_credit_limit,
)
from biaodi.domain.shared.compliance import CN_2016, PERMISSIVE, ComplianceViolation
from biaodi.domain.shared.money import Money

NATURAL = BorrowerStanding()
LEGAL = BorrowerStanding(borrower_type="legal", source="risk application 7")


def test_a_natural_person_may_owe_200000_on_the_platform() -> None:
    check_borrowing_caps(CN_2016, NATURAL, outstanding=Money.yuan(150_000),
                         amount=Money.yuan(50_000))
    with pytest.raises(ComplianceViolation) as info:
        check_borrowing_caps(CN_2016, NATURAL, outstanding=Money.yuan(150_000),
                             amount=Money(5_000_001))
    error = info.value
    assert error.rule_id == "cn2016.borrowing_caps" and error.field == "amount"
    assert ("a natural person may owe at most 200000.00 on this platform: outstanding"
            " 150000.00, headroom 50000.00, this listing 50000.01") in error.message


def test_a_legal_person_may_owe_1000000_and_unknown_types_count_as_natural() -> None:
    check_borrowing_caps(CN_2016, LEGAL, outstanding=Money.yuan(900_000),
                         amount=Money.yuan(100_000))
    with pytest.raises(ComplianceViolation, match="legal person or other organisation"):
        check_borrowing_caps(CN_2016, LEGAL, outstanding=Money.yuan(900_000),
                             amount=Money.yuan(100_001))
    odd = BorrowerStanding(borrower_type="unknown")
    with pytest.raises(ComplianceViolation, match=r"natural person may owe at most 200000\.00"):
        check_borrowing_caps(CN_2016, odd, outstanding=Money.zero(), amount=Money.yuan(200_001))


def test_borrowings_elsewhere_count_toward_the_all_platforms_cap() -> None:
    owes = BorrowerStanding(other_platforms=Money.yuan(850_000), source="risk application 3")
    check_borrowing_caps(CN_2016, owes, outstanding=Money.yuan(100_000),
                         amount=Money.yuan(50_000))
    with pytest.raises(ComplianceViolation) as info:
        check_borrowing_caps(CN_2016, owes, outstanding=Money.yuan(100_000),
                             amount=Money.yuan(60_000))
    assert ("at most 1000000.00 on all lending platforms together: outstanding 950000.00"
            " (100000.00 here, 850000.00 elsewhere per risk application 3), headroom 50000.00"
            ) in info.value.message
    company = BorrowerStanding("legal", Money.yuan(4_500_000))
    check_borrowing_caps(CN_2016, company, outstanding=Money.zero(), amount=Money.yuan(500_000))
    with pytest.raises(ComplianceViolation, match=r"at most 5000000\.00 on all lending"):
        check_borrowing_caps(CN_2016, company, outstanding=Money.zero(),
                             amount=Money.yuan(500_001))


def test_the_permissive_profile_has_no_borrowing_caps() -> None:
    check_borrowing_caps(PERMISSIVE, NATURAL, outstanding=Money.yuan(5_000_000),
                         amount=Money.yuan(5_000_000))
    check_credit_limit(PERMISSIVE, "natural", Money.yuan(5_000_000))


def test_a_credit_limit_never_exceeds_the_platform_cap() -> None:
    check_credit_limit(CN_2016, "natural", Money.yuan(200_000))
    with pytest.raises(ComplianceViolation) as info:
        check_credit_limit(CN_2016, "natural", Money.yuan(300_000))
    assert info.value.field == "limit" and info.value.rule_id == "cn2016.borrowing_caps"
    assert "300000.00 exceeds the 200000.00" in info.value.message
    check_credit_limit(CN_2016, "legal", Money.yuan(1_000_000))
