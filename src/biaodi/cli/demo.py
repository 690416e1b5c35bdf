"""`biaodi demo seed`: a demo marketplace in an empty database, optionally grown by simulating
a few months of market first (docs/SIMULATION.md)."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

import typer

from biaodi.adapters.clock import CST, FixedClock
from biaodi.bootstrap import Platform, build_platform
from biaodi.cli.common import console, platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.demo import seed as demo
from biaodi.services.risk.applications import build_env
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="Demo data.", no_args_is_help=True)


@app.command()
def seed(
    simulate_days: int = typer.Option(0, "--simulate-days", min=0, max=730, help="First "
                                      "simulate this many days of market up to yesterday."),
    borrowers: int = typer.Option(40, min=0, help="Borrowers of the simulated market."),
    investors: int = typer.Option(20, min=1, help="Investors of the simulated market."),
    sim_seed: int = typer.Option(7, "--seed", help="The simulation's seed."),
) -> None:
    """Create demo users, wallets and listings of every allowed type (only if no user exists);
    with --simulate-days, a simulated market's book first, so the pages show real activity."""
    p = platform()
    try:
        if demo_exists(p):
            console.print("demo data not created: the database already has users")
            return
        if simulate_days:
            try:
                simulated = _simulate(p, simulate_days, borrowers, investors, sim_seed)
                console.print(f"simulated {simulate_days} days: {simulated} listings")
            except BiaodiError as problem:  # e.g. no credit data installed: the plain demo
                console.print(f"demo market not simulated: {problem.message}")
        env = build_env(p.settings, p.cipher)
        summary = in_transaction(p.uow, lambda uow: demo.seed(
            uow, p.cipher, p.investing_rules, env, beside_others=bool(simulate_days)))
    finally:
        p.close()
    if not summary.created:
        console.print("demo data not created: the database already has users")
        return
    console.print(f"demo marketplace created: {summary.listings} listings")
    for who, name in summary.users.items():
        console.print(f"  {who}: {name}")


def demo_exists(p: Platform) -> bool:
    with p.reader() as uow:
        return demo.is_seeded(uow)


def _simulate(p: Platform, days: int, borrowers: int, investors: int, seed: int) -> int:
    """The market of the last `days` days, on this database, closing each day up to
    yesterday; the e-contracts are left for the platform's own close of business."""
    from biaodi.cli.simulate import run_with_progress
    from biaodi.services.simulation.run import SimConfig

    logging.getLogger("biaodi.documents").setLevel(logging.ERROR)
    first = p.clock.today() - timedelta(days=days)
    clock = FixedClock(datetime.combine(first, time(10, 0), tzinfo=CST))
    settings = p.settings.model_copy(update={"document_font": p.settings.document_font.with_name(
        "no-font-while-simulating.ttc")})
    market = build_platform(settings, clock=clock, engine=p.engine)
    market.cipher = p.cipher
    config = SimConfig(days=days, borrowers=borrowers, investors=investors, seed=seed)
    history = run_with_progress(market, config, "demo market")
    return history[-1].listings if history else 0
