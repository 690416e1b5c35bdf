"""`biaodi simulate`: a day-by-day market on the platform's own services (docs/SIMULATION.md)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from biaodi.adapters.clock import CST, FixedClock
from biaodi.adapters.db.engine import make_engine
from biaodi.bootstrap import Platform, build_platform, migrate_database
from biaodi.cli.common import console, fail, platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.domain.simulation import market
from biaodi.services.simulation import output, scenarios
from biaodi.services.simulation.integrity import Violation
from biaodi.services.simulation.run import DayFigures, SimConfig, Simulator

DEFAULT_OUT = Path("sim")


def simulate(
    days: int = typer.Option(365, min=1, max=3650, help="Days to simulate."),
    borrowers: int = typer.Option(20_000, min=0, help="Borrowers who apply over the run."),
    investors: int = typer.Option(5_000, min=1, help="Investors in the market."),
    seed: int = typer.Option(7, help="The seed: the same seed gives the same market."),
    out: Annotated[Path, typer.Option(help="Folder for the report (HTML and CSV).")] = DEFAULT_OUT,
    scenario: str = typer.Option("baseline", help="A scenario name (scenarios/NAME.toml) or "
                                 "a TOML file."),
    from_live: bool = typer.Option(False, "--from-live", help="Start from a copy of the "
                                   "configured database's book, in a scratch database under "
                                   "--out; the live one is never written."),
    mix: str = typer.Option("", help="Listing mix, e.g. credit:consumer=40,collateral:car=20 "
                            "(default: docs/SIMULATION.md)."),
    data: Annotated[Path | None, typer.Option(help="Credit data CSV in Biaodi's column names "
                                              "(default: the credit_data set).")] = None,
    compare: bool = typer.Option(True, help="Also run the baseline and compare against it."),
) -> None:
    """Simulate the market day by day through the platform's services and write a report."""
    try:
        chosen = scenarios.find(scenario)
        weights = market.parse_mix(mix) if mix else market.DEFAULT_MIX
    except BiaodiError as problem:
        fail(problem.message)
    out.mkdir(parents=True, exist_ok=True)
    config = SimConfig(days=days, borrowers=borrowers, investors=investors, seed=seed,
                       mix=weights, scenario=chosen, data=data)
    live = platform()
    try:
        results = {}
        runs = [config]
        if compare and chosen.name != "baseline":
            runs.insert(0, SimConfig(days=days, borrowers=borrowers, investors=investors,
                                     seed=seed, mix=weights, data=data))
        for run in runs:
            name = run.scenario.name
            try:
                target = scratch(live, out / f"{name}.db", from_live=from_live)
            except BiaodiError as problem:
                fail(problem.message)
            try:
                results[name] = _run(target, run, name)
            except Violation as broken:
                console.print(f"[red]the books broke on {broken.day}[/red] ({name}):")
                for problem in broken.problems:
                    console.print(f"  {problem}", highlight=False)
                raise typer.Exit(3) from None
            finally:
                target.close()
    finally:
        live.close()
    written = output.write(out, results, baseline="baseline" if "baseline" in results else None)
    for path in written:
        console.print(f"wrote {path}")


def _run(target, config: SimConfig, name: str):  # type: ignore[no-untyped-def]
    with Progress(TextColumn(f"[bold]{name}[/bold]"), BarColumn(),
                  TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
                  TextColumn("{task.fields[book]}"), TextColumn("{task.fields[overdue]}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(name, total=config.days, book="book 0.00", overdue="overdue 0.00 %")

        def progress(f: DayFigures) -> None:
            bar.update(task, completed=f.day + 1, book=f"book {f.book_fen / 100:,.2f}",
                       overdue=f"overdue {f.overdue_rate * 100:.2f} %")

        sim = Simulator(target, config, progress=progress)
        sim.run()
    return output.collect(target, sim)


def scratch(live: Platform, path: Path, *, from_live: bool, start: datetime | None = None
            ) -> Platform:
    """A platform on a new SQLite database at `path` with a clock the simulation moves:
    empty and migrated, or holding a copy of the live book."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate_database(engine, cipher=live.cipher)
    if from_live:
        scenarios.copy_book(live.engine, engine)
    begin = start or live.clock.now()
    day = begin.astimezone(CST).date()
    clock = FixedClock(datetime.combine(day, time(10, 0), tzinfo=CST))
    settings = live.settings.model_copy(update={"database_url": url})
    target = build_platform(settings, clock=clock, engine=engine)
    target.cipher = live.cipher
    return target
