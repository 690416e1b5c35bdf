"""`biaodi simulate`: a day-by-day market on the platform's own services (docs/SIMULATION.md)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from biaodi.adapters.clock import CST, FixedClock
from biaodi.adapters.db.engine import make_engine
from biaodi.bootstrap import Platform, build_platform, migrate_database
from biaodi.cli.common import console, fail, platform
from biaodi.domain.shared.errors import BiaodiError, InvalidInput
from biaodi.domain.simulation import market
from biaodi.domain.simulation.scenario import Scenario
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
                                   "configured database's book; the live one is only read."),
    mix: str = typer.Option("", help="Listing mix, e.g. credit:consumer=40,collateral:car=20 "
                            "(default: docs/SIMULATION.md)."),
    data: Annotated[Path | None, typer.Option(help="Credit data CSV in Biaodi's column names "
                                              "(default: the credit_data set).")] = None,
    compare: bool = typer.Option(True, help="Also run the baseline and compare against it."),
    start: str = typer.Option("", help="First simulated day YYYY-MM-DD (default: today)."),
    database: str = typer.Option("", help="Simulate in this empty database (e.g. a PostgreSQL "
                                 "URL) instead of a scratch SQLite file under --out."),
    contracts: bool = typer.Option(False, help="Render the e-contracts' PDFs at each close "
                                   "(slow); without it they stay pending, as without a font."),
) -> None:
    """Simulate the market day by day through the platform's services and write a report."""
    try:
        chosen = scenarios.find(scenario)
        weights = market.parse_mix(mix) if mix else market.DEFAULT_MIX
        first = _start(start)
    except BiaodiError as problem:
        fail(problem.message)
    if database and compare and chosen.name != "baseline":
        fail("--database holds one run: add --no-compare (or simulate the baseline)")
    out.mkdir(parents=True, exist_ok=True)
    config = SimConfig(days=days, borrowers=borrowers, investors=investors, seed=seed,
                       mix=weights, scenario=chosen, data=data)
    runs = [config]
    if compare and chosen.name != "baseline":
        runs.insert(0, replace(config, scenario=Scenario()))
    if not contracts:
        logging.getLogger("biaodi.documents").setLevel(logging.ERROR)
    live = platform()
    results = {}
    try:
        for run in runs:
            name = run.scenario.name
            try:
                target = scratch(live, out / f"{name}.db", from_live=from_live, start=first,
                                 url=database or None, contracts=contracts)
            except BiaodiError as problem:
                fail(problem.message)
            try:
                results[name] = _run(target, run, name)
            except Violation as broken:
                _broken(out, name, broken)
            finally:
                target.close()
    finally:
        live.close()
    written = output.write(out, results, baseline="baseline" if "baseline" in results else None)
    for path in written:
        console.print(f"wrote {path}")


def _start(text: str) -> datetime | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("--start must be a date YYYY-MM-DD", field="start") from None
    return datetime.combine(day, time(10, 0), tzinfo=CST)


def _broken(out: Path, name: str, broken: Violation) -> NoReturn:
    """Stop at the first broken day, saying what broke (also in violation.txt)."""
    lines = [f"the books broke on {broken.day} in the {name} run:", *broken.problems]
    (out / "violation.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.print(f"[red]{lines[0]}[/red]", highlight=False)
    for problem in broken.problems:
        console.print(f"  {problem}", highlight=False)
    raise typer.Exit(3)


def _run(target: Platform, config: SimConfig, name: str) -> output.Result:
    sim = Simulator(target, config)
    run_with_progress(target, config, name, sim)
    return output.collect(target, sim)


def run_with_progress(target: Platform, config: SimConfig, name: str,
                      sim: Simulator | None = None) -> list[DayFigures]:
    """Run the simulation under a Rich progress bar: day, book outstanding, overdue rate."""
    with Progress(TextColumn(f"[bold]{name}[/bold]"), BarColumn(),
                  TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
                  TextColumn("{task.fields[book]}"), TextColumn("{task.fields[overdue]}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(name, total=config.days, book="book 0.00", overdue="overdue 0.00 %")

        def progress(f: DayFigures) -> None:
            bar.update(task, completed=f.day + 1, book=f"book {f.book_fen / 100:,.2f}",
                       overdue=f"overdue {f.overdue_rate * 100:.2f} %")

        sim = sim or Simulator(target, config)
        sim.progress = progress
        return sim.run()


def scratch(live: Platform, path: Path, *, from_live: bool, start: datetime | None = None,
            url: str | None = None, contracts: bool = False) -> Platform:
    """A platform with a clock the simulation moves, on a new SQLite database at `path` (or the
    empty database at `url`): migrated, and holding a copy of the live book with
    `from_live`. The live database is only read."""
    if url is None:
        for leftover in (path, path.with_name(path.name + "-wal"),
                         path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    # One run's connections are few; its database is a scratch one (see make_engine).
    engine = make_engine(url, pool_size=4, durable=False)
    migrate_database(engine, cipher=live.cipher)
    if scenarios.has_users(engine):
        engine.dispose()
        raise InvalidInput("the simulation's database must be empty: it already has users "
                           "(the live book is only ever copied, with --from-live)",
                           field="database")
    if from_live:
        scenarios.copy_book(live.engine, engine)
    begin = start or live.clock.now()
    day = begin.astimezone(CST).date()
    clock = FixedClock(datetime.combine(day, time(10, 0), tzinfo=CST))
    update: dict[str, object] = {"database_url": url}
    if not contracts:
        update["document_font"] = path.with_name("no-font-contracts-pending.ttc")
    settings = live.settings.model_copy(update=update)
    target = build_platform(settings, clock=clock, engine=engine)
    target.cipher = live.cipher
    return target
