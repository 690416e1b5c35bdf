"""`biaodi audit …`: proving the audit trail is whole."""

from __future__ import annotations

import typer

from biaodi.cli.common import console, err_console, platform
from biaodi.services.shared import audit as audit_service
from biaodi.services.shared.audit import acting

__all__ = ["acting", "app"]

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Recompute the hash chain; exit 1 naming the first record changed, deleted or out of
    order."""
    p = platform()
    try:
        with p.reader() as uow:
            result = audit_service.verify(uow)
    finally:
        p.close()
    if result.ok:
        console.print(f"audit trail OK: {result.records} records, chain intact")
        return
    err_console.print(f"audit trail BROKEN at {result.problem} "
                      f"({result.records} records verified before it)",
                      highlight=False, soft_wrap=True)
    raise typer.Exit(1)
