"""Coupons with an investment on both databases: a cash coupon paid from marketing in the
investment's transaction, and every rule that refuses one (expired, below the minimum, the
wrong term, stacking, auto-invest, used twice) leaving nothing changed; a failed listing giving
the coupon back; budgets, counts and
the campaign's exposure; the ledger balanced throughout."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.domain.incentives.coupons import CouponRefused, CouponTaken
from biaodi.domain.shared.errors import BiaodiError, Conflict
from biaodi.domain.shared.money import Money
from biaodi.services.incentives import campaigns
from biaodi.services.incentives.coupons import coupons_of
from biaodi.services.investing import auto_invest, funding
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.shared.tx import in_transaction
from incentive_support import (
    BOOST,
    campaign,
    coupon_status,
    invest_with,
    issue,
    run_steps,
    spent,
    template,
)
from investing_support import assert_books_balanced, balances, investor, published_listing
from servicing_support import set_day

RULES = InvestingRules()


def test_a_cash_coupon_is_paid_from_marketing_with_the_investment(platform: Platform) -> None:
    listing = published_listing(platform, RULES, amount=10_000)
    alice = investor(platform, 5_000)
    camp = campaign(platform)
    [coupon] = issue(platform, template(platform, camp), alice)
    before = balances(platform, "platform:marketing_expense")["platform:marketing_expense"]
    made = invest_with(platform, RULES, listing, alice, 2_000, coupon)
    assert made.remaining.fen == 800_000
    assert coupon_status(platform, coupon) == ("used", 2_000)
    wallets = balances(platform, f"investor:{alice}:available", f"investor:{alice}:frozen",
                       "platform:marketing_expense")
    assert wallets == {f"investor:{alice}:available": 300_000 + 2_000,
                       f"investor:{alice}:frozen": 200_000,
                       "platform:marketing_expense": before + 2_000}
    assert spent(platform, camp) == 2_000
    with platform.uow() as uow:
        [mine] = coupons_of(uow, alice)
    assert mine["status"] == "used" and mine["investment_id"] == made.investment_id
    assert_books_balanced(platform)


def test_a_failed_listing_gives_the_cash_coupon_back(platform: Platform,
                                                     clock: FixedClock) -> None:
    """The refund takes the coupon's cash back into marketing and the coupon can be used
    again: a listing that never funds pays no reward."""
    listing = published_listing(platform, RULES, amount=10_000)
    alice = investor(platform, 5_000)
    camp = campaign(platform)
    [coupon] = issue(platform, template(platform, camp), alice)
    before = balances(platform, "platform:marketing_expense")["platform:marketing_expense"]
    invest_with(platform, RULES, listing, alice, 2_000, coupon)
    clock.advance(days=7)
    assert in_transaction(platform.uow, lambda uow: funding.close_funding_window(
        uow, listing, RULES)) == "failed"
    assert balances(platform, f"investor:{alice}:available", f"investor:{alice}:frozen",
                    "platform:marketing_expense") == {
        f"investor:{alice}:available": 500_000, f"investor:{alice}:frozen": 0,
        "platform:marketing_expense": before}
    assert coupon_status(platform, coupon) == ("issued", 0)
    assert spent(platform, camp) == 0
    again = published_listing(platform, RULES, amount=10_000)
    invest_with(platform, RULES, again, alice, 2_000, coupon)  # usable again
    assert coupon_status(platform, coupon) == ("used", 2_000)
    assert_books_balanced(platform)


def refused(platform: Platform, listing: int, who: int, yuan: int, *coupons: int,
            source: str = "manual") -> BiaodiError:
    """The investment is refused and changes nothing: the listing, the wallet, the coupons."""
    code = f"investor:{who}:available"
    before = balances(platform, code), [coupon_status(platform, c) for c in coupons]
    with pytest.raises(BiaodiError) as caught:
        invest_with(platform, RULES, listing, who, yuan, *coupons, source=source)
    assert (balances(platform, code), [coupon_status(platform, c) for c in coupons]) == before
    assert_books_balanced(platform)
    return caught.value


def test_coupon_rules_refuse_and_name_the_rule(platform: Platform, clock: FixedClock) -> None:
    listing = published_listing(platform, RULES, amount=10_000)  # 12 months, credit
    short = published_listing(platform, RULES, amount=10_000, term=6)
    alice = investor(platform, 10_000)
    camp = campaign(platform)
    cash = template(platform, camp, per_user_count=3)
    lone = issue(platform, cash, alice, alice, alice)
    stack = template(platform, camp, stackable=True, per_user_count=2)
    both = issue(platform, stack, alice, alice)

    below = refused(platform, listing, alice, 500, lone[0])
    assert (below.code, below.field) == ("coupon_min_investment", "amount")
    wrong_term = refused(platform, short, alice, 1_000, lone[0])
    assert wrong_term.code == "coupon_term" and "12m" in wrong_term.message
    stacking = refused(platform, listing, alice, 1_000, lone[0], lone[1])
    assert isinstance(stacking, CouponRefused) and stacking.code == "coupon_stacking"
    mixed = refused(platform, listing, alice, 1_000, both[0], lone[0])
    assert mixed.code == "coupon_stacking"
    auto = refused(platform, listing, alice, 1_000, lone[0], source="auto")
    assert auto.code == "coupon_auto_invest"
    someone = investor(platform, 1_000)
    assert refused(platform, listing, someone, 1_000, lone[0]).code == "not_found"

    invest_with(platform, RULES, listing, alice, 1_000, *both)  # stackable: both paid
    assert [coupon_status(platform, c) for c in both] == [("used", 2_000)] * 2
    with pytest.raises(CouponTaken):
        invest_with(platform, RULES, listing, alice, 1_000, both[0])

    set_day(clock, clock.today() + timedelta(days=30))  # issued today: valid 30 days
    fresh = published_listing(platform, RULES, amount=10_000)
    expired = refused(platform, fresh, alice, 1_000, lone[2])
    assert expired.code == "coupon_expired" and expired.field == "coupon_ids"
    assert run_steps(platform, clock.today())["incentive_expiry"] == 3
    assert coupon_status(platform, lone[0])[0] == "expired"
    assert_books_balanced(platform)


def test_budget_counts_and_exposure(platform: Platform, clock: FixedClock) -> None:
    people = [investor(platform, 0) for _ in range(3)]
    camp = campaign(platform, budget_yuan=100)
    cash = template(platform, camp, total_count=4, expected_use_ppm=500_000)  # 20 yuan each
    issue(platform, cash, *people)
    with pytest.raises(Conflict) as per_user:
        issue(platform, cash, people[0])
    assert per_user.value.code == "coupon_per_user_count"
    boost = template(platform, camp, BOOST)  # 5,000 × 2 % × 30/365 = 8.22 yuan a coupon
    with pytest.raises(Conflict) as count:
        issue(platform, cash, investor(platform, 0), investor(platform, 0))
    assert count.value.code == "coupon_total_count"
    issue(platform, boost, people[0], people[1], people[2], investor(platform, 0))
    with pytest.raises(Conflict) as budget:  # 60 + 32.88 spoken for; 8.22 more is over 100
        issue(platform, boost, investor(platform, 0))
    assert budget.value.code == "campaign_budget"
    with platform.uow() as uow:
        [view] = campaigns.campaigns_view(uow, camp)
    # 3 × 20.00 × 50 % + 4 × 8.22 × 100 %
    assert view["exposure"] == "62.88" and view["coupons_issued"] == 7
    set_day(clock, clock.today() + timedelta(days=31))
    with platform.uow() as uow:
        [later] = campaigns.campaigns_view(uow, camp)
    assert later["exposure"] == "0.00"  # expired coupons cost nothing more
    with pytest.raises(Conflict) as ended:
        set_day(clock, clock.today() + timedelta(days=60))
        issue(platform, cash, investor(platform, 0))
    assert ended.value.code == "campaign_ended"


def test_one_coupon_raced_by_two_investments_is_used_once(platform: Platform) -> None:
    listings = [published_listing(platform, RULES, amount=10_000) for _ in range(2)]
    alice = investor(platform, 10_000)
    [coupon] = issue(platform, template(platform, campaign(platform)), alice)
    start, outcomes = threading.Barrier(2), []

    def attempt(listing: int) -> None:
        start.wait()
        try:
            invest_with(platform, RULES, listing, alice, 1_000, coupon)
            outcomes.append("ok")
        except BiaodiError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(lst,)) for lst in listings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["coupon_not_available", "ok"]
    assert coupon_status(platform, coupon) == ("used", 2_000)
    assert balances(platform, f"investor:{alice}:frozen")[f"investor:{alice}:frozen"] == 100_000
    assert_books_balanced(platform)


def test_auto_invest_uses_only_a_coupon_its_template_allows(platform: Platform) -> None:
    alice = investor(platform, 10_000)
    camp = campaign(platform)
    [manual_only] = issue(platform, template(platform, camp), alice)
    [small, big] = [issue(platform, template(platform, camp, auto_invest=True, amount=a), alice)[0]
                    for a in (Money.yuan(5), Money.yuan(10))]
    rule = auto_invest.RuleInput(amount_per_listing=Money.yuan(1_000))
    in_transaction(platform.uow, lambda uow: auto_invest.save_rule(uow, alice, rule))
    published_listing(platform, RULES, amount=10_000)  # publishing runs auto-invest
    assert coupon_status(platform, big) == ("used", 1_000)  # the one worth most
    assert coupon_status(platform, small) == ("issued", 0)
    assert coupon_status(platform, manual_only) == ("issued", 0)
    assert_books_balanced(platform)
