"""A cash-wallet break with the fund's statement, for the resolution tests."""

from __future__ import annotations

from datetime import date, time

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.fundco.sandbox import SandboxFundCompany
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.funds import wallet as cash
from biaodi.services.shared.tx import in_transaction
from investing_support import investor
from servicing_support import set_day

BREAK_DAY = date(2026, 12, 3)


def planted_break(platform: Platform, clock: FixedClock) -> tuple[int, int]:
    """¥1,000 subscribed on 12-01 and confirmed on 12-02; on 12-03 the fund's register holds
    ¥5 less than ours: one open units_mismatch break. (holder, break id)"""
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 1_000)
    fund = platform.fund_company
    assert isinstance(fund, SandboxFundCompany)
    in_transaction(platform.uow, lambda uow: cash.subscribe(uow, fund, holder, Money.yuan(1_000)))
    cash.relay_orders(platform.uow, fund)
    set_day(clock, date(2026, 12, 4), time(9, 0))
    for day in (date(2026, 12, 1), date(2026, 12, 2), BREAK_DAY):
        if day == BREAK_DAY:
            with platform.reader() as uow:
                fund.adjust(str(cash.overview(uow, holder)["account_no"]), -500)
        for _name, step in cash.day_steps(fund):
            in_transaction(platform.uow, lambda uow, s=step, d=day: s(uow, d))
    with platform.reader() as uow:
        [found] = cash.open_breaks(uow)
    return holder, int(str(found["id"]))
