"""Borrowing caps where listings are made (cn-2016 art. 17), through the platform's rules on
SQLite and PostgreSQL: across every listing of a borrower, with risk control's borrower type
and borrowings elsewhere, under one lock per borrower, and again right before disbursement."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from biaodi.bootstrap import Platform
from biaodi.domain.shared.compliance import ComplianceViolation
from biaodi.domain.shared.errors import BiaodiError
from biaodi.domain.shared.money import Money
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings.lifecycle import CreateListing, ListingRules
from biaodi.services.listings.security import AssetInput, SecurityInput
from biaodi.services.shared.tx import in_transaction
from investing_support import (
    assert_books_balanced,
    balances,
    invest,
    investor,
    published_listing,
    user,
)
from risk_support import application, apply, env, register_borrower


def car_loan(platform: Platform, borrower: int, yuan: int, rules: ListingRules,
             rate: str = "0.08") -> int:
    """A draft 抵押标 on a car worth twice the amount."""
    car = AssetInput("car", Money.yuan(yuan * 2), platform.clock.today() - timedelta(days=3),
                     "车易估")
    cmd = CreateListing("collateral", "车辆抵押周转", Money.yuan(yuan), Decimal(rate), 12,
                        "month", "equal_installment", security=SecurityInput(assets=(car,)))
    return in_transaction(platform.uow, lambda uow: listings.create_listing(
        uow, cmd, applicant_id=borrower, rules=rules)).id


def submit(platform: Platform, listing_id: int, borrower: int, rules: ListingRules) -> None:
    in_transaction(platform.uow, lambda uow: listings.submit(
        uow, listing_id, actor_id=borrower, rules=rules))


def test_two_listings_submitted_at_once_cannot_both_pass_the_cap(platform: Platform) -> None:
    """Two drafts of 150,000.00 (drafts do not count) race through submission: the lock per
    borrower lets one through and shows the second the first. Risk control's answer is slowed
    down inside the lock, so without the lock both would read nothing outstanding."""
    borrower = user(platform, "borrower")
    real = platform.listing_rules

    def slow_standing(uow, user_id):  # type: ignore[no-untyped-def]
        found = real.borrower_standing(uow, user_id)  # type: ignore[misc]
        time.sleep(0.3)
        return found

    rules = replace(real, borrower_standing=slow_standing)
    drafts = [car_loan(platform, borrower, 150_000, rules) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def race(listing_id: int) -> None:
        start.wait()
        try:
            submit(platform, listing_id, borrower, rules)
            outcomes[listing_id] = "submitted"
        except BiaodiError as refusal:
            outcomes[listing_id] = getattr(refusal, "rule_id", refusal.code)

    threads = [threading.Thread(target=race, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["cn2016.borrowing_caps", "submitted"]
    with platform.uow() as uow:
        statuses = sorted(listings.get_listing(uow, d).status for d in drafts)
    assert statuses == ["draft", "submitted"]


def test_every_listing_type_counts_and_a_legal_person_has_1000000(platform: Platform) -> None:
    rules = platform.listing_rules
    borrower, person = register_borrower(platform)
    in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
        uow, borrower, Money.yuan(100_000), actor_id=None, reason="payslips", rules=rules))
    credit = CreateListing("credit", "经营周转", Money.yuan(60_000), Decimal("0.08"), 12,
                           "month", "equal_installment")
    first = in_transaction(platform.uow, lambda uow: listings.create_listing(
        uow, credit, applicant_id=borrower, rules=rules)).id
    submit(platform, first, borrower, rules)
    with pytest.raises(ComplianceViolation) as info:  # 60,000 credit + 150,000 collateral
        car_loan(platform, borrower, 150_000, rules)
    assert info.value.rule_id == "cn2016.borrowing_caps" and info.value.field == "amount"
    assert "outstanding 60000.00, headroom 140000.00" in info.value.message

    # risk control records the borrower as a legal person: the cap is 1,000,000.00
    company = application(person, borrower_type="legal", company_name="某某科技有限公司",
                          credit_code="91350100M000100Y43", listing_kind="collateral",
                          security_value=Money.yuan(2_000_000), amount=Money.yuan(200_000),
                          monthly_income=Money.yuan(60_000))
    decision = apply(platform, borrower, company, env(platform))
    assert decision["outcome"] == "approved"
    rate = str(Decimal(decision["rate_band"]["min"]) / 100)  # priced in the grade's band
    second = car_loan(platform, borrower, 150_000, rules, rate)
    submit(platform, second, borrower, rules)
    with pytest.raises(ComplianceViolation, match=r"legal person or other organisation may owe"
                                                  r" at most 1000000\.00"):
        car_loan(platform, borrower, 790_001, rules, rate)


def test_borrowings_declared_elsewhere_count_toward_the_all_platforms_cap(
    platform: Platform,
) -> None:
    borrower, person = register_borrower(platform)
    decision = apply(platform, borrower, application(
        person, other_platform_borrowings=Money.yuan(900_000), amount=Money.yuan(20_000)),
        env(platform))
    assert decision["outcome"] == "approved"
    rules, rate = platform.listing_rules, str(Decimal(decision["rate_band"]["min"]) / 100)
    car_loan(platform, borrower, 100_000, rules, rate)
    with pytest.raises(ComplianceViolation) as info:
        car_loan(platform, borrower, 100_001, rules, rate)
    assert (f"outstanding 900000.00 (0.00 here, 900000.00 elsewhere per risk application"
            f" {decision['application_id']}), headroom 100000.00") in info.value.message


def test_a_listing_past_the_cap_at_disbursement_fails_and_investors_are_refunded(
    platform: Platform,
) -> None:
    """Checked once more right before money goes out: here the bureau reports, after
    publication, 950,000.00 owed elsewhere, so 100,000.00 more would pass 1,000,000.00."""
    rules = platform.investing_rules
    borrower = user(platform, "borrower")
    listing_id = published_listing(platform, rules, amount=100_000, borrower=borrower)
    alice, bob = investor(platform, 60_000), investor(platform, 60_000)
    invest(platform, rules, listing_id, alice, 50_000)
    elsewhere = replace(rules.listing, borrower_standing=lambda uow, user_id: {
        "borrower_type": "natural", "other_platforms": Money.yuan(950_000),
        "source": "a bureau update"})
    made = invest(platform, replace(rules, listing=elsewhere), listing_id, bob, 50_000)
    assert made.listing_status == "failed"
    got = balances(platform, f"investor:{alice}:available", f"investor:{bob}:available",
                   f"borrower:{borrower}:available")
    assert got == {f"investor:{alice}:available": 6_000_000,
                   f"investor:{bob}:available": 6_000_000, f"borrower:{borrower}:available": 0}
    assert_books_balanced(platform)


def test_credit_limits_stay_within_the_cap(platform: Platform) -> None:
    borrower = user(platform, "borrower")
    with pytest.raises(ComplianceViolation) as info:
        in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
            uow, borrower, Money.yuan(300_000), actor_id=None, reason="operator",
            rules=platform.listing_rules))
    assert info.value.rule_id == "cn2016.borrowing_caps" and info.value.field == "limit"
    row = in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
        uow, borrower, Money.yuan(300_000), actor_id=None, reason="risk decision 1",
        source="risk", rules=platform.listing_rules, clip_to_cap=True))
    assert row.limit_fen == Money.yuan(200_000).fen
    assert row.reason == ("risk decision 1; lowered from 300000.00 to the borrowing cap"
                          " 200000.00 (rule cn2016.borrowing_caps)")
