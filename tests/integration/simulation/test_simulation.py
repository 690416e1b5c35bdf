"""The market simulator drives the real services day by day: the books hold after every day,
and the same seed gives the same market to the fen on SQLite and PostgreSQL.

Sizes: the issue's small simulation (60 days, 500 borrowers) runs on both databases and gives
the same tables to the fen; a smaller market (60 days, 150 borrowers) checks the report's files
and its breakdowns, on both databases too (docs/SIMULATION.md, "Determinism")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from biaodi.bootstrap import Platform
from biaodi.domain.simulation import market
from biaodi.services.simulation import output
from biaodi.services.simulation.run import SimConfig, Simulator
from servicing_support import seed_lpr

DATA = Path(__file__).resolve().parents[2] / "data" / "credit_data_sample.csv"
SMALL = SimConfig(days=60, borrowers=150, investors=15, seed=11, data=DATA)
ISSUE = SimConfig(days=60, borrowers=500, investors=15, seed=11, data=DATA)
_SQLITE: dict[str, Any] = {}


def simulate(platform: Platform, config: SimConfig = SMALL) -> output.Result:
    seed_lpr(platform)
    # e-contracts stay pending without a font (rendering them is most of a small run's time)
    platform.settings = platform.settings.model_copy(
        update={"document_font": Path("/nonexistent/no-font.ttc")})
    sim = Simulator(platform, config)
    sim.run()
    return output.collect(platform, sim)


# About a minute of CPU each on a quiet machine; many times that in wall time while other
# suites share the two cores, so these two get longer than the suite's default timeout.
LONG_RUN = pytest.mark.timeout(1500)


@LONG_RUN
def test_the_issues_small_simulation_runs_with_the_books_balanced_every_day(
        platform: Platform, backend: str, tmp_path: Path) -> None:
    result = simulate(platform, ISSUE)  # integrity.check after every day raises on a break
    head = result.headline
    assert head["days"] == 60
    assert result.events["applications_approved"] + result.events[
        "applications_declined"] > 400  # the borrowers applied (originators list claims)
    assert head["loans"] > 0 and head["lent_fen"] > 0
    assert result.events.get("manual_investments", 0) > 0
    assert {r["channel"] for r in result.channels} <= set(market.CHANNELS)
    assert sum(r["investors"] for r in result.channels) == ISSUE.investors
    tables = result.tables()
    if backend == "sqlite":
        _SQLITE["issue"] = tables
    elif "issue" in _SQLITE:
        # Same seed and configuration: the same market to the fen on both databases.
        assert tables == _SQLITE["issue"]


@LONG_RUN
def test_a_small_market_runs_with_the_books_balanced_every_day(platform: Platform,
                                                               backend: str,
                                                               tmp_path: Path) -> None:
    result = simulate(platform)  # integrity.check after every day raises on a broken book
    head = result.headline
    assert head["days"] == SMALL.days
    assert head["loans"] > 0 and head["lent_fen"] > 0
    assert result.events["listings_published"] >= head["loans"]
    assert result.events.get("manual_investments", 0) > 0
    tables = result.tables()
    written = {p.name for p in output.write(tmp_path, {"baseline": result}, "baseline")}
    assert {"baseline_losses.csv", "baseline_returns.csv", "baseline_channels.csv",
            "baseline_pricing.csv", "report.html"} <= written
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Plotly" in page and '<script src=' not in page  # the bundle is inlined
    assert "Investor return by acquisition channel" in page
    # Returns by strategy, tier and channel add up to the returns by channel alone.
    assert {r["channel"] for r in result.returns} == {r["channel"] for r in result.channels}
    for channel in result.channels:
        parts = [r for r in result.returns if r["channel"] == channel["channel"]]
        assert sum(r["investors"] for r in parts) == channel["investors"]
        assert sum(r["gain_fen"] for r in parts) == channel["gain_fen"]
    if backend == "sqlite":
        _SQLITE["tables"] = tables
    elif "tables" in _SQLITE:
        # Same seed and configuration: the same market to the fen on both databases.
        assert tables == _SQLITE["tables"]


def as_text(state: dict[str, Any]) -> dict[str, list[tuple[str, ...]]]:
    """A snapshot's values as text: SQLite gives dates as text, PostgreSQL as dates."""
    return {name: [tuple(str(v) for v in row) for row in rows]  # type: ignore[attr-defined]
            for name, rows in state.items()}


def test_from_live_starts_from_a_copy_and_never_touches_the_live_book(
        platform: Platform, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from biaodi.adapters.db.tables import Listing
    from biaodi.cli.simulate import scratch
    from biaodi.services.demo import seed as demo
    from biaodi.services.shared.tx import in_transaction
    from risk_support import env
    from servicing_support import snapshot

    seed_lpr(platform)
    in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher,
                                                       platform.investing_rules, env(platform)))
    before = snapshot(platform)
    copy = scratch(platform, tmp_path / "scratch.db", from_live=True)
    try:
        assert as_text(snapshot(copy)) == as_text(before)  # the copy starts as the live book
        sim = Simulator(copy, SimConfig(days=4, borrowers=3, investors=3, seed=2, data=DATA))
        sim.run()  # the live book's loans are serviced too, and the books hold every day
        with copy.reader() as uow:
            listed = uow.s.scalar(select(func.count()).select_from(Listing))
    finally:
        copy.close()
    assert listed >= len(before["listings"])
    assert snapshot(platform) == before


def test_the_demo_marketplace_seeds_beside_a_simulated_market(platform: Platform) -> None:
    from biaodi.services.demo import seed as demo
    from biaodi.services.ledger import posting as ledger
    from biaodi.services.shared.tx import in_transaction
    from risk_support import env

    simulate(platform, SimConfig(days=3, borrowers=4, investors=4, seed=3, data=DATA))
    rules, risk_env = platform.investing_rules, env(platform)
    made = in_transaction(platform.uow, lambda uow: demo.seed(
        uow, platform.cipher, rules, risk_env, beside_others=True))
    again = in_transaction(platform.uow, lambda uow: demo.seed(
        uow, platform.cipher, rules, risk_env, beside_others=True))
    assert made.created and made.listings == 6 and not again.created
    with platform.reader() as uow:
        assert ledger.verify(uow).balanced


def test_simulated_users_sign_in_with_the_shared_password(platform: Platform) -> None:
    """The password is hashed once per run and stored for every sign-up; it still verifies."""
    from datetime import timedelta

    from biaodi.adapters.db.tables import User
    from biaodi.domain.shared.errors import Unauthorized
    from biaodi.services.accounts import users
    from biaodi.services.simulation import people

    sim = Simulator(platform, SimConfig(days=1, borrowers=2, investors=2, seed=4, data=DATA))
    sim.run()
    with platform.uow() as uow:
        names = [uow.s.get_one(User, i.user_id).username for i in sim.investors]
        hashes = {uow.s.get_one(User, i.user_id).password_hash for i in sim.investors}
        token, _ = users.login(uow, names[0], people.PASSWORD, timedelta(hours=1))
        assert token
        with pytest.raises(Unauthorized):
            users.login(uow, names[1], people.PASSWORD + "x", timedelta(hours=1))
    assert len(hashes) == 1 and next(iter(hashes)).startswith("$argon2id$")
