"""An operator resolves the cash wallet's breaks with the fund's statement, on SQLite and
PostgreSQL: the fund's figure taken with an adjusting entry, or a timing difference that a later
statement cleared; each recorded with the operator and the reason."""

from __future__ import annotations

from datetime import date, time

import pytest

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.fundco.sandbox import SandboxFundCompany
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.funds import wallet as cash
from biaodi.services.shared.tx import in_transaction
from investing_support import assert_books_balanced, balances, investor, user
from servicing_support import set_day


def _steps(platform: Platform, day: date, *names: str) -> int:
    """Run the named wallet steps for `day` in the given order; the last one's rows."""
    fund = platform.fund_company
    steps = {"relay": lambda uow: 0, "confirm": lambda uow: cash.confirm(uow, fund, day),
             "income": lambda uow: cash.pay_income(uow, fund, day),
             "reconcile": lambda uow: cash.reconcile(uow, fund, day)}
    rows = 0
    for name in names:
        if name == "relay":
            cash.relay_orders(platform.uow, fund)
            continue
        rows = in_transaction(platform.uow, steps[name])
    return rows


def _holder(platform: Platform, clock: FixedClock) -> tuple[int, str]:
    """¥1,000 subscribed on 12-01, confirmed on 12-02."""
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 1_000)
    in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, holder, Money.yuan(1_000)))
    set_day(clock, date(2026, 12, 5), time(9, 0))
    assert _steps(platform, date(2026, 12, 1), "relay", "confirm", "income", "reconcile") == 0
    with platform.reader() as uow:
        return holder, str(cash.overview(uow, holder)["account_no"])


def _resolve(platform: Platform, break_id: int, resolution: str, reason: str = "checked",
             cleared_on: date | None = None) -> dict:
    operator = user(platform, "operator")
    return in_transaction(platform.uow, lambda uow: cash.resolve_break(uow, cash.ResolveBreak(
        break_id, operator, resolution, reason, cleared_on)))


def test_taking_the_funds_figure_adjusts_our_record_through_a_suspense_entry(
        platform: Platform, clock: FixedClock) -> None:
    holder, account_no = _holder(platform, clock)
    assert _steps(platform, date(2026, 12, 2), "confirm", "income", "reconcile") == 0
    fund = platform.fund_company
    assert isinstance(fund, SandboxFundCompany)
    fund.adjust(account_no, -500)  # the fund's register lost ¥5
    assert _steps(platform, date(2026, 12, 3), "confirm", "income", "reconcile") == 1
    with platform.reader() as uow:
        [found] = cash.open_breaks(uow)
    assert (found["ours"], found["theirs"]) == ("1000.12", "995.12")
    with pytest.raises(InvalidInput) as no_reason:
        _resolve(platform, found["id"], "adjust", " ")
    assert no_reason.value.field == "reason"
    done = _resolve(platform, found["id"], "adjust", "fund confirms a correction of 12-03")
    assert done["resolution"] == "adjusted" and done["entry_id"] is not None
    assert balances(platform, "suspense:fund", "platform:fund_adjustment") == {
        "suspense:fund": 500, "platform:fund_adjustment": 500}
    with platform.reader() as uow:
        assert cash.overview(uow, holder)["units"] == "995.12"
        assert cash.open_breaks(uow) == []
    assert _steps(platform, date(2026, 12, 3), "reconcile") == 0  # agrees now; the resolved stays
    with platform.reader() as uow:
        [kept] = cash.breaks_on(uow, date(2026, 12, 3))
        assert kept["resolution"] == "adjusted" and cash.open_breaks(uow) == []
    assert _steps(platform, date(2026, 12, 4), "confirm", "income", "reconcile") == 0
    with pytest.raises(Conflict) as twice:
        _resolve(platform, found["id"], "timing")
    assert twice.value.code == "already_resolved"
    assert_books_balanced(platform)


def test_a_timing_difference_is_resolved_by_a_later_statement_that_agrees(
        platform: Platform, clock: FixedClock) -> None:
    _holder(platform, clock)
    # reconciled before the confirmation was taken: ours 0, the fund's 1,000.06
    assert _steps(platform, date(2026, 12, 2), "reconcile", "confirm", "income") == 1
    with platform.reader() as uow:
        [found] = cash.open_breaks(uow)
    assert (found["kind"], found["ours"]) == ("units_mismatch", "0.00")
    with pytest.raises(Conflict) as not_yet:
        _resolve(platform, found["id"], "timing", "confirmation came later", date(2026, 12, 3))
    assert not_yet.value.code == "not_cleared"  # 12-03 not reconciled yet
    assert _steps(platform, date(2026, 12, 3), "confirm", "income", "reconcile") == 0
    with pytest.raises(InvalidInput) as same_day:
        _resolve(platform, found["id"], "timing", "x", date(2026, 12, 2))
    assert same_day.value.field == "cleared_on"
    done = _resolve(platform, found["id"], "timing", "confirmation came later",
                    date(2026, 12, 3))
    assert (done["resolution"], done["cleared_on"], done["entry_id"]) == (
        "timing", "2026-12-03", None)
    assert balances(platform, "suspense:fund")["suspense:fund"] == 0  # no money moved
    assert_books_balanced(platform)
