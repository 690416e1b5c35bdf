"""`biaodi users …`: staff accounts."""

from __future__ import annotations

import typer

from biaodi.cli.common import console, fail, platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.accounts import users as user_service
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="Users and staff.", no_args_is_help=True)


@app.command("create-operator")
def create_operator(
    username: str = typer.Option(..., help="Login name."),
    real_name: str = typer.Option(..., help="Real name (实名)."),
    id_number: str = typer.Option(..., help="18-character resident ID number."),
    mobile: str = typer.Option(..., help="Mainland mobile number."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Password."
    ),
    role: str = typer.Option(
        "operator", help="operator, risk_officer, auditor or risk_override; several with"
        " commas (operator,risk_override)."),
) -> None:
    """Create a staff account (operator by default)."""
    p = platform()
    cmd = user_service.Register(
        username=username,
        password=password,
        real_name=real_name,
        id_number=id_number,
        mobile=mobile,
        roles=tuple(r.strip() for r in role.split(",") if r.strip()),
    )
    try:
        view = in_transaction(p.uow, lambda uow: user_service.create_staff(uow, cmd, p.cipher))
    except BiaodiError as exc:
        fail(exc.message, 2 if exc.status == 422 else 1)
    finally:
        p.close()
    console.print(f"created {role} {view.username} (id {view.id})")
