"""`biaodi advisory suggest`: the advisory programme on the grade table, for a level and a
loss budget (what-if, nothing saved)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import typer

from biaodi.cli.common import console, err_console
from biaodi.domain.advisory.model import DEFAULT_GRADES, AdvisoryTerms
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.advisory.suggest import suggest as solve

app = typer.Typer(help="Smart advisory (智能投顾).", no_args_is_help=True)


@app.command()
def suggest(level: str = typer.Option("C5", help="C1–C5"),
            cvar: str = typer.Option("3", help="95 % CVaR budget of annual loss, percent"),
            correlation: str = typer.Option("15", help="one-factor asset correlation, percent")
            ) -> None:
    """The mix of grades and why each grade left out is out."""
    try:
        terms = AdvisoryTerms(level, cvar_budget=Decimal(cvar) / 100,
                              correlation=Decimal(correlation) / 100)
        advice = solve(DEFAULT_GRADES, terms)
    except (BiaodiError, InvalidOperation) as refused:
        err_console.print(f"refused: {refused}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    shown = advice.as_dict()
    for grade, share in shown["weights"].items():
        console.print(f"{grade}: {share} %", highlight=False)
    console.print(f"expected return after loss {shown['expected_return_percent']} %, expected "
                  f"loss {shown['expected_loss_percent']} %, CVaR95 {shown['cvar_percent']} %",
                  highlight=False)
    for grade, why in shown["excluded"].items():
        console.print(f"{grade} left out: {why}", highlight=False, soft_wrap=True)
