"""Cash-wallet rules: the 7-day yield, T+1 on the working-day calendar, income, the cap."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from biaodi.adapters.clock import CST
from biaodi.adapters.fundco.protocol import FundOrder
from biaodi.adapters.fundco.sandbox import SandboxFundCompany
from biaodi.domain.funds.wallet import (
    check_instant_redemption,
    daily_income_exact,
    post_income,
    seven_day_yield,
    trade_dates,
)
from biaodi.domain.shared.compliance import ComplianceViolation
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money


def test_seven_day_yield_of_the_worked_example_is_2_2133_percent() -> None:
    published = ["0.6012", "0.6010", "0.6008", "0.5990", "0.5985", "0.5980", "0.6001"]
    rates = [Decimal(r) for r in published]
    assert seven_day_yield(rates).quantize(Decimal("0.0001")) == Decimal("2.2133")
    with pytest.raises(InvalidInput):
        seven_day_yield(rates[:6])


@pytest.mark.parametrize(("received", "trade", "confirm"), [
    (datetime(2026, 12, 2, 14, 59), date(2026, 12, 2), date(2026, 12, 3)),  # Wed before 15:00
    (datetime(2026, 12, 2, 15, 0), date(2026, 12, 3), date(2026, 12, 4)),  # at the cut-off
    (datetime(2026, 12, 4, 16, 0), date(2026, 12, 7), date(2026, 12, 8)),  # Fri late: Mon, Tue
    (datetime(2026, 12, 5, 10, 0), date(2026, 12, 7), date(2026, 12, 8)),  # a Saturday
    (datetime(2026, 9, 30, 14, 0), date(2026, 9, 30), date(2026, 10, 8)),  # before 国庆
    (datetime(2026, 10, 3, 10, 0), date(2026, 10, 8), date(2026, 10, 9)),  # in the holiday
    (datetime(2026, 10, 9, 14, 0), date(2026, 10, 9), date(2026, 10, 10)),  # Sat 10-10 worked
])
def test_t_plus_one_follows_the_cut_off_and_the_working_day_calendar(
        received: datetime, trade: date, confirm: date) -> None:
    dates = trade_dates(received.replace(tzinfo=CST))
    assert (dates.trade_date, dates.confirm_date) == (trade, confirm)


def test_income_is_kept_exact_and_posted_rounded_without_losing_a_fraction() -> None:
    units, rate = 12_345, Decimal("0.6012")  # ¥123.45: 0.74218… fen a day
    exact, posted = Decimal(0), 0
    for _ in range(3):
        exact, fen = post_income(exact, posted, daily_income_exact(units, rate))
        posted += fen
    assert exact == Decimal("2.2265442")
    assert posted == 2  # rounding each day alone would have posted 1 + 1 + 1 = 3


def test_instant_redemption_cap_is_dated_and_names_its_rule() -> None:
    day = date(2026, 12, 1)
    check_instant_redemption(day, Money.yuan(6_000), Money.yuan(4_000))
    with pytest.raises(ComplianceViolation) as refused:
        check_instant_redemption(day, Money.yuan(6_000), Money.parse("4000.01"))
    assert refused.value.rule_id == "csrc2018.mmf_instant_redemption_cap"
    check_instant_redemption(date(2018, 5, 31), Money(0), Money.yuan(50_000))  # before the rule


def test_the_sandbox_fund_shares_its_register_between_processes_through_its_state_file(
        tmp_path: Path) -> None:
    state = tmp_path / "fund.json"
    server, batch = SandboxFundCompany(state_file=state), SandboxFundCompany(state_file=state)
    account = server.open_account("biaodi:1")
    ack = server.place(FundOrder("o-1", account, "subscribe", 1_000_000,
                                 datetime(2026, 12, 1, 10, 0, tzinfo=CST)))
    assert ack.confirm_date == date(2026, 12, 2)
    assert [c.order_no for c in batch.confirmations(date(2026, 12, 2))] == ["o-1"]
    assert batch.statement(date(2026, 12, 2))[0].units_fen == 1_000_060
    assert server.statement(date(2026, 12, 2))[0].units_fen == 1_000_060
