"""The cash wallet against the sandbox fund company, on SQLite and PostgreSQL: T+1 across a
weekend and a holiday, income, the instant-redemption cap, reconciliation, close of business."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.fundco.sandbox import SandboxFundCompany
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.compliance import ComplianceViolation
from biaodi.domain.shared.money import Money
from biaodi.services.funds import wallet as cash
from biaodi.services.servicing.close_day import close_day
from biaodi.services.shared.tx import in_transaction
from investing_support import assert_books_balanced, balances, investor
from servicing_support import set_day


def _fund(platform: Platform) -> SandboxFundCompany:
    fund = platform.fund_company
    assert isinstance(fund, SandboxFundCompany)
    return fund


def _close(platform: Platform, first: date, last: date) -> list[int]:
    """Run the wallet's day steps for each date, like close of business; the breaks per day."""
    found = []
    day = first
    while day <= last:
        cash.relay_orders(platform.uow, platform.fund_company)
        for _name, fn in cash.day_steps(platform.fund_company):
            rows = in_transaction(platform.uow, lambda uow, f=fn, d=day: f(uow, d))
        found.append(rows)
        day += timedelta(days=1)
    return found


def _overview(platform: Platform, investor_id: int) -> dict:
    with platform.reader() as uow:
        return cash.overview(uow, investor_id)


def _available(platform: Platform, investor_id: int) -> int:
    code = wallet(OwnerKind.INVESTOR, investor_id).code
    return balances(platform, code)[code]


def test_subscription_late_on_friday_is_confirmed_on_tuesday_and_earns_from_then(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 4), time(16, 0))
    buyer = investor(platform, 50_000)
    order = in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, buyer, Money.yuan(20_000)))
    assert (order.trade_date, order.confirm_date) == (date(2026, 12, 7), date(2026, 12, 8))
    assert _available(platform, buyer) == Money.yuan(30_000).fen
    assert_books_balanced(platform)  # the money left custody for the fund with the wallet's

    set_day(clock, date(2026, 12, 8), time(20, 0))
    assert _close(platform, date(2026, 12, 4), date(2026, 12, 7)) == [0, 0, 0, 0]
    assert _overview(platform, buyer)["units"] == "0.00"
    _fund(platform).publish(date(2026, 12, 8), Decimal("0.6012"))
    assert _close(platform, date(2026, 12, 8), date(2026, 12, 8)) == [0]  # no breaks
    view = _overview(platform, buyer)
    # 2,000,000 fen × 0.6012 / 10,000 = 120.24 fen: 120 posted, the 0.24 kept for tomorrow
    assert view["units"] == "20001.20"
    assert view["orders"][0]["confirmed_on"] == "2026-12-08"


def test_subscription_before_the_national_day_holiday_waits_until_october_8(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 9, 30), time(14, 0))
    buyer = investor(platform, 10_000)
    order = in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, buyer, Money.yuan(10_000)))
    assert order.confirm_date == date(2026, 10, 8)
    set_day(clock, date(2026, 10, 8), time(20, 0))
    _close(platform, date(2026, 9, 30), date(2026, 10, 7))
    assert _overview(platform, buyer)["units"] == "0.00"
    assert _close(platform, date(2026, 10, 8), date(2026, 10, 8)) == [0]
    assert _overview(platform, buyer)["units"] == "10000.60"  # 0.6000 per 10,000 by default


def test_instant_redemption_is_capped_at_10000_a_day_and_ordinary_redemption_is_not(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 40_000)
    in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, holder, Money.yuan(40_000)))
    set_day(clock, date(2026, 12, 3), time(9, 0))
    _close(platform, date(2026, 12, 1), date(2026, 12, 2))
    fund = platform.fund_company

    def instant(yuan: str):  # type: ignore[no-untyped-def]
        return in_transaction(platform.uow, lambda uow: cash.instant_redeem(
            uow, fund, holder, Money.parse(yuan)))

    instant("6000")
    instant("4000")
    assert _available(platform, holder) == Money.yuan(10_000).fen  # paid at once
    with pytest.raises(ComplianceViolation) as refused:
        instant("0.01")
    assert refused.value.rule_id == "csrc2018.mmf_instant_redemption_cap"
    assert _overview(platform, holder)["instant_left_today"] == "0.00"
    ordinary = in_transaction(platform.uow, lambda uow: cash.redeem(
        uow, fund, holder, Money.yuan(20_000)))  # no cap on an ordinary redemption
    assert ordinary.confirm_date == date(2026, 12, 4)
    assert _available(platform, holder) == Money.yuan(10_000).fen

    set_day(clock, date(2026, 12, 4), time(9, 0))
    instant("10000")  # a new day, a new allowance
    assert _close(platform, date(2026, 12, 3), date(2026, 12, 4)) == [0, 0]
    assert _available(platform, holder) == Money.yuan(40_000).fen
    assert _overview(platform, holder)["redeeming"] == "0.00"
    assert_books_balanced(platform)


def test_a_difference_with_the_funds_statement_is_a_break(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 1_000)
    in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, holder, Money.yuan(1_000)))
    set_day(clock, date(2026, 12, 3), time(9, 0))
    _close(platform, date(2026, 12, 1), date(2026, 12, 2))
    no = _overview(platform, holder)["account_no"]
    _fund(platform).adjust(no, -500)
    assert _close(platform, date(2026, 12, 3), date(2026, 12, 3)) == [1]
    with platform.reader() as uow:
        [found] = cash.breaks_on(uow, date(2026, 12, 3))
    assert {k: found[k] for k in ("account_no", "kind", "ours", "theirs", "resolution")} == {
        "account_no": no, "kind": "units_mismatch", "ours": "1000.12", "theirs": "995.12",
        "resolution": None}


def test_close_of_business_runs_the_wallet_steps(platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 1_000)
    in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, holder, Money.yuan(1_000)))
    set_day(clock, date(2026, 12, 2), time(22, 0))
    [summary] = close_day(platform.close_day_command(), date(2026, 12, 2))
    assert summary.steps["fund_confirm"] == 1 and summary.steps["fund_income"] == 1
    assert summary.steps["crowdfunding_settle"] == 0  # crowdfunding's steps run too
    assert _overview(platform, holder)["units"] == "1000.06"
    with platform.reader() as uow:
        assert cash.seven_day_yield_on(uow, date(2026, 12, 2)) is None  # one day of 万份收益
