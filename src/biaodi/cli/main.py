"""The `biaodi` command line (Typer + Rich)."""

from __future__ import annotations

import uuid

import typer

from biaodi.cli import accounts as users
from biaodi.cli import (
    advisory,
    analytics,
    audit,
    contracts,
    db,
    demo,
    disclosure,
    incentives,
    keys,
    ledger,
    notify,
    payments,
    risk,
    servicing,
    wallet,
)
from biaodi.cli.listings import schedule
from biaodi.cli.serve import serve
from biaodi.cli.simulate import simulate

app = typer.Typer(
    name="biaodi",
    help="Biaodi (标的): an online lending marketplace built around listing types.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _acting(ctx: typer.Context) -> None:
    # What a command changes is recorded in the audit trail as done by "cli", under one
    # request id per command run.
    ctx.with_resource(audit.acting("cli", request_id=f"cli-{uuid.uuid4().hex[:16]}"))


app.command("serve")(serve)
app.add_typer(db.app, name="db")
app.add_typer(ledger.app, name="ledger")
app.add_typer(users.app, name="users")
app.add_typer(demo.app, name="demo")
app.command("schedule")(schedule)
app.command("simulate")(simulate)
app.add_typer(risk.app, name="risk")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(disclosure.app, name="disclosure")
app.add_typer(contracts.app, name="contracts")
app.add_typer(notify.app, name="notify")
app.add_typer(incentives.app, name="incentives")
app.add_typer(wallet.app, name="wallet")
app.add_typer(advisory.app, name="advisory")
# The payment commands (gateway-sandbox, reconcile, …) are top-level: `biaodi reconcile`.
app.registered_commands.extend(payments.app.registered_commands)
# So are the servicing commands: `biaodi close-day`.
app.registered_commands.extend(servicing.app.registered_commands)
# And the analytics commands: `biaodi report`, `biaodi export`, `biaodi analytics`.
app.registered_commands.extend(analytics.app.registered_commands)


if __name__ == "__main__":  # pragma: no cover
    app()
