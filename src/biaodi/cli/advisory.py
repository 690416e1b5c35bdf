"""`biaodi advisory suggest`: the advisory programme for a level and a loss budget over the
risk model's grades in each listing type (or the issue's worked example), what-if, nothing
saved."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from biaodi.cli.common import console, err_console
from biaodi.config import Settings
from biaodi.domain.advisory.model import EXAMPLE_GRADES, AdvisoryTerms
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.advisory import market
from biaodi.services.advisory.suggest import suggest as solve

app = typer.Typer(help="Smart advisory (智能投顾).", no_args_is_help=True)


@app.command()
def suggest(level: str = typer.Option("C5", help="C1–C5"),
            cvar: str = typer.Option("3", help="95 % CVaR budget of annual loss, percent"),
            correlation: str = typer.Option("15", help="one-factor asset correlation, percent"),
            example: bool = typer.Option(False, "--example", help="the worked example's grade"
                                         " table instead of the risk model's grades")
            ) -> None:
    """The mix and why each grade (in each listing type) left out is out."""
    try:
        terms = AdvisoryTerms(level, cvar_budget=Decimal(cvar) / 100,
                              correlation=Decimal(correlation) / 100)
        advice = solve(EXAMPLE_GRADES if example else market.options_for(Settings()),
                       terms)
    except (BiaodiError, InvalidOperation) as refused:
        err_console.print(f"refused: {refused}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    shown = advice.as_dict()
    for grade, share in shown["weights"].items():
        console.print(f"{grade}: {share} %", highlight=False)
    if advice.cash:
        console.print(f"cash: {shown['cash_percent']} % ({advice.cash_reason})",
                      highlight=False, soft_wrap=True)
    console.print(f"expected return after loss {shown['expected_return_percent']} %, expected "
                  f"loss {shown['expected_loss_percent']} %, CVaR95 {shown['cvar_percent']} %",
                  highlight=False)
    for grade, why in shown["excluded"].items():
        console.print(f"{grade} left out: {why}", highlight=False, soft_wrap=True)


@app.command()
def backtest(days: int = typer.Option(90, min=1, max=3650, help="days to simulate"),
             seed: int = typer.Option(7, help="the same seed gives the same market"),
             borrowers: int = typer.Option(300, min=0, help="borrowers who apply"),
             investors: int = typer.Option(60, min=1, help="the market's other investors"),
             cohort: int = typer.Option(5, min=1, max=1000, help="investors who follow the"
                                        " advice"),
             budget: int = typer.Option(100_000, min=1_000, help="each one's deposit and"
                                        " budget, yuan"),
             data: Annotated[Path | None, typer.Option(help="credit data CSV (default: the"
                                                       " credit_data set)")] = None,
             out: Annotated[Path, typer.Option(help="folder for the simulation's database and"
                                               " the tables as CSV")] = Path("sim-advisory"),
             database: str = typer.Option("", help="simulate in this empty database instead"
                                          " of a scratch SQLite file under --out")) -> None:
    """Back-test the advice on the simulator: a cohort adopts it as auto-invest rules; its
    realised return and loss beside the advice's expectation."""
    from biaodi.cli.common import platform
    from biaodi.cli.simulate import scratch
    from biaodi.domain.shared.money import Money
    from biaodi.services.simulation.advised import Cohort
    from biaodi.services.simulation.advised import backtest as run_backtest
    from biaodi.services.simulation.output import write_csv
    from biaodi.services.simulation.run import SimConfig

    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("biaodi.documents").setLevel(logging.ERROR)  # contracts stay pending
    live = platform()
    try:
        target = scratch(live, out / "advisory.db", from_live=False, url=database or None)
        try:
            found = run_backtest(target, SimConfig(days=days, borrowers=borrowers,
                                                   investors=investors, seed=seed, data=data),
                                 Cohort(cohort, Money.yuan(budget), Money.yuan(budget),
                                        Money.yuan(max(budget // 20, 1))))
        except BiaodiError as refused:
            err_console.print(f"refused: {refused}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        finally:
            target.close()
    finally:
        live.close()
    _table("the advised cohort", [{"figure": k.removesuffix("_fen").replace("_", " "),
                                   "value": f"{v / 100:,.2f}" if k.endswith("_fen") else v}
                                  for k, v in found["headline"].items()])
    _table("the mix: suggested and realised", found["mix"])
    write_csv(out / "advisory_headline.csv", [found["headline"]])
    write_csv(out / "advisory_mix.csv", found["mix"])
    console.print(f"wrote {out / 'advisory_headline.csv'}, {out / 'advisory_mix.csv'}")


def _table(title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=title)
    if rows:
        for column in rows[0]:
            table.add_column(column.removesuffix("_fen").replace("_", " "),
                             justify="left" if column in ("choice", "figure") else "right")
        for row in rows:
            table.add_row(*(f"{v / 100:,.2f}" if k.endswith("_fen") else str(v)
                            for k, v in row.items()))
    console.print(table)
