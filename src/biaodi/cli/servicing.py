"""`biaodi close-day` and servicing commands (servicing capability)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Servicing: close of business, repayments, defaults.", no_args_is_help=True)
