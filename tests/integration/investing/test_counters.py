"""The maintained counters (`investor_exposure`, `listing_stakes`, migration 0017) equal the
sums of history after every kind of movement, on SQLite and PostgreSQL, and the check that
recomputes them finds a counter that drifted."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import text

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.investing import counters, funding
from biaodi.services.investing import suitability as assessed
from biaodi.services.secondary import purchases, sales
from biaodi.services.servicing import repayments
from biaodi.services.shared.tx import in_transaction
from investing_support import (
    assert_books_balanced,
    deposit,
    invest,
    investor,
    published_listing,
)
from servicing_support import (
    INVESTING,
    due_dates,
    funded_loan,
    pay_in,
    run_close,
    servicing_rules,
    set_day,
)


def _counted(platform: Platform, investor_id: int, listing_id: int) -> tuple[int, int]:
    with platform.uow() as uow:
        stake = uow.s.execute(text(f"SELECT {counters.STAKE_SQL}"),
                              {"listing": listing_id, "user": investor_id}).scalar_one()
        return counters.exposure(uow, investor_id).fen, int(stake)


def test_counters_follow_a_mixed_history(platform: Platform, clock: FixedClock) -> None:
    """Freeze, refund of a failed listing, funding, a repayment collected at close of
    business, a part sold on the secondary market, an early payoff: after each, every
    counter equals what history sums to (`assert_books_balanced` recomputes them)."""
    start = clock.today()
    loan = funded_loan(platform, "credit", rate="0.09", term=12, tickets=(5_000, 5_000))
    holder, other = loan.investors
    assert _counted(platform, holder, loan.listing_id) == (500_000, 500_000)

    failing = published_listing(platform, INVESTING, amount=10_000)
    deposit(platform, holder, 1_000)
    invest(platform, INVESTING, failing, holder, 1_000)  # frozen
    assert _counted(platform, holder, failing) == (600_000, 100_000)
    assert_books_balanced(platform)

    set_day(clock, start + timedelta(days=7))  # the funding window ends: refunded
    in_transaction(platform.uow, lambda uow: funding.close_funding_window(uow, failing,
                                                                          INVESTING))
    assert _counted(platform, holder, failing) == (500_000, 0)
    assert_books_balanced(platform)

    first = due_dates(platform, loan.listing_id)[0]
    pay_in(platform, loan.payer, 2_000_000)
    set_day(clock, first)
    run_close(platform, first)  # the first instalment collected: principal repaid
    exposure, stake = _counted(platform, holder, loan.listing_id)
    assert 0 < exposure < 500_000 and stake == 500_000  # the stake is what was subscribed
    assert_books_balanced(platform)

    market = replace(platform.secondary_rules, servicing=servicing_rules(platform),
                     sale=replace(platform.secondary_rules.sale, holding_period_days=0))
    buyer = investor(platform, 10_000)
    set_day(clock, first + timedelta(days=3))
    sale = in_transaction(platform.uow, lambda uow: sales.offer(uow, sales.Offer(
        loan.holdings[0], holder, Decimal("0"), Money.yuan(1_000)), market))
    in_transaction(platform.uow, lambda uow: purchases.buy(uow, purchases.Buy(
        sale.id, buyer, Money.yuan(400)), market))
    assert _counted(platform, holder, loan.listing_id)[0] == exposure - 40_000
    assert _counted(platform, buyer, loan.listing_id) == (40_000, 0)  # bought, not subscribed
    assert_books_balanced(platform)

    in_transaction(platform.uow, lambda uow: repayments.repay_early(uow, repayments.RepayEarly(
        loan.listing_id, loan.applicant, "payoff"), market.servicing))
    for who in (holder, other, buyer):
        assert _counted(platform, who, loan.listing_id)[0] == 0
        with platform.uow() as uow:
            assert assessed.outstanding(uow, who) == Money(0)
    assert_books_balanced(platform)


def test_a_counter_that_drifted_is_reported(platform: Platform) -> None:
    listing_id = published_listing(platform, INVESTING, amount=10_000)
    who = investor(platform, 5_000)
    invest(platform, INVESTING, listing_id, who, 2_000)
    with platform.uow() as uow:
        assert counters.mismatches(uow) == []
        uow.s.execute(text("UPDATE investor_exposure SET outstanding_fen = outstanding_fen + 1"
                           " WHERE investor_id = :u"), {"u": who})
        uow.s.execute(text("DELETE FROM listing_stakes WHERE investor_id = :u"), {"u": who})
        found = counters.mismatches(uow)
    assert found == [
        f"investor {who}'s exposure is 200001 fen; history sums to 200000 fen",
        f"investor {who}'s stake in listing {listing_id} is 0 fen; history sums to 200000 fen",
    ]
