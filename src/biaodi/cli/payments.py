"""`biaodi gateway-sandbox`, `biaodi reconcile` and payment commands (payments capability)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Payments, custody and reconciliation.", no_args_is_help=True)
