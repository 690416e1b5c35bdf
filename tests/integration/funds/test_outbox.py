"""Cash-wallet orders go to the fund company through an outbox, on SQLite and PostgreSQL: the
money moves and the order is recorded in one transaction; the relay sends it afterwards, under
its fixed order number, and a fund that is down or loses its answer loses nothing."""

from __future__ import annotations

from datetime import date, time

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.fundco.sandbox import SandboxFundCompany
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
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


def _available(platform: Platform, investor_id: int) -> int:
    code = wallet(OwnerKind.INVESTOR, investor_id).code
    return balances(platform, code)[code]


def _subscribe(platform: Platform, investor_id: int, yuan: int):  # type: ignore[no-untyped-def]
    return in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, investor_id, Money.yuan(yuan)))


def _confirm(platform: Platform, day: date) -> int:
    return in_transaction(platform.uow, lambda uow: cash.confirm(uow, platform.fund_company, day))


def _order(platform: Platform, investor_id: int) -> dict:
    with platform.reader() as uow:
        return cash.overview(uow, investor_id)["orders"][0]


def test_a_fund_that_is_down_gets_the_order_once_when_it_recovers(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    buyer = investor(platform, 5_000)
    fund = _fund(platform)
    fund.down = 2  # the first two calls go unanswered
    order = _subscribe(platform, buyer, 3_000)
    assert order.status == "pending"
    assert _available(platform, buyer) == Money.yuan(2_000).fen  # the money moved at once
    assert fund.orders_taken() == []  # nothing reached the fund inside the transaction

    first = cash.relay_orders(platform.uow, fund)
    assert (first.failed, first.placed) == (1, 0)
    assert cash.relay_orders(platform.uow, fund).failed == 0  # backing off: not due yet
    clock.advance(seconds=31)
    assert cash.relay_orders(platform.uow, fund).failed == 1  # still down
    with platform.reader() as uow:
        [waiting] = cash.orders_waiting(uow)
    assert waiting["attempts"] == 2 and "not answering" in waiting["last_error"]
    clock.advance(seconds=61)
    recovered = cash.relay_orders(platform.uow, fund)
    assert (recovered.opened, recovered.placed) == (1, 1)
    assert fund.orders_taken() == [order.order_no]  # exactly one order at the fund
    assert _order(platform, buyer)["status"] == "placed"

    assert _confirm(platform, date(2026, 12, 2)) == 1
    with platform.reader() as uow:
        assert cash.overview(uow, buyer)["units"] == "3000.00"
        assert cash.orders_waiting(uow) == []
    assert_books_balanced(platform)


def test_an_answer_lost_on_the_way_back_is_asked_again_with_the_same_order_number(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    buyer = investor(platform, 1_000)
    fund = _fund(platform)
    fund.lose_replies = 1  # the fund takes the order, its answer never arrives
    order = _subscribe(platform, buyer, 1_000)
    assert cash.relay_orders(platform.uow, fund).failed == 1
    assert fund.orders_taken() == [order.order_no]
    clock.advance(minutes=1)
    assert cash.relay_orders(platform.uow, fund).placed == 1
    assert fund.orders_taken() == [order.order_no]  # the retry did not buy twice
    assert _confirm(platform, date(2026, 12, 2)) == 1
    with platform.reader() as uow:
        assert cash.overview(uow, buyer)["units"] == "1000.00"
    assert_books_balanced(platform)


def test_a_confirmation_before_the_answer_is_recorded_once(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    buyer = investor(platform, 1_000)
    fund = _fund(platform)
    fund.lose_replies = 1
    _subscribe(platform, buyer, 1_000)
    cash.relay_orders(platform.uow, fund)
    assert _confirm(platform, date(2026, 12, 2)) == 1  # the fund confirms what it took
    clock.advance(minutes=1)
    assert cash.relay_orders(platform.uow, fund).placed == 0  # nothing left to send
    assert _order(platform, buyer)["status"] == "confirmed"
    with platform.reader() as uow:
        assert cash.overview(uow, buyer)["units"] == "1000.00"


def test_a_refused_redemption_gives_the_units_back(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 1_000)
    fund = _fund(platform)
    _subscribe(platform, holder, 1_000)
    cash.relay_orders(platform.uow, fund)
    _confirm(platform, date(2026, 12, 2))
    with platform.reader() as uow:
        account_no = cash.overview(uow, holder)["account_no"]
    fund.adjust(account_no, -100_000)  # the fund holds less than we think
    set_day(clock, date(2026, 12, 2), time(10, 0))
    in_transaction(platform.uow, lambda uow: cash.redeem(uow, fund, holder, Money.yuan(500)))
    with platform.reader() as uow:
        assert cash.overview(uow, holder)["redeeming"] == "500.00"
    result = cash.relay_orders(platform.uow, fund)
    assert result.refused == 1 and "fewer than" in result.errors[0]
    with platform.reader() as uow:
        view = cash.overview(uow, holder)
    assert (view["units"], view["redeeming"]) == ("1000.00", "0.00")
    assert view["orders"][0]["status"] == "refused"
    assert_books_balanced(platform)


def test_close_of_business_sends_the_orders_before_taking_confirmations(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 1_000)
    order = _subscribe(platform, holder, 1_000)
    set_day(clock, date(2026, 12, 2), time(22, 0))
    [first] = close_day(platform.close_day_command(), date(2026, 12, 1))
    assert first.steps["fund_send"] == 1 and first.steps["fund_confirm"] == 0
    assert _fund(platform).orders_taken() == [order.order_no]
    [second] = close_day(platform.close_day_command(), date(2026, 12, 2))
    assert second.steps["fund_send"] == 0 and second.steps["fund_confirm"] == 1
