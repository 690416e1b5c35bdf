"""Investing on both databases: freezing, full funding and disbursement with exact shares,
failed and partially funded listings, 流转标 and 秒标, and every refusal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from biaodi.adapters.db.tables import (
    Holding,
    HoldingInstalment,
    Investment,
    Listing,
    LoanInstalment,
)
from biaodi.bootstrap import Platform
from biaodi.domain.investing.suitability import UnsuitableInvestment
from biaodi.domain.shared.errors import BiaodiError, InsufficientBalance, InvalidInput
from biaodi.services.investing import funding, suitability
from biaodi.services.investing.invest import ListingClosed, ListingFull
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings.lifecycle import ListingRules
from biaodi.services.shared.tx import in_transaction
from investing_support import (
    CONSERVATIVE,
    assert_books_balanced,
    balances,
    invest,
    investor,
    published_listing,
    user,
)

RULES = InvestingRules()


def close(platform: Platform, listing_id: int) -> str:
    return in_transaction(platform.uow, lambda uow: funding.close_funding_window(
        uow, listing_id, RULES))


def test_investment_freezes_money_and_takes_the_remaining(platform: Platform) -> None:
    listing_id = published_listing(platform, RULES, amount=10_000)
    alice = investor(platform, 5_000)
    made = invest(platform, RULES, listing_id, alice, 3_000)
    assert made.remaining.fen == 700_000 and made.listing_status == "published"
    assert balances(platform, f"investor:{alice}:available", f"investor:{alice}:frozen") == {
        f"investor:{alice}:available": 200_000, f"investor:{alice}:frozen": 300_000}
    assert_books_balanced(platform)


def test_full_funding_disburses_and_splits_every_instalment_exactly(platform: Platform) -> None:
    borrower = user(platform, "borrower")
    listing_id = published_listing(platform, RULES, amount=10_000, rate="0.0937", term=7,
                                   borrower=borrower)
    people = [investor(platform, 10_000) for _ in range(3)]
    for who, amount in zip(people, (3_300, 3_300, 3_400), strict=True):
        made = invest(platform, RULES, listing_id, who, amount)
    assert made.listing_status == "repaying" and made.remaining.fen == 0

    # The borrower receives the full principal: no fee is taken off it (砍头息).
    assert balances(platform, f"borrower:{borrower}:available", "platform:fee_income") == {
        f"borrower:{borrower}:available": 1_000_000, "platform:fee_income": 0}
    with platform.uow() as uow:
        loan = uow.s.scalars(select(LoanInstalment).where(
            LoanInstalment.listing_id == listing_id).order_by(LoanInstalment.seq)).all()
        holdings = uow.s.scalars(select(Holding).where(Holding.listing_id == listing_id)).all()
        shares = uow.s.scalars(select(HoldingInstalment)).all()
        listing = uow.s.get(Listing, listing_id)
        assert listing.funded_fen == 1_000_000
    assert len(loan) == 7 and sum(i.principal_fen for i in loan) == 1_000_000
    # 7 months: the 0.5 % yearly service fee, charged with each instalment on what is owed
    assert loan[0].service_fee_fen == 417 and loan[0].guarantee_fee_fen == 0  # 10,000 × 0.5 % ÷ 12
    assert loan[-1].service_fee_fen < loan[0].service_fee_fen
    for instalment in loan:
        mine = [s for s in shares if s.seq == instalment.seq]
        assert sum(s.principal_fen for s in mine) == instalment.principal_fen
        assert sum(s.interest_fen for s in mine) == instalment.interest_fen
    for holding in holdings:
        assert sum(s.principal_fen for s in shares if s.holding_id == holding.id) == \
            holding.principal_fen
    assert {h.principal_fen for h in holdings} == {330_000, 340_000}
    with platform.uow() as uow:
        assert ledger.balance(uow, f"loan:{listing_id}:principal_payable") == 1_000_000
        assert ledger.balance(uow, f"holding:{holdings[0].id}:principal") == \
            holdings[0].principal_fen
    assert_books_balanced(platform)

    late = investor(platform, 1_000)
    with pytest.raises(ListingFull):
        invest(platform, RULES, listing_id, late, 100)


def test_failed_listing_refunds_everyone(platform: Platform, clock) -> None:  # type: ignore[no-untyped-def]
    listing_id = published_listing(platform, RULES, amount=10_000)
    people = [investor(platform, 5_000) for _ in range(2)]
    for who in people:
        invest(platform, RULES, listing_id, who, 4_000)
    clock.advance(days=6)
    assert close(platform, listing_id) == "published"  # not yet due: window still open
    with platform.uow() as uow:
        assert funding.due_for_closing(uow, clock.today()) == []
    clock.advance(days=1)
    with platform.uow() as uow:
        assert funding.due_for_closing(uow, clock.today()) == [listing_id]
    with pytest.raises(ListingClosed):
        invest(platform, RULES, listing_id, people[0], 100)
    assert close(platform, listing_id) == "failed"
    for who in people:
        assert balances(platform, f"investor:{who}:available")[f"investor:{who}:available"] \
            == 500_000
    with platform.uow() as uow:
        statuses = set(uow.s.scalars(select(Investment.status)))
    assert statuses == {"refunded"}
    assert close(platform, listing_id) == "failed"  # closing twice changes nothing
    assert_books_balanced(platform)


def test_transfer_listing_partial_funding_and_interest_from_subscription(
    platform: Platform, clock  # type: ignore[no-untyped-def]
) -> None:
    originator = user(platform, "originator")
    listing_id = published_listing(platform, RULES, kind="transfer", amount=10_000,
                                   rate="0.0912", term=6, method="bullet",
                                   borrower=originator)
    early, late = investor(platform, 10_000), investor(platform, 10_000)
    made = invest(platform, RULES, listing_id, early, 4_000)
    # settled at once: nothing frozen, the originator paid all of it (no fee off it), a holding
    assert (made.status, made.listing_status) == ("settled", "published")
    assert balances(platform, f"originator:{originator}:available", f"investor:{early}:frozen",
                    f"investor:{early}:available") == {
        f"originator:{originator}:available": 900_000 + 400_000,
        f"investor:{early}:frozen": 0, f"investor:{early}:available": 600_000}
    with platform.uow() as uow:
        assert [h.investor_id for h in uow.s.scalars(select(Holding))] == [early]
    assert_books_balanced(platform)
    clock.advance(days=3)
    invest(platform, RULES, listing_id, late, 3_500)
    clock.advance(days=4)
    assert close(platform, listing_id) == "repaying"  # closed at the 7,500.00 sold
    with platform.uow() as uow:
        listing = uow.s.get(Listing, listing_id)
        holdings = {h.investor_id: h for h in uow.s.scalars(select(Holding))}
        loan = uow.s.scalars(select(LoanInstalment)).all()
        shares = {s.holding_id: s for s in uow.s.scalars(select(HoldingInstalment))}
    assert listing.funded_fen == 750_000
    start = listing.published_at.date()
    assert holdings[early].interest_start == start
    assert holdings[late].interest_start == start + timedelta(days=3)
    maturity = loan[0].due_date
    expected_early = (Decimal(400_000) * Decimal("0.0912") * (maturity - start).days / 365)
    assert shares[holdings[early].id].interest_fen == int(expected_early.quantize(
        Decimal(1), rounding="ROUND_HALF_UP"))
    assert shares[holdings[late].id].interest_fen < shares[holdings[early].id].interest_fen \
        * 35 // 40
    assert loan[0].interest_fen == sum(s.interest_fen for s in shares.values())
    assert balances(platform, f"originator:{originator}:available")[
        f"originator:{originator}:available"] == 900_000 + 750_000  # deposit − reserve + all
    with platform.uow() as uow:
        assert set(uow.s.scalars(select(Investment.status))) == {"settled"}
    assert_books_balanced(platform)


def test_transfer_listing_closes_at_what_was_sold_however_little(
    platform: Platform, clock  # type: ignore[no-untyped-def]
) -> None:
    listing_id = published_listing(platform, RULES, kind="transfer", amount=10_000, term=6,
                                   method="bullet")
    buyer = investor(platform, 10_000)
    invest(platform, RULES, listing_id, buyer, 1_000)  # 10 %: a credit listing would fail
    clock.advance(days=7)
    assert close(platform, listing_id) == "repaying"
    with platform.uow() as uow:
        listing = uow.s.get(Listing, listing_id)
        loan = uow.s.scalars(select(LoanInstalment)).all()
        holding = uow.s.scalars(select(Holding)).one()
    assert (listing.funded_fen, listing.remaining_fen) == (100_000, 0)
    assert holding.interest_start == date(2026, 11, 28)  # the day it was bought
    assert [(i.principal_fen, i.due_date) for i in loan] == [(100_000, date(2027, 5, 28))]
    assert balances(platform, f"investor:{buyer}:available", f"investor:{buyer}:frozen") == {
        f"investor:{buyer}:available": 900_000, f"investor:{buyer}:frozen": 0}  # no refund
    nobody = published_listing(platform, RULES, kind="transfer", amount=1_000, term=6,
                               method="bullet")
    clock.advance(days=7)
    assert close(platform, nobody) == "failed"  # nothing sold, nothing to return
    assert_books_balanced(platform)


def test_credit_listing_below_threshold_is_all_or_nothing(platform: Platform, clock) -> None:  # type: ignore[no-untyped-def]
    listing_id = published_listing(platform, RULES, amount=10_000)
    invest(platform, RULES, listing_id, investor(platform), 5_000)
    invest(platform, RULES, listing_id, investor(platform), 4_900)  # 99 %, still not full
    clock.advance(days=7)
    assert close(platform, listing_id) == "failed"


def test_instant_listing_is_repaid_at_once_under_permissive(platform: Platform) -> None:
    rules = InvestingRules(listing=ListingRules(profile_name="permissive"))
    borrower = user(platform, "borrower")
    from investing_support import deposit

    deposit(platform, borrower, 500, role="borrower")  # covers fee and one day's interest
    listing_id = published_listing(platform, rules, kind="instant", amount=10_000,
                                   rate="0.10", term=1, term_unit="day", method="bullet",
                                   borrower=borrower)
    alice, bob = investor(platform, 10_000), investor(platform, 10_000)
    invest(platform, rules, listing_id, alice, 5_000)
    made = invest(platform, rules, listing_id, bob, 5_000)
    assert made.listing_status == "settled"
    interest = Decimal(1_000_000) * Decimal("0.10") / 365  # 273.972… fen → 2.74 yuan
    got = balances(platform, f"investor:{alice}:available", f"investor:{bob}:available")
    assert got[f"investor:{alice}:available"] + got[f"investor:{bob}:available"] == \
        2_000_000 + int(interest.quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert_books_balanced(platform)


def test_instant_listing_stays_repaying_when_the_borrower_cannot_pay(platform: Platform) -> None:
    rules = InvestingRules(listing=ListingRules(profile_name="permissive"))
    listing_id = published_listing(platform, rules, kind="instant", amount=1_000, rate="0.10",
                                   term=1, term_unit="day", method="bullet")
    invest(platform, rules, listing_id, investor(platform), 500)
    made = invest(platform, rules, listing_id, investor(platform), 500)
    assert made.listing_status == "repaying"
    assert_books_balanced(platform)


def test_refusals_name_the_rule(platform: Platform, clock) -> None:  # type: ignore[no-untyped-def]
    borrower = user(platform, "borrower", "investor")
    listing_id = published_listing(platform, RULES, amount=10_000, borrower=borrower)
    poor = investor(platform, 50)
    cases: list[tuple[int, object, type[BiaodiError], str]] = [
        (poor, 100, InsufficientBalance, "insufficient balance"),
        (investor(platform), 50, InvalidInput, "at least 100.00"),
        (investor(platform), 150, InvalidInput, "multiple of 100.00"),
        (investor(platform), 5_100, InvalidInput, "at most 5000.00"),
        (investor(platform, answers=CONSERVATIVE), 100, UnsuitableInvestment, "R4"),
        (user(platform, "investor"), 100, UnsuitableInvestment, "no risk assessment"),
    ]
    for who, amount, error, fragment in cases:
        with pytest.raises(error) as info:
            invest(platform, RULES, listing_id, who, amount)
        assert fragment in info.value.message, info.value.message
    with pytest.raises(BiaodiError, match="your own listing"):
        invest(platform, RULES, listing_id, borrower, 100)

    veteran = investor(platform)
    clock.advance(days=361)
    fresh = published_listing(platform, RULES, amount=1_000)
    with pytest.raises(UnsuitableInvestment, match="expired"):
        invest(platform, RULES, fresh, veteran, 100)
    in_transaction(platform.uow, lambda uow: suitability.assess(
        uow, veteran, {"age": 3, "income": 3, "experience": 3, "horizon": 3,
                       "loss_tolerance": 3, "share_of_assets": 3}))
    assert invest(platform, RULES, fresh, veteran, 100).remaining.fen == 90_000
