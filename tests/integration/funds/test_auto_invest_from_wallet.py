"""Auto-invest may draw on the cash wallet, on SQLite and PostgreSQL: a rule that opted in has a
short wallet topped up by an instant redemption in the same transaction, within the dated
¥10,000 daily cap; a rule that did not opt in is skipped."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import AutoInvestAllocation
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.services.funds import wallet as cash
from biaodi.services.investing import auto_invest
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.shared.tx import in_transaction
from investing_support import assert_books_balanced, balances, investor, published_listing
from servicing_support import set_day

RULES = InvestingRules()
CAP_RULE = "csrc2018.mmf_instant_redemption_cap"


def _wallet_in_fund(platform: Platform, clock: FixedClock, yuan: int, *, opt_in: bool,
                    per_listing: int = 2_000) -> int:
    """An investor whose whole wallet went into the fund yesterday (units confirmed today),
    with an auto-invest rule."""
    set_day(clock, date(2026, 12, 1), time(10, 0))
    who = investor(platform, yuan)
    in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, who, Money.yuan(yuan)))
    cash.relay_orders(platform.uow, platform.fund_company)
    in_transaction(platform.uow, lambda uow: cash.confirm(
        uow, platform.fund_company, date(2026, 12, 2)))
    cmd = auto_invest.RuleInput(Money.yuan(per_listing), draw_on_cash_wallet=opt_in)
    in_transaction(platform.uow, lambda uow: auto_invest.save_rule(uow, who, cmd))
    return who


def _lines(platform: Platform, listing_id: int) -> dict[int, AutoInvestAllocation]:
    with platform.reader() as uow:
        return {a.investor_id: a for a in uow.s.scalars(select(AutoInvestAllocation).where(
            AutoInvestAllocation.listing_id == listing_id))}


def _units(platform: Platform, who: int) -> str:
    with platform.reader() as uow:
        return cash.overview(uow, who)["units"]


def test_an_opted_in_rule_tops_up_from_the_cash_wallet_and_an_opted_out_one_does_not(
        platform: Platform, clock: FixedClock) -> None:
    drawer = _wallet_in_fund(platform, clock, 5_000, opt_in=True)
    keeper = _wallet_in_fund(platform, clock, 5_000, opt_in=False)
    set_day(clock, date(2026, 12, 2), time(10, 0))
    listing_id = published_listing(platform, RULES, amount=10_000)
    lines = _lines(platform, listing_id)
    assert lines[drawer].outcome == "allocated" and lines[drawer].amount_fen == 200_000
    assert "redeemed from the cash wallet" in lines[drawer].reason
    assert lines[keeper].outcome == "skipped" and "cash above reserve" in lines[keeper].reason
    assert _units(platform, drawer) == "3000.00" and _units(platform, keeper) == "5000.00"
    frozen = wallet(OwnerKind.INVESTOR, drawer, "frozen").code
    available = wallet(OwnerKind.INVESTOR, drawer).code
    assert balances(platform, frozen, available) == {frozen: 200_000, available: 0}
    with platform.reader() as uow:
        [order] = cash.overview(uow, drawer)["orders"][:1]
    assert (order["kind"], order["amount"], order["status"]) == (
        "instant_redeem", "2000.00", "pending")  # the relay tells the fund afterwards
    assert cash.relay_orders(platform.uow, platform.fund_company).placed == 1
    assert_books_balanced(platform)


def test_the_top_up_stays_within_the_daily_instant_cap_and_the_refusal_names_it(
        platform: Platform, clock: FixedClock) -> None:
    partly = _wallet_in_fund(platform, clock, 20_000, opt_in=True)
    spent = _wallet_in_fund(platform, clock, 20_000, opt_in=True)
    set_day(clock, date(2026, 12, 2), time(9, 0))
    fund = platform.fund_company
    in_transaction(platform.uow, lambda uow: cash.instant_redeem(
        uow, fund, partly, Money.yuan(9_500)))
    in_transaction(platform.uow, lambda uow: cash.instant_redeem(
        uow, fund, spent, Money.yuan(10_000)))
    # both spend the redeemed cash elsewhere: their wallets are empty again
    for who, yuan in ((partly, 9_500), (spent, 10_000)):
        in_transaction(platform.uow, lambda uow, w=who, y=yuan: cash.subscribe(
            uow, fund, w, Money.yuan(y)))
    set_day(clock, date(2026, 12, 2), time(10, 0))
    listing_id = published_listing(platform, RULES, amount=10_000)
    lines = _lines(platform, listing_id)
    assert lines[partly].outcome == "allocated"
    assert lines[partly].amount_fen == 50_000  # the ¥500 the cap leaves today, not ¥2,000
    assert lines[spent].outcome == "skipped" and CAP_RULE in lines[spent].reason
    with platform.reader() as uow:
        assert cash.overview(uow, partly)["instant_left_today"] == "0.00"
    assert_books_balanced(platform)
