"""`biaodi ledger …`: proving the books balance."""

from __future__ import annotations

import typer

from biaodi.cli.common import console, err_console, platform
from biaodi.services.ledger import posting as ledger_service

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Recompute every balance from the postings; exit 1 and list mismatches if any."""
    p = platform()
    with p.uow() as uow:
        result = ledger_service.verify(uow)
    p.close()
    if result.balanced:
        console.print(f"ledger balanced: {result.entries} entries, {result.accounts} accounts")
        return
    for problem in result.problems:
        err_console.print(f"mismatch: {problem}", highlight=False, soft_wrap=True)
    err_console.print(f"ledger NOT balanced: {len(result.problems)} problem(s)")
    raise typer.Exit(1)
