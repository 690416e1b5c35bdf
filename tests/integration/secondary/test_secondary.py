"""Secondary market (债权转让) on SQLite and PostgreSQL: a partial sale to three buyers with every
future instalment still adding up to the fen, the accrued-interest split between seller and
buyer to the fen, cancellation by an overdue loan and by an early repayment, the refusals, and
100 buyers racing for one sale with idempotency keys."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.secondary_tables import SecondaryPurchase, SecondarySale
from biaodi.adapters.db.tables import Holding, HoldingInstalment, LoanInstalment
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.errors import BiaodiError, Conflict
from biaodi.domain.shared.money import Money, round_half_up
from biaodi.services.secondary import purchases, sales
from biaodi.services.secondary.rules import SecondaryRules
from biaodi.services.servicing import repayments
from biaodi.services.shared.idempotency import Answer, run_idempotent
from biaodi.services.shared.tx import in_transaction
from investing_support import investor, many_investors
from servicing_support import (
    balance,
    check_books,
    due_dates,
    funded_loan,
    pay_in,
    run_close,
    servicing_rules,
    set_day,
)

START = date(2026, 11, 28)  # the loans below start on the test clock's day


def rules(platform: Platform, **sale: object) -> SecondaryRules:
    base = platform.secondary_rules
    return replace(base, sale=replace(base.sale, **sale), servicing=servicing_rules(platform))


def offer(platform: Platform, rules_: SecondaryRules, holding: int, seller: int,
          premium: str = "0", yuan: str | None = None) -> SecondarySale:
    cmd = sales.Offer(holding, seller, Decimal(premium),
                      None if yuan is None else Money.parse(yuan))
    return in_transaction(platform.uow, lambda uow: sales.offer(uow, cmd, rules_))


def buy(platform: Platform, rules_: SecondaryRules, sale_id: int, buyer: int,
        yuan: str | None = None, max_price: str | None = None) -> purchases.Bought:
    cmd = purchases.Buy(sale_id, buyer, None if yuan is None else Money.parse(yuan),
                        None if max_price is None else Money.parse(max_price))
    return in_transaction(platform.uow, lambda uow: purchases.buy(uow, cmd, rules_))


def shares(platform: Platform, holding_id: int) -> dict[int, tuple[int, int]]:
    with platform.uow() as uow:
        return {r.seq: (r.principal_fen, r.interest_fen) for r in uow.s.scalars(
            select(HoldingInstalment).where(HoldingInstalment.holding_id == holding_id))}


def cash(platform: Platform, user_id: int) -> int:
    return balance(platform, wallet(OwnerKind.INVESTOR, user_id).code)


def assert_instalments_add_up(platform: Platform, listing_id: int) -> None:
    """Every instalment of the loan is the sum of its holdings' shares, to the fen."""
    with platform.uow() as uow:
        loan = {r.seq: (r.principal_fen, r.interest_fen) for r in uow.s.scalars(
            select(LoanInstalment).where(LoanInstalment.listing_id == listing_id))}
        summed = dict(uow.s.execute(
            select(HoldingInstalment.seq, func.sum(HoldingInstalment.principal_fen))
            .join(Holding, Holding.id == HoldingInstalment.holding_id)
            .where(Holding.listing_id == listing_id).group_by(HoldingInstalment.seq)).all())
        interest = dict(uow.s.execute(
            select(HoldingInstalment.seq, func.sum(HoldingInstalment.interest_fen))
            .join(Holding, Holding.id == HoldingInstalment.holding_id)
            .where(Holding.listing_id == listing_id).group_by(HoldingInstalment.seq)).all())
    assert {seq: (int(summed[seq]), int(interest[seq])) for seq in loan} == loan


def test_a_partial_sale_to_three_buyers_splits_every_instalment_and_the_accrued_interest(
        platform: Platform, clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit", rate="0.09", term=6)
    market = rules(platform, holding_period_days=0)
    seller, holding = loan.investors[0], loan.holdings[0]
    before = shares(platform, holding)
    day = START + timedelta(days=12)  # 12 of the 30 days of the first period
    set_day(clock, day)
    run_close(platform)
    sale = offer(platform, market, holding, seller, premium="0.01", yuan="3000")
    assert (sale.principal_fen, sale.remaining_fen, sale.status) == (300_000, 300_000, "open")

    buyers = [investor(platform, 5_000) for _ in range(3)]
    seller_cash, fee_income = cash(platform, seller), balance(platform, "platform:fee_income")
    bought = [buy(platform, market, sale.id, buyers[0], "1000"),
              buy(platform, market, sale.id, buyers[1], "1200"),
              buy(platform, market, sale.id, buyers[2])]  # the rest: 800.00
    assert [b.quote.principal for b in bought] == [100_000, 120_000, 80_000]
    assert [b.sale_status for b in bought] == ["open", "open", "sold"]
    assert bought[-1].sale_remaining == Money(0)

    seller_left = shares(platform, holding)
    for b, who in zip(bought, buyers, strict=True):
        mine = shares(platform, b.holding_id)
        assert sum(p for p, _ in mine.values()) == b.quote.principal
        # fair value: the part's principal + its first-period interest × 12/30, half-up;
        # price: fair value × 1.01, half-up; fee: 0.5 % of the price, half-up
        accrued = round_half_up(Decimal(mine[1][1] * 12) / 30)
        assert b.quote.accrued_interest == accrued
        assert b.quote.fair_value == b.quote.principal + accrued
        assert b.quote.price == round_half_up(Decimal(b.quote.fair_value) * Decimal("1.01"))
        assert b.quote.fee == round_half_up(Decimal(b.quote.price) * Decimal("0.005"))
        assert cash(platform, who) == 500_000 - b.quote.price
        assert b.quote.yield_rate > 0
    for seq, (principal, interest) in before.items():  # the seller's shares, re-split exactly
        parts = [seller_left[seq]] + [shares(platform, b.holding_id)[seq] for b in bought]
        assert (sum(p for p, _ in parts), sum(i for _, i in parts)) == (principal, interest)
    assert sum(p for p, _ in seller_left.values()) == 330_000 - 300_000
    assert cash(platform, seller) == seller_cash + sum(b.quote.proceeds for b in bought)
    assert balance(platform, "platform:fee_income") == \
        fee_income + sum(b.quote.fee for b in bought)
    assert_instalments_add_up(platform, loan.listing_id)
    check_books(platform)

    # The first instalment: each buyer receives its whole share of the period's interest; the
    # seller had the part accrued before the sale inside the price. Together: the interest the
    # seller's holding would have earned, to the fen.
    first = due_dates(platform, loan.listing_id)[0]
    pay_in(platform, f"borrower:{loan.applicant}:available", 1_000_000)
    cash_before = {who: cash(platform, who) for who in [seller, *buyers]}
    set_day(clock, first)
    run_close(platform)
    received = {who: cash(platform, who) - cash_before[who] for who in cash_before}
    for b, who in zip(bought, buyers, strict=True):
        assert received[who] == sum(shares(platform, b.holding_id)[1])
    assert received[seller] == sum(seller_left[1])
    buyers_net = sum(shares(platform, b.holding_id)[1][1] - b.quote.accrued_interest
                     for b in bought)
    seller_interest = seller_left[1][1] + sum(b.quote.accrued_interest for b in bought)
    assert seller_interest + buyers_net == before[1][1]
    check_books(platform)


def test_sales_are_cancelled_by_an_overdue_loan_and_by_an_early_repayment(
        platform: Platform, clock: FixedClock) -> None:
    market = rules(platform, holding_period_days=0)
    late = funded_loan(platform, "guarantee", rate="0.06", term=6)
    early = funded_loan(platform, "collateral", rate="0.06", term=3)
    set_day(clock, START + timedelta(days=5))
    overdue_sale = offer(platform, market, late.holdings[0], late.investors[0], "-0.01")
    early_sale = offer(platform, market, early.holdings[1], early.investors[1], "0.005",
                       "1000")

    pay_in(platform, f"borrower:{early.applicant}:available", 2_000_000)
    in_transaction(platform.uow, lambda uow: repayments.repay_early(uow, repayments.RepayEarly(
        early.listing_id, early.applicant, "payoff"), market.servicing))
    with platform.uow() as uow:
        assert uow.s.get(SecondarySale, early_sale.id).cancel_reason == "repaid_early"
        assert uow.s.get(SecondarySale, overdue_sale.id).status == "open"

    first = due_dates(platform, late.listing_id)[0]  # the borrower has nothing to pay with
    set_day(clock, first)
    run_close(platform)
    with platform.uow() as uow:
        cancelled = uow.s.get(SecondarySale, overdue_sale.id)
        assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "loan_overdue")
    buyer = investor(platform, 5_000)
    with pytest.raises(Conflict) as closed:
        buy(platform, market, overdue_sale.id, buyer)
    assert closed.value.code == "sale_closed"
    with pytest.raises(Conflict) as refused:  # nor can it be offered again while overdue
        offer(platform, market, late.holdings[0], late.investors[0])
    assert refused.value.code == "loan_overdue"
    assert cash(platform, buyer) == 500_000
    check_books(platform)


def test_refusals_name_the_rule(platform: Platform, clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit", rate="0.06", term=3)
    seller, holding = loan.investors[0], loan.holdings[0]
    market = rules(platform)  # 30 days' holding period
    set_day(clock, START + timedelta(days=10))

    def refused(fn, code: str | None = None, field: str | None = None) -> BiaodiError:  # type: ignore[no-untyped-def]
        with pytest.raises(BiaodiError) as caught:
            fn()
        if code:
            assert caught.value.code == code, caught.value
        if field:
            assert caught.value.field == field, caught.value
        return caught.value

    refused(lambda: offer(platform, market, holding, seller), "holding_period")
    market = rules(platform, holding_period_days=0)
    refused(lambda: offer(platform, market, holding, loan.investors[1]), "not_holder")
    refused(lambda: offer(platform, market, holding, seller, "0.06"), field="premium")
    refused(lambda: offer(platform, market, holding, seller, "-0.21"), field="premium")
    # 5 % above fair value for a 6 % loan with under three months left: a negative yield
    refused(lambda: offer(platform, market, holding, seller, "0.05"), "negative_yield")
    refused(lambda: offer(platform, market, holding, seller, "0", "50"), field="principal")
    refused(lambda: offer(platform, market, holding, seller, "0", "3250"), field="principal")
    sale = offer(platform, market, holding, seller, "0", "2000")
    refused(lambda: offer(platform, market, holding, seller), "already_offered")
    refused(lambda: buy(platform, market, sale.id, seller), "own_sale")
    buyer = investor(platform, 5_000)
    refused(lambda: buy(platform, market, sale.id, buyer, "1950"), field="principal")
    refused(lambda: buy(platform, market, sale.id, buyer, "2000.01"), field="principal")
    refused(lambda: buy(platform, market, sale.id, buyer, "1000", max_price="1000"),
            "price_above_limit")
    poor = investor(platform, 100)
    refused(lambda: buy(platform, market, sale.id, poor, "1000"), "insufficient_balance")
    with platform.uow() as uow:  # every refusal rolled back: nothing was taken
        assert uow.s.get(SecondarySale, sale.id).remaining_fen == 200_000
    due = due_dates(platform, loan.listing_id)[0]
    set_day(clock, due)  # repayment day: holders of record are paid first
    refused(lambda: buy(platform, market, sale.id, buyer, "1000"), "repayment_day")
    in_transaction(platform.uow, lambda uow: sales.cancel(uow, sale.id, seller))
    refused(lambda: buy(platform, market, sale.id, buyer), "sale_closed")
    assert cash(platform, buyer) == 500_000


def test_instant_listing_holdings_cannot_be_sold(platform: Platform) -> None:
    from biaodi.services.investing.rules import InvestingRules
    from biaodi.services.listings.lifecycle import ListingRules
    from investing_support import deposit, invest, published_listing, user

    permissive = InvestingRules(listing=ListingRules(profile_name="permissive"))
    borrower = user(platform, "borrower")
    deposit(platform, borrower, 500, role="borrower")
    listing_id = published_listing(platform, permissive, kind="instant", amount=1_000,
                                   rate="0.08", term=1, term_unit="day", method="bullet",
                                   borrower=borrower)
    holder = investor(platform, 1_000)
    invest(platform, permissive, listing_id, holder, 500)
    invest(platform, permissive, listing_id, investor(platform, 1_000), 500)
    with platform.uow() as uow:
        holding = uow.s.scalars(select(Holding.id).where(Holding.listing_id == listing_id,
                                                         Holding.investor_id == holder)).one()
    with pytest.raises(Conflict) as refused:
        offer(platform, rules(platform, holding_period_days=0), holding, holder)
    assert refused.value.code == "not_transferable" and "秒标" in refused.value.message


def test_one_hundred_buyers_race_for_one_sale(platform: Platform, clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit", rate="0.09", term=6, tickets=(5_000, 5_000))
    market = rules(platform, holding_period_days=0)
    set_day(clock, START + timedelta(days=3))
    sale = offer(platform, market, loan.holdings[0], loan.investors[0], "-0.01")  # 5,000.00
    racers = many_investors(platform, 100, yuan=1_000)
    start = threading.Barrier(len(racers))
    answers: dict[int, Answer] = {}
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def attempt(buyer: int) -> Answer:
        cmd = purchases.Buy(sale.id, buyer, Money.yuan(100))
        return run_idempotent(
            platform.uow, scope=f"user:{buyer}:POST /secondary/sales/{sale.id}/purchases",
            key=f"race-{buyer}", payload={"principal": "100"},
            fn=lambda uow: Answer(201, {"purchase_id": purchases.buy(uow, cmd, market)
                                        .purchase_id}))

    def race(buyer: int) -> None:
        start.wait()
        try:
            answer = attempt(buyer)
        except BaseException as exc:
            with lock:
                unexpected.append(exc)
            return
        with lock:
            answers[buyer] = answer

    threads = [threading.Thread(target=race, args=(b,)) for b in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not unexpected, unexpected[:3]
    outcomes = Counter(a.status_code if a.status_code == 201 else a.body["error"]["code"]
                       for a in answers.values())
    assert outcomes == {201: 50, "sale_sold_out": 50}
    winner = next(b for b, a in answers.items() if a.status_code == 201)
    again = attempt(winner)  # a retry with the same key replays the first answer
    assert again.replayed and again.body == answers[winner].body
    with platform.uow() as uow:
        done = uow.s.get(SecondarySale, sale.id)
        bought = uow.s.execute(select(func.count(), func.sum(SecondaryPurchase.principal_fen))
                               .where(SecondaryPurchase.sale_id == sale.id)).one()
        seller = uow.s.get(Holding, loan.holdings[0])
    assert (done.status, done.remaining_fen) == ("sold", 0)
    assert (bought[0], bought[1]) == (50, 500_000)
    assert (seller.status, seller.outstanding_principal_fen) == ("sold", 0)
    assert_instalments_add_up(platform, loan.listing_id)
    check_books(platform)


def test_holdings_bought_are_serviced_through_to_the_end(platform: Platform,
                                                       clock: FixedClock) -> None:
    """A bought holding is a holding like any other: repaid to the fen to the last
    instalment, and its buyer may sell it on after the holding period."""
    loan = funded_loan(platform, "credit", rate="0.07", term=3)
    market = rules(platform, holding_period_days=0)
    set_day(clock, START + timedelta(days=7))
    sale = offer(platform, market, loan.holdings[2], loan.investors[2], "0", "3400")
    buyer, second = investor(platform, 5_000), investor(platform, 5_000)
    bought = buy(platform, market, sale.id, buyer)
    resale = offer(platform, market, bought.holding_id, buyer, "0.002", "1700")
    again = buy(platform, market, resale.id, second)
    expected = {who: sum(p + i for p, i in shares(platform, h).values())
                for who, h in ((buyer, bought.holding_id), (second, again.holding_id))}
    start_cash = {who: cash(platform, who) for who in expected}
    pay_in(platform, f"borrower:{loan.applicant}:available", 1_500_000)
    for due in due_dates(platform, loan.listing_id):
        set_day(clock, due)
        run_close(platform)
        check_books(platform)
    for who, total in expected.items():
        assert cash(platform, who) - start_cash[who] == total
    with platform.uow() as uow:
        statuses = {uow.s.get(Holding, h).status
                    for h in (loan.holdings[2], bought.holding_id, again.holding_id)}
    assert statuses == {"sold", "settled"}


def test_a_guarantor_compensates_buyers_and_sellers_alike(platform: Platform,
                                                         clock: FixedClock) -> None:
    """担保标 after a partial sale: at the guarantor's deadline each holder — the seller with
    what it kept, the buyer with what it bought — is paid its exact share of the arrears."""
    loan = funded_loan(platform, "guarantee", rate="0.06", term=6)
    market = rules(platform, holding_period_days=0)
    set_day(clock, START + timedelta(days=20))
    original = shares(platform, loan.holdings[1])[1]
    sale = offer(platform, market, loan.holdings[1], loan.investors[1], "0", "1300")
    bought = buy(platform, market, sale.id, investor(platform, 2_000), "1300")
    seller_first = shares(platform, loan.holdings[1])[1]
    buyer_first = shares(platform, bought.holding_id)[1]
    assert (seller_first[0] + buyer_first[0], seller_first[1] + buyer_first[1]) == original
    with platform.uow() as uow:
        buyer_id = uow.s.get(Holding, bought.holding_id).investor_id
    before = {who: cash(platform, who) for who in (loan.investors[1], buyer_id)}
    first = due_dates(platform, loan.listing_id)[0]
    for day in range(4):  # nothing paid: 3 days past due is the guarantor's deadline
        set_day(clock, first + timedelta(days=day))
        run_close(platform)
        check_books(platform)
    assert cash(platform, loan.investors[1]) - before[loan.investors[1]] == sum(seller_first)
    assert cash(platform, buyer_id) - before[buyer_id] == sum(buyer_first)
