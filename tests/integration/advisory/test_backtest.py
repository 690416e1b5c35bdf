"""The advice back-tested on the simulator: a cohort adopts it and the market runs; its realised
figures agree with the ledger and it bought only what the advice chose (SQLite and PostgreSQL,
at a tiny size)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.simulation.advised import AdvisedSimulator, Cohort, report
from biaodi.services.simulation.run import SimConfig
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
