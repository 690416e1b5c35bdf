"""Each stress scenario, at a small size, moves its figure the way it should against the
baseline of the same seed: a default shock raises losses, an investor run widens the
secondary market's discounts, a collateral price fall lowers what 抵押标 sales recover, a
rate rise lifts the rates new listings are priced at.

SQLite only: these compare two runs of the same market, which the determinism test
(test_simulation.py) shows to be the same on both databases. The shocks start on a day that
fits a short run (`Scenario.shifted`), and the default shock is far stronger than the shipped
×3 (risk control approves mostly rows the data marks good, which stop paying with 3 % over a
loan's life), so that a handful of loans shows it. The e-contracts are left pending (no font
configured, as the platform does without one): rendering them is most of a small run's time."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest
from cryptography.fernet import Fernet

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.engine import make_engine
from biaodi.bootstrap import build_platform
from biaodi.config import Settings
from biaodi.domain.simulation.scenario import Scenario
from biaodi.services.simulation import output, scenarios
from biaodi.services.simulation.run import SimConfig, Simulator

DATA = Path(__file__).resolve().parents[2] / "data" / "credit_data_sample.csv"
START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
SHORT = SimConfig(days=45, borrowers=16, investors=15, seed=5, data=DATA, arrival_days=5,
                  mix=MappingProxyType({"credit:consumer": 2, "collateral:car": 1,
                                        "guarantee:small_business": 1}))
#: Long enough for a loan to fall past M3 (90 days after its first missed instalment) and
#: its collateral to be sold.
LONG = replace(SHORT, days=125, borrowers=10, seed=3, disposal_days=0,
               mix=MappingProxyType({"collateral:car": 1, "collateral:house": 1,
                                     "collateral:art": 1}))
SHOCK = Scenario(name="stressed", default_multiplier=Decimal(100))


def run(template: Path, folder: Path, config: SimConfig) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "sim.db"
    shutil.copyfile(template, db)
    url = f"sqlite:///{db}"
    settings = Settings(database_url=url, secret_key=Fernet.generate_key().decode(),
                        secret_key_file=folder / "unused-secret",
                        document_font=folder / "no-font.ttc")  # contracts stay pending
    platform = build_platform(settings, clock=FixedClock(START), engine=make_engine(url))
    try:
        sim = Simulator(platform, config)
        sim.run()
        result = output.collect(platform, sim)
    finally:
        platform.close()
    return {**result.headline, "events": result.events, "pricing": result.pricing}


@pytest.fixture(scope="module")
def short_baseline(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run(sqlite_template, tmp_path_factory.mktemp("short"), SHORT)


def test_a_default_shock_raises_losses(short_baseline: dict, sqlite_template: Path,
                                       tmp_path: Path) -> None:
    shocked = run(sqlite_template, tmp_path, replace(SHORT, scenario=SHOCK))
    assert shocked["events"].get("borrowers_stopped", 0) > short_baseline["events"].get(
        "borrowers_stopped", 0)
    assert Decimal(shocked["loss_and_overdue_rate"]) > Decimal(
        short_baseline["loss_and_overdue_rate"])


def test_an_investor_run_widens_secondary_discounts(short_baseline: dict,
                                                    sqlite_template: Path,
                                                    tmp_path: Path) -> None:
    run_scenario = scenarios.find("investor_run").shifted(31)
    running = run(sqlite_template, tmp_path,
                  replace(SHORT, scenario=replace(run_scenario, investor_run_days=5)))
    assert running["events"]["investors_ran"] > 0
    assert running["secondary_offered_fen"] > short_baseline["secondary_offered_fen"]
    assert running["secondary_offered_premium_ppm"] < short_baseline[
        "secondary_offered_premium_ppm"]


def test_a_collateral_price_fall_lowers_recoveries(sqlite_template: Path,
                                                   tmp_path: Path) -> None:
    fall = scenarios.find("collateral_fall").shifted(0)
    calm = run(sqlite_template, tmp_path / "calm", replace(LONG, scenario=SHOCK))
    fallen = run(sqlite_template, tmp_path / "fall",
                 replace(LONG, scenario=replace(
                     fall, default_multiplier=SHOCK.default_multiplier)))
    assert calm["events"]["disposals"] > 0
    assert fallen["events"]["disposals"] == calm["events"]["disposals"]
    assert Decimal(fallen["collateral_cover"]) < Decimal(calm["collateral_cover"])
    assert Decimal(fallen["collateral_recovery_rate"]) <= Decimal(calm["collateral_recovery_rate"])


def test_a_guarantor_failure_leaves_holders_less_covered(sqlite_template: Path,
                                                         tmp_path: Path) -> None:
    guaranteed = replace(SHORT, days=50, borrowers=24, seed=9, mix=MappingProxyType(
        {"guarantee:small_business": 1}))
    failing = replace(scenarios.find("guarantor_failure").shifted(0),
                      default_multiplier=SHOCK.default_multiplier)
    calm = run(sqlite_template, tmp_path / "calm", replace(guaranteed, scenario=SHOCK))
    failed = run(sqlite_template, tmp_path / "failed", replace(guaranteed, scenario=failing))
    assert calm["guarantor_paid_fen"] > 0
    assert failed["guarantor_paid_fen"] < calm["guarantor_paid_fen"]


def test_a_rate_rise_lifts_the_rates_of_new_listings(short_baseline: dict,
                                                     sqlite_template: Path,
                                                     tmp_path: Path) -> None:
    rise = scenarios.find("rate_rise")
    assert rise.rate_rise_bp == 150  # the shipped scenario: LPR +150 bp
    risen = run(sqlite_template, tmp_path, replace(SHORT, scenario=rise.shifted(0)))
    assert risen["events"]["lpr_rise"] == 1
    assert risen["events"]["listings_published"] > 0
    # Every segment is listed dearer, and the book as a whole by more than half the rise (a
    # rate at the top of its risk band stays there).
    before = {(r["kind"], r["vertical"]): r["rate_ppm"] for r in short_baseline["pricing"]}
    after = {(r["kind"], r["vertical"]): r["rate_ppm"] for r in risen["pricing"]}
    assert set(after) == set(before)
    assert all(after[segment] > before[segment] for segment in before)
    assert risen["listed_rate_ppm"] - short_baseline["listed_rate_ppm"] > 7_500  # > 75 bp
