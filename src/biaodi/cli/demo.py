"""`biaodi demo seed`: a demo marketplace in an empty database."""

from __future__ import annotations

import typer

from biaodi.cli.common import console, platform
from biaodi.services.demo import seed as demo
from biaodi.services.risk.applications import build_env
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="Demo data.", no_args_is_help=True)


@app.command()
def seed() -> None:
    """Create demo users, wallets and listings of every allowed type (only if no user exists)."""
    p = platform()
    try:
        env = build_env(p.settings, p.cipher)
        summary = in_transaction(p.uow, lambda uow: demo.seed(uow, p.cipher, p.investing_rules,
                                                              env))
    finally:
        p.close()
    if not summary.created:
        console.print("demo data not created: the database already has users")
        return
    console.print(f"demo marketplace created: {summary.listings} listings")
    for who, name in summary.users.items():
        console.print(f"  {who}: {name}")
