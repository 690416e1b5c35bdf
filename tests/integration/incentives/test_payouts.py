"""What incentives pay after the investment, on both databases: a rate boost accrues on its
holding and is paid by close of business from marketing, outside the borrower's rate, and is
lost when the holding is sold; trial principal pays its interest at maturity, is voided by a
withdrawal during the trial and is one per identity and device; a referral is rewarded and
points are awarded by the platform's own close of business. The ledger balances throughout."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import Holding, Listing
from biaodi.bootstrap import Platform
from biaodi.domain.payments.orders import WithdrawalLimits
from biaodi.domain.shared.errors import Conflict
from biaodi.domain.shared.money import Money
from biaodi.services.incentives import referrals, trials
from biaodi.services.incentives.rules import IncentiveRules
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.payments import orders as payments
from biaodi.services.secondary import purchases, sales
from biaodi.services.servicing.close_day import close_day
from biaodi.services.shared.tx import in_transaction
from incentive_support import (
    BOOST,
    TRIAL,
    campaign,
    coupon_status,
    invest_with,
    issue,
    run_steps,
    spent,
    template,
)
from investing_support import assert_books_balanced, balances, investor, published_listing
from servicing_support import seed_lpr, set_day

RULES = InvestingRules()


def expected_boost(days: int) -> Decimal:
    """5,000.00 yuan × 2 % a year × days / 365, in fen."""
    return Decimal(500_000) * Decimal("0.02") * days / 365


def test_a_boost_accrues_is_paid_by_marketing_and_is_lost_when_sold(
        platform: Platform, clock: FixedClock) -> None:
    seed_lpr(platform)
    listing = published_listing(platform, RULES, amount=10_000, rate="0.10")
    alice, bob = investor(platform, 5_000), investor(platform, 5_000)
    camp = campaign(platform)
    [boost] = issue(platform, template(platform, camp, BOOST), alice)
    invest_with(platform, RULES, listing, alice, 5_000, boost)
    assert coupon_status(platform, boost) == ("accruing", 0)
    invest_with(platform, RULES, listing, bob, 5_000)  # funds the listing
    with platform.uow() as uow:
        held = uow.s.execute(select(Holding).where(Holding.investor_id == alice)).scalar_one()
        start, holding_id = held.interest_start, held.id
        assert uow.s.get_one(Listing, listing).annual_rate_ppm == 100_000  # the borrower's
    paid_before = balances(platform, f"investor:{alice}:available")
    day = start
    for _ in range(10):
        run_steps(platform, day)
        day += timedelta(days=1)
    status, paid = coupon_status(platform, boost)
    assert status == "accruing" and abs(paid - expected_boost(10)) < 1
    assert balances(platform, f"investor:{alice}:available")[f"investor:{alice}:available"] \
        == paid_before[f"investor:{alice}:available"] + paid
    assert spent(platform, camp) == paid
    assert_books_balanced(platform)

    # day 10: alice sells the whole holding to carol; the boost is lost from then on
    set_day(clock, day)
    base = platform.secondary_rules
    market = replace(base, sale=replace(base.sale, holding_period_days=0))
    sale = in_transaction(platform.uow, lambda uow: sales.offer(
        uow, sales.Offer(holding_id, alice, Decimal("0"), None), market))
    carol = investor(platform, 8_000)
    in_transaction(platform.uow, lambda uow: purchases.buy(uow, purchases.Buy(sale.id, carol),
                                                           market))
    for _ in range(3):
        run_steps(platform, day)
        day += timedelta(days=1)
    assert coupon_status(platform, boost) == ("lost", paid)
    assert spent(platform, camp) == paid
    assert_books_balanced(platform)


def test_a_boost_runs_its_days_and_ends_with_the_rounded_total(platform: Platform) -> None:
    seed_lpr(platform)
    listing = published_listing(platform, RULES, amount=10_000)
    alice, bob = investor(platform, 5_000), investor(platform, 5_000)
    [boost] = issue(platform, template(platform, campaign(platform), BOOST, days=3), alice)
    invest_with(platform, RULES, listing, alice, 5_000, boost)
    invest_with(platform, RULES, listing, bob, 5_000)
    with platform.uow() as uow:
        start = uow.s.execute(select(Holding.interest_start).where(
            Holding.investor_id == alice)).scalar_one()
    for offset in (0, 2, 3):  # a missed day is caught up; the day after the last ends it
        run_steps(platform, start + timedelta(days=offset))
    assert coupon_status(platform, boost) == ("ended", round(expected_boost(3)))  # 822 fen
    assert_books_balanced(platform)


LIMITS = WithdrawalLimits(per_transaction=Money(1000_00), per_day=Money(2500_00))


def test_trial_principal_pays_at_maturity_and_a_withdrawal_voids_it(
        platform: Platform, clock: FixedClock) -> None:
    camp = campaign(platform)
    trial = template(platform, camp, TRIAL)  # 10,000 yuan at 8 % for 5 days: 10.96 yuan
    alice, bob = investor(platform, 1_000), investor(platform, 1_000)
    mine = in_transaction(platform.uow, lambda uow: trials.claim_trial(uow, alice, trial, "a"))
    in_transaction(platform.uow, lambda uow: trials.claim_trial(uow, bob, trial, "b"))
    for who, device, rule in ((alice, "c", "trial_once_per_identity"),
                              (investor(platform, 0), "a", "trial_once_per_device")):
        with pytest.raises(Conflict) as once:
            in_transaction(platform.uow, lambda uow, w=who, d=device: trials.claim_trial(
                uow, w, trial, d))
        assert once.value.code == rule
    start = clock.today()
    set_day(clock, start + timedelta(days=2))
    in_transaction(platform.uow, lambda uow: payments.start_withdrawal(
        uow, payments.StartPayment(alice, Money.yuan(100), "third_party"), LIMITS))
    run_steps(platform, clock.today())
    with platform.uow() as uow:
        assert [t["status"] for t in trials.trials_of(uow, alice)] == ["void"]
    before = balances(platform, f"investor:{bob}:available")
    for offset in (3, 4, 5, 6):
        set_day(clock, start + timedelta(days=offset))
        run_steps(platform, clock.today())
    with platform.uow() as uow:
        [theirs] = trials.trials_of(uow, bob)
        assert uow.s.execute(text("SELECT status FROM trial_principals WHERE id = :i"),
                             {"i": mine}).scalar_one() == "void"
    assert theirs["status"] == "paid" and theirs["interest"] == "10.96"
    after = balances(platform, f"investor:{bob}:available")
    assert after[f"investor:{bob}:available"] - before[f"investor:{bob}:available"] == 1_096
    assert spent(platform, camp) == 1_096
    assert_books_balanced(platform)


def test_close_of_business_rewards_a_referral_and_awards_points(platform: Platform) -> None:
    seed_lpr(platform)
    listing = published_listing(platform, RULES, amount=10_000)
    alice, bob = investor(platform, 1_000), investor(platform, 3_000)
    with platform.uow() as uow:
        alice_name = uow.s.execute(text("SELECT username FROM users WHERE id = :i"),
                                   {"i": alice}).scalar_one()
    rules = IncentiveRules()
    in_transaction(platform.uow, lambda uow: referrals.record_referral(uow, bob, alice_name,
                                                                       rules))
    with pytest.raises(Conflict):
        in_transaction(platform.uow, lambda uow: referrals.record_referral(
            uow, bob, alice_name, rules))
    invest_with(platform, RULES, listing, bob, 2_500)
    before = balances(platform, f"investor:{alice}:available")
    [summary] = close_day(platform.close_day_command(), platform.clock.today())
    assert summary.steps["incentive_referrals"] == 1 and summary.steps["incentive_points"] == 1
    after = balances(platform, f"investor:{alice}:available")
    assert after[f"investor:{alice}:available"] - before[f"investor:{alice}:available"] == 2_000
    with platform.uow() as uow:
        assert referrals.points_of(uow, bob, rules)["points"] == 25
        alice_points = referrals.points_of(uow, alice, rules)
    assert alice_points["points"] == 10 and alice_points["referred"] == 1
    assert_books_balanced(platform)
