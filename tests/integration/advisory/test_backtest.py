"""The advice back-tested on the simulator: a cohort adopts it and the market runs; its realised
figures agree with the ledger and it bought only what the advice chose (SQLite and PostgreSQL,
at a tiny size)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.shared.money import Money
from biaodi.services.investing import auto_invest
from biaodi.services.ledger import posting as ledger
from biaodi.services.simulation.advised import AdvisedSimulator, Cohort, report
from biaodi.services.simulation.run import SimConfig
from conftest import TEST_KEY
from servicing_support import seed_lpr

DATA = Path(__file__).resolve().parents[2] / "data" / "credit_data_sample.csv"
TINY = SimConfig(days=30, borrowers=30, investors=6, seed=11, data=DATA)
COHORT = Cohort(investors=2, deposit=Money.yuan(50_000), budget=Money.yuan(50_000),
                per_listing=Money.yuan(2_500))


def test_the_advised_cohort_realises_what_the_ledger_says_and_buys_only_the_advice(
        platform: Platform) -> None:
    seed_lpr(platform)
    platform.settings = platform.settings.model_copy(
        update={"document_font": Path("/nonexistent/no-font.ttc")})
    sim = AdvisedSimulator(platform, TINY, COHORT)
    sim.run()  # integrity.check after every day raises on a broken book
    found = report(platform, sim)
    head, mix = found["headline"], found["mix"]
    ids = ", ".join(str(i) for i in sim.advised)
    with platform.reader() as uow:
        wallets = -int(uow.s.execute(text(f"""
            SELECT COALESCE(SUM(p.amount), 0) FROM postings p JOIN accounts a
            ON a.id = p.account_id WHERE a.owner_kind = 'investor' AND a.owner_id IN ({ids})
            AND a.purpose IN ('available', 'frozen')""")).scalar())
        bought = uow.s.execute(text(f"""
            SELECT l.grade, l.kind, i.amount_fen, i.source FROM investments i
            JOIN listings l ON l.id = i.listing_id
            WHERE i.investor_id IN ({ids}) AND i.status <> 'refunded'""")).all()
        assert ledger.verify(uow).balanced
    assert head["level"] == "C5" and head["investors"] == 2 and head["days"] == TINY.days
    assert head["deposited_fen"] == 2 * 5_000_000
    assert head["cash_fen"] == wallets  # the wallets as the postings make them
    assert head["gain_fen"] == head["cash_fen"] + head["holdings_fen"] - head["deposited_fen"]
    assert bought, "the cohort's rules invested in the tiny market"
    assert {source for *_, source in bought} == {"auto"}  # only its rules invested
    advised = set(sim.advice.weights) if sim.advice else set()
    assert {f"{grade}/{kind}" for grade, kind, *_ in bought} <= advised
    assert max(amount for _, _, amount, _ in bought) <= COHORT.per_listing.fen
    assert sum(row["subscribed_fen"] for row in mix) == sum(a for _, _, a, _ in bought)
    assert abs(sum(float(row["suggested_percent"]) for row in mix) - 100) < 0.05
    with platform.reader() as uow:  # every adopted rule kept within its share of the budget
        caps = uow.s.execute(text(f"""SELECT id, rule_cap_fen FROM auto_invest_rules
            WHERE investor_id IN ({ids})""")).all()
        assert caps and all(cap is not None and auto_invest.rule_invested(uow, rule) <= cap
                            for rule, cap in caps)


def test_the_backtest_command_prints_and_writes_the_cohorts_tables(
        db_url: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend != "sqlite":
        pytest.skip("the command simulates in a scratch SQLite file whatever the live database")
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    out = tmp_path / "bt"
    done = CliRunner().invoke(app, [
        "advisory", "backtest", "--days", "3", "--borrowers", "3", "--investors", "2",
        "--cohort", "1", "--budget", "20000", "--seed", "5", "--data", str(DATA),
        "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "the advised cohort" in done.output and "suggested and realised" in done.output
    with (out / "advisory_headline.csv").open(encoding="utf-8") as handle:
        head = next(csv.DictReader(handle))
    assert head["level"] == "C5" and head["deposited_fen"] == "2000000"
    assert int(head["gain_fen"]) == (int(head["cash_fen"]) + int(head["holdings_fen"])
                                     - int(head["deposited_fen"]))
    with (out / "advisory_mix.csv").open(encoding="utf-8") as handle:
        assert {row["choice"] for row in csv.DictReader(handle)} >= {"B/guarantee"}
