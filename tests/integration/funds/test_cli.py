"""`biaodi wallet breaks` against a real database, and `biaodi advisory suggest`."""

from __future__ import annotations

from datetime import date, time

import pytest
from typer.testing import CliRunner

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.shared.money import Money
from biaodi.services.funds import wallet as cash
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from funds_support import BREAK_DAY, planted_break
from investing_support import investor, user
from servicing_support import set_day


def test_wallet_breaks_lists_a_difference_and_exits_1(
        db_url: str, platform: Platform, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 100)
    in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, holder, Money.yuan(100)))
    cash.relay_orders(platform.uow, platform.fund_company)
    runner = CliRunner()
    clean = runner.invoke(app, ["wallet", "breaks", "2026-12-01"])
    assert clean.exit_code == 0 and "agrees" in clean.output, clean.output
    # the fund confirmed the units on 12-02; reconciled before the wallet took the
    # confirmation, our record (no units yet) differs from the fund's statement
    in_transaction(platform.uow, lambda uow: cash.reconcile(uow, platform.fund_company,
                                                            date(2026, 12, 2)))
    found = runner.invoke(app, ["wallet", "breaks", "2026-12-02"])
    assert found.exit_code == 1  # the fund's units include 12-02's income (0.6 fen → 1)
    assert "units_mismatch: ours 0.00, fund's 100.01" in found.output


def test_advisory_suggest_prints_the_worked_example_and_the_live_mix() -> None:
    done = CliRunner().invoke(app, ["advisory", "suggest", "--level", "C5", "--example"])
    assert done.exit_code == 0, done.output
    assert "C: 40.00 %" in done.output and "D left out" in done.output
    only_a = CliRunner().invoke(app, ["advisory", "suggest", "--level", "C2", "--example"])
    assert only_a.exit_code == 0 and "A: 40.00 %" in only_a.output
    assert "cash: 60.00 %" in only_a.output
    live = CliRunner().invoke(app, ["advisory", "suggest", "--level", "C5"])
    assert live.exit_code == 0 and "/collateral:" in live.output
    assert "E/credit left out" in live.output
    refused = CliRunner().invoke(app, ["advisory", "suggest", "--cvar", "x"])
    assert refused.exit_code == 1 and "refused" in refused.output


def test_wallet_resolve_records_an_operators_resolution(
        db_url: str, platform: Platform, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    _holder, break_id = planted_break(platform, clock)
    operator = user(platform, "operator")
    runner = CliRunner()
    refused = runner.invoke(app, ["wallet", "resolve", str(break_id), "--as", "timing",
                                  "--reason", "later", "--operator", str(operator)])
    assert refused.exit_code == 1 and "cleared_on" in refused.output
    done = runner.invoke(app, ["wallet", "resolve", str(break_id), "--as", "adjust",
                               "--reason", "fund's correction", "--operator", str(operator)])
    assert done.exit_code == 0, done.output
    assert f"break #{break_id} resolved: adjusted" in done.output
    listed = runner.invoke(app, ["wallet", "breaks", BREAK_DAY.isoformat()])
    assert listed.exit_code == 0 and "resolved: adjusted" in listed.output


def test_wallet_outbox_and_relay_send_a_recorded_order(
        db_url: str, platform: Platform, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FUND_SANDBOX_STATE", str(tmp_path / "fund.json"))
    set_day(clock, date(2026, 12, 1), time(10, 0))
    holder = investor(platform, 100)
    order = in_transaction(platform.uow, lambda uow: cash.subscribe(
        uow, platform.fund_company, holder, Money.yuan(100)))
    runner = CliRunner()
    waiting = runner.invoke(app, ["wallet", "outbox"])
    assert waiting.exit_code == 0 and order.order_no in waiting.output
    sent = runner.invoke(app, ["wallet", "relay"])
    assert sent.exit_code == 0 and "placed 1" in sent.output, sent.output
    assert "no order is waiting" in runner.invoke(app, ["wallet", "outbox"]).output
    assert order.order_no in (tmp_path / "fund.json").read_text()  # the fund has it
