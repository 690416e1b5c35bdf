"""User and money metrics on one hand-built book of sign-ups, on SQLite and PostgreSQL.

The book (through the services; deposits and a withdrawal through the payment gateway's
callbacks):
- 2026-11-28: A and B sign up from the WeChat campaign 双十一, C from search ads, D organic,
  F referred (campaign 邀请); A, B, C and F answer the questionnaire; A deposits 50,000.00 and
  F 20,000.00 by mobile, B 1,000.00 through a third party; listing L1 is published; A invests
  3,000.00 and F 2,000.00; campaigns 双十一 (WeChat, 1,000.00) and 品牌词 (search ads, 500.00)
  are recorded;
- 2026-11-29: A invests 1,000.00 more and B 100.00; B withdraws 200.00 by bank transfer;
- 2026-12-05: G signs up (organic); F sets an auto-invest rule of 300.00 a listing; L2 is
  published (F's rule invests 300.00) and A invests 500.00 in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from biaodi.bootstrap import Platform
from biaodi.domain.analytics.tiers import parse_tiers
from biaodi.domain.payments.orders import WithdrawalLimits
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.analytics import campaigns, money
from biaodi.services.analytics import users as metrics
from biaodi.services.analytics.common import Period
from biaodi.services.investing import auto_invest, suitability
from biaodi.services.payments import orders as payments
from biaodi.services.payments.orders import StartPayment
from biaodi.services.shared.tx import in_transaction
from factories import identity
from investing_support import AGGRESSIVE, invest, published_listing
from payment_support import gateway_event
from servicing_support import INVESTING

TIERS = parse_tiers("普通:0:0,白银:1000:0,黄金:40000:1")
NOV_DEC = Period(date(2026, 11, 1), date(2026, 12, 31))
LIMITS = WithdrawalLimits(per_transaction=Money.yuan(50_000), per_day=Money.yuan(200_000))


def at(platform: Platform, day: date) -> None:
    """02:00 UTC: 10:00 of the same business day in Beijing."""
    platform.clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


@dataclass
class People:
    a: int
    b: int
    c: int
    d: int
    f: int
    g: int


def _sign_up(platform: Platform, channel: str | None = None, campaign: str | None = None
             ) -> int:
    cmd = users.Register(**identity(), roles=("investor",), channel=channel, campaign=campaign)
    return in_transaction(platform.uow, lambda uow: users.register(
        uow, cmd, platform.cipher)).id


def _assess(platform: Platform, who: int) -> None:
    in_transaction(platform.uow, lambda uow: suitability.assess(uow, who, AGGRESSIVE))


def _deposit(platform: Platform, who: int, amount: str, channel: str) -> None:
    order = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, StartPayment(who, Money.parse(amount), channel)))
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(order.order_no, amount), source="callback"))


def _withdraw(platform: Platform, who: int, amount: str) -> None:
    order = in_transaction(platform.uow, lambda uow: payments.start_withdrawal(
        uow, StartPayment(who, Money.parse(amount), "bank_transfer"), LIMITS))
    event = gateway_event(order.order_no, amount, type="payout", status="succeeded")
    in_transaction(platform.uow, lambda uow: payments.apply_event(uow, event,
                                                                  source="callback"))


@pytest.fixture(scope="module")
def people(book_platform: Platform) -> People:
    platform = book_platform
    at(platform, date(2026, 11, 28))
    a, b = _sign_up(platform, "wechat", "双十一"), _sign_up(platform, "wechat", "双十一")
    c, d = _sign_up(platform, "search_ads"), _sign_up(platform)
    f = _sign_up(platform, "referral", "邀请")
    for who in (a, b, c, f):
        _assess(platform, who)
    _deposit(platform, a, "50000.00", "mobile")
    _deposit(platform, f, "20000.00", "mobile")
    _deposit(platform, b, "1000.00", "third_party")
    for name, channel, cost in (("双十一", "wechat", "1000.00"), ("品牌词", "search_ads", "500")):
        in_transaction(platform.uow, lambda uow, n=name, ch=channel, c_=cost:
                       campaigns.record_campaign(uow, campaigns.RecordCampaign(
                           n, ch, Money.parse(c_)), actor_id=1))
    first = published_listing(platform, INVESTING, amount=100_000)
    invest(platform, INVESTING, first, a, 3_000)
    invest(platform, INVESTING, first, f, 2_000)

    at(platform, date(2026, 11, 29))
    invest(platform, INVESTING, first, a, 1_000)
    invest(platform, INVESTING, first, b, 100)
    _withdraw(platform, b, "200.00")

    at(platform, date(2026, 12, 5))
    g = _sign_up(platform, "organic")
    in_transaction(platform.uow, lambda uow: auto_invest.save_rule(uow, f, auto_invest.RuleInput(
        Money.yuan(300), kinds=("credit",))))
    second = published_listing(platform, INVESTING, amount=100_000)
    invest(platform, INVESTING, second, a, 500)
    return People(a, b, c, d, f, g)


def _read(platform: Platform, fn, *args):  # type: ignore[no-untyped-def]
    with platform.reader() as uow:
        return fn(uow, *args)


def test_sign_ups_record_their_channel_and_campaign(book_platform: Platform, people: People
                                                    ) -> None:
    with pytest.raises(InvalidInput) as unknown:
        _sign_up(book_platform, "tiktok")
    assert unknown.value.field == "channel" and "wechat" in unknown.value.message
    with pytest.raises(InvalidInput) as long:
        _sign_up(book_platform, "wechat", "x" * 65)
    assert long.value.field == "campaign"


def test_the_funnel_by_channel_and_campaign(book_platform: Platform, people: People) -> None:
    F = metrics.FunnelRow
    assert _read(book_platform, metrics.funnel) == [
        F("organic", "", 2, 2, 0, 0, 0),  # D and G: nothing after signing up
        F("referral", "邀请", 1, 1, 1, 1, 1),
        F("search_ads", "", 1, 1, 1, 0, 0),  # C answered the questionnaire only
        F("wechat", "双十一", 2, 2, 2, 2, 2)]
    # by the business day of the registration
    assert _read(book_platform, metrics.funnel, Period(date(2026, 12, 1), date(2026, 12, 31))
                 ) == [F("organic", "", 1, 1, 0, 0, 0)]
    november = _read(book_platform, metrics.funnel, Period(date(2026, 11, 28),
                                                           date(2026, 11, 28)))
    assert sum(row.registered for row in november) == 5


def test_daily_and_monthly_active_investors(book_platform: Platform, people: People) -> None:
    A = metrics.ActiveRow
    assert _read(book_platform, metrics.active_investors, NOV_DEC, "day") == [
        A("2026-11-28", 2), A("2026-11-29", 2), A("2026-12-05", 2)]
    assert _read(book_platform, metrics.active_investors, NOV_DEC, "month") == [
        A("2026-11", 3), A("2026-12", 2)]
    with pytest.raises(InvalidInput) as bad:
        _read(book_platform, metrics.active_investors, NOV_DEC, "week")
    assert bad.value.field == "grain"


def test_monthly_cohort_retention(book_platform: Platform, people: People) -> None:
    C = metrics.CohortRow
    # November's cohort: A, B and F; in December A and F invested again
    assert _read(book_platform, metrics.cohort_retention, NOV_DEC) == [
        C("2026-11", 0, 3, 3, Decimal("1.000000")), C("2026-11", 1, 3, 2, Decimal("0.666667"))]


def test_average_investment_per_investor_and_per_order(book_platform: Platform,
                                                       people: People) -> None:
    # A 3,000 + 1,000 + 500, B 100, F 2,000 + 300 (auto): 6,900.00 in 6 orders by 3 people
    assert _read(book_platform, metrics.average_ticket, NOV_DEC) == metrics.Ticket(
        690_000, 6, 3, 230_000, 115_000)
    assert _read(book_platform, metrics.average_ticket, Period(date(2026, 11, 29),
                                                               date(2026, 11, 29))
                 ) == metrics.Ticket(110_000, 2, 2, 55_000, 55_000)
    nobody = Period(date(2026, 12, 6), date(2026, 12, 31))
    assert _read(book_platform, metrics.average_ticket, nobody) == metrics.Ticket(
        0, 0, 0, None, None)


def test_auto_invest_share(book_platform: Platform, people: People) -> None:
    from biaodi.services.analytics import products
    assert _read(book_platform, products.auto_invest_share, NOV_DEC) == products.AutoShare(
        660_000, 30_000, Decimal("0.043478"))  # 300 / 6,900


def test_investor_tiers_from_assets_and_months(book_platform: Platform, people: People
                                               ) -> None:
    T = metrics.TierRow
    # A holds 50,000.00 (available + frozen) and first invested a month before: 黄金; F holds
    # 20,000.00: 白银; B 800.00 after the withdrawal, and C, D, G nothing: 普通
    assert _read(book_platform, metrics.investors_by_tier, date(2026, 12, 31), TIERS) == [
        T("普通", 4, 80_000), T("白银", 1, 2_000_000), T("黄金", 1, 5_000_000)]
    # a whole month only from 28 December: on the 27th A is still 白银
    assert _read(book_platform, metrics.tier_of, people.a, date(2026, 12, 27), TIERS
                 ) == metrics.InvestorTier(people.a, 5_000_000, 0, "白银")
    assert _read(book_platform, metrics.tier_of, people.a, date(2026, 12, 28), TIERS
                 ) == metrics.InvestorTier(people.a, 5_000_000, 1, "黄金")
    assert _read(book_platform, metrics.tier_of, people.g, date(2026, 12, 28), TIERS
                 ) == metrics.InvestorTier(people.g, 0, 0, "普通")


def test_cost_per_acquired_investor(book_platform: Platform, people: People) -> None:
    assert _read(book_platform, metrics.cost_per_investor) == [
        metrics.AcquisitionCost("search_ads", "品牌词", 50_000, 0, None),
        metrics.AcquisitionCost("wechat", "双十一", 100_000, 2, 50_000)]
    with pytest.raises(Conflict):
        in_transaction(book_platform.uow, lambda uow: campaigns.record_campaign(
            uow, campaigns.RecordCampaign("双十一", "wechat", Money.yuan(1)), actor_id=1))
    with pytest.raises(InvalidInput) as unknown:
        in_transaction(book_platform.uow, lambda uow: campaigns.record_campaign(
            uow, campaigns.RecordCampaign("x", "billboard", Money.yuan(1)), actor_id=1))
    assert unknown.value.field == "channel"


def test_deposits_and_withdrawals_by_payment_channel(book_platform: Platform, people: People
                                                     ) -> None:
    C = money.ChannelRow
    assert _read(book_platform, money.payments_by_channel, NOV_DEC) == [
        C("deposit", "mobile", 2, 7_000_000), C("deposit", "third_party", 1, 100_000),
        C("withdrawal", "bank_transfer", 1, 20_000)]
    assert _read(book_platform, money.payments_by_channel,
                 Period(date(2026, 11, 29), date(2026, 12, 31))) == [
        C("withdrawal", "bank_transfer", 1, 20_000)]


def test_custody_matches_the_wallets(book_platform: Platform, people: People) -> None:
    found = _read(book_platform, money.custody_against_wallets)
    # 71,000.00 deposited, 200.00 withdrawn
    assert found == money.Custody(7_080_000, 7_080_000, 0)
