"""`biaodi risk …`: train, evaluate and cross-validate scoring models (risk capability)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Risk control: scoring models, rule packs, blacklist.", no_args_is_help=True)
