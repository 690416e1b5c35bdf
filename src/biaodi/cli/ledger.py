"""`biaodi ledger …`: proving the books balance."""

from __future__ import annotations

import typer

from biaodi.cli.common import console, err_console, platform
from biaodi.services.investing import counters
from biaodi.services.ledger import posting as ledger_service

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Recompute every balance from the postings, and investing's maintained counters from
    the investments and holdings; exit 1 and list mismatches if any."""
    p = platform()
    with p.uow() as uow:
        result = ledger_service.verify(uow)
        miscounted = counters.mismatches(uow)
    p.close()
    for problem in miscounted:
        err_console.print(f"counter mismatch: {problem}", highlight=False, soft_wrap=True)
    if result.balanced and not miscounted:
        console.print(f"ledger balanced: {result.entries} entries, {result.accounts} accounts;"
                      " counters agree with history")
        return
    for problem in result.problems:
        err_console.print(f"mismatch: {problem}", highlight=False, soft_wrap=True)
    if miscounted:
        err_console.print(f"counters NOT equal to history: {len(miscounted)} problem(s)")
    if not result.balanced:
        err_console.print(f"ledger NOT balanced: {len(result.problems)} problem(s)")
    raise typer.Exit(1)
