"""`biaodi advisory suggest`: the advisory programme for a level and a loss budget over the
risk model's grades in each listing type (or the issue's worked example), what-if, nothing
saved."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import typer

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
