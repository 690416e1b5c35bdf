"""Risk control feeds listings: the grade and rate band at approval, the limit for 信用标,
and the blacklist screen right before disbursement."""

from __future__ import annotations

from decimal import Decimal

import pytest

from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings.lifecycle import CreateListing
from biaodi.services.risk import blacklist
from biaodi.services.shared.tx import in_transaction
from investing_support import approve as approve_listing
from investing_support import assert_books_balanced, balances, invest, investor, user
from risk_support import application, apply, env, register_borrower


def draft(platform: Platform, borrower: int, rate: str, amount: int = 10_000) -> int:
    cmd = CreateListing("credit", "经营贷", Money.yuan(amount), Decimal(rate), 12, "month",
                        "equal_installment")
    listing_id = in_transaction(platform.uow, lambda uow: listings.create_listing(
        uow, cmd, applicant_id=borrower, rules=platform.listing_rules)).id
    in_transaction(platform.uow, lambda uow: listings.submit(
        uow, listing_id, actor_id=borrower, rules=platform.listing_rules))
    return listing_id


def approve(platform: Platform, listing_id: int, operator: int):  # type: ignore[no-untyped-def]
    return in_transaction(platform.uow, lambda uow: listings.approve(
        uow, listing_id, actor_id=operator, reason="ok", rules=platform.listing_rules))


def test_grade_and_rate_band_come_from_the_risk_decision(platform: Platform) -> None:
    """The rate band is checked when the listing is created (formerly only at approval, after
    which an out-of-band listing stayed submitted for good)."""
    operator = user(platform, "operator")
    borrower, person = register_borrower(platform)
    decision = apply(platform, borrower, application(person), env(platform))
    assert decision["outcome"] == "approved"
    band = decision["rate_band"]
    with pytest.raises(InvalidInput) as info:
        draft(platform, borrower, str(Decimal(band["max"]) / 100 + Decimal("0.01")))
    assert info.value.field == "annual_rate" and "rate band" in info.value.message
    inside = draft(platform, borrower, str(Decimal(band["min"]) / 100))
    listing = approve(platform, inside, operator)
    assert listing.grade == decision["grade"]


def test_a_draft_outside_the_band_of_a_later_decision_is_refused_at_submission(
    platform: Platform,
) -> None:
    borrower, person = register_borrower(platform)
    in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
        uow, borrower, Money.yuan(50_000), actor_id=None, reason="manual"))
    cmd = CreateListing("credit", "经营贷", Money.yuan(10_000), Decimal("0.10"), 12, "month",
                        "equal_installment")
    listing_id = in_transaction(platform.uow, lambda uow: listings.create_listing(
        uow, cmd, applicant_id=borrower, rules=platform.listing_rules)).id
    decision = apply(platform, borrower, application(person), env(platform))
    assert Decimal(decision["rate_band"]["max"]) < Decimal("10")
    with pytest.raises(InvalidInput) as info:
        in_transaction(platform.uow, lambda uow: listings.submit(
            uow, listing_id, actor_id=borrower, rules=platform.listing_rules))
    assert info.value.field == "annual_rate" and "rate band" in info.value.message


def test_a_refused_applicant_cannot_be_approved(platform: Platform) -> None:
    operator = user(platform, "operator")
    borrower, person = register_borrower(platform)
    in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
        uow, borrower, Money.yuan(50_000), actor_id=operator, reason="manual"))
    refused = apply(platform, borrower, application(person, monthly_income=Money.yuan(1000),
                                                    amount=Money.yuan(200_000)),
                    env(platform))
    assert refused["outcome"] != "approved"
    listing_id = draft(platform, borrower, "0.10")
    with pytest.raises(Conflict) as info:
        approve(platform, listing_id, operator)
    assert info.value.code == "risk_not_approved"
    overrider = user(platform, "operator", "risk_override")
    with pytest.raises(Conflict) as info:  # an override stands in for no decision, not a "no"
        in_transaction(platform.uow, lambda uow: listings.approve(
            uow, listing_id, actor_id=overrider, reason="ok", rules=platform.listing_rules,
            override_reason="the borrower is well known to us"))
    assert info.value.code == "risk_not_approved"


def test_blacklisted_borrower_is_not_paid_out_and_investors_are_refunded(
    platform: Platform,
) -> None:
    operator = user(platform, "operator", "risk_override")
    borrower = user(platform, "borrower")
    in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
        uow, borrower, Money.yuan(50_000), actor_id=operator, reason="manual"))
    listing_id = draft(platform, borrower, "0.10", amount=1_000)
    approve_listing(platform, listing_id, operator, platform.listing_rules)  # by an override
    in_transaction(platform.uow, lambda uow: listings.publish(
        uow, listing_id, actor_id=operator, reason="", rules=platform.listing_rules))
    alice, bob = investor(platform, 1_000), investor(platform, 1_000)
    rules = platform.investing_rules
    invest(platform, rules, listing_id, alice, 500)
    pack = env(platform).pack
    in_transaction(platform.uow, lambda uow: blacklist.on_confirmed_fraud(
        uow, borrower, note="forged payslips found after publication", actor_id=operator,
        cipher=platform.cipher, pack=pack))
    made = invest(platform, rules, listing_id, bob, 500)
    assert made.listing_status == "failed"
    got = balances(platform, f"investor:{alice}:available", f"investor:{bob}:available",
                   f"borrower:{borrower}:available")
    assert got == {f"investor:{alice}:available": 100_000,
                   f"investor:{bob}:available": 100_000, f"borrower:{borrower}:available": 0}
    assert_books_balanced(platform)
