"""`biaodi wallet …`: the cash wallet's fund and its daily reconciliation."""

from __future__ import annotations

from datetime import date

import typer

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.cli.common import console, err_console, fail, platform, relay_passes
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.errors import BiaodiError, InvalidInput
from biaodi.services.accounts import users
from biaodi.services.funds import wallet as wallet_service
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="The cash wallet (money-market fund).", no_args_is_help=True)


@app.command()
def fund() -> None:
    """The fund sold, its latest 万份收益 and 7-day annualised yield."""
    p = platform()
    with p.reader() as uow:
        view = wallet_service.overview(uow, 0)
    console.print(f"{p.fund_company.fund_name} ({p.fund_company.fund_code}): 万份收益 "
                  f"{view['latest_per_10k'] or '–'}, 7-day yield "
                  f"{view['seven_day_yield_percent'] or '–'} %", highlight=False)
    p.close()


@app.command()
def breaks(business_date: str = typer.Argument(..., help="YYYY-MM-DD")) -> None:
    """Differences with the fund's statement on a day; exit 1 if there are any."""
    try:
        day = date.fromisoformat(business_date)
    except ValueError:
        err_console.print("business_date must be YYYY-MM-DD")
        raise typer.Exit(2) from None
    p = platform()
    with p.reader() as uow:
        found = wallet_service.breaks_on(uow, day)
    p.close()
    if not found:
        console.print(f"{day}: the wallet agrees with the fund's statement")
        return
    open_ones = [line for line in found if line["resolution"] is None]
    for line in found:
        state = (f" — resolved: {line['resolution']} ({line['reason']})"
                 if line["resolution"] else "")
        err_console.print(f"#{line['id']} {line['account_no']} {line['kind']}: ours "
                          f"{line['ours']}, fund's {line['theirs']}{state}", highlight=False)
    if open_ones:
        raise typer.Exit(1)


@app.command()
def resolve(
    break_id: int = typer.Argument(..., help="The break's id (`biaodi wallet breaks DAY`)."),
    resolution: str = typer.Option(..., "--as", help="adjust (take the fund's figure) or "
                                   "timing (a timing difference a later statement cleared)"),
    reason: str = typer.Option(..., "--reason", help="Why: kept with the resolution."),
    cleared_on: str | None = typer.Option(None, "--cleared-on",
                                          help="For timing: the later business date whose "
                                               "statement agrees, YYYY-MM-DD."),
    operator: int = typer.Option(..., "--operator", help="The operator's user id."),
) -> None:
    """Resolve a break with the fund's statement, recorded with the operator and the reason."""
    p = platform()
    try:
        try:
            cleared = date.fromisoformat(cleared_on) if cleared_on else None
        except ValueError:
            raise InvalidInput("cleared_on must be YYYY-MM-DD", field="cleared_on") from None

        def act(uow: UnitOfWork) -> dict[str, object]:
            if Role.OPERATOR.value not in users.roles_of(uow, operator):
                raise InvalidInput(f"user {operator} is not an operator", field="operator")
            return wallet_service.resolve_break(uow, wallet_service.ResolveBreak(
                break_id, operator, resolution, reason, cleared))
        done = in_transaction(p.uow, act)
    except BiaodiError as error:
        fail(f"{error.field or 'break'}: {error.message}")
    finally:
        p.close()
    console.print(f"break #{done['id']} resolved: {done['resolution']}"
                  + (f", entry {done['entry_id']}" if done["entry_id"] else ""), highlight=False)


@app.command()
def relay(
    loop: bool = typer.Option(False, "--loop", help="Keep relaying until stopped (Ctrl-C)."),
    interval: float = typer.Option(
        None, help="Seconds between passes with --loop (default BIAODI_FUND_RELAY_INTERVAL_"
                   "SECONDS)."),
) -> None:
    """Send recorded subscriptions and redemptions to the fund company; an order the fund
    did not answer is tried again after a back-off, under the same order number."""
    p = platform()
    pause = interval if interval is not None else (p.settings.fund_relay_interval_seconds or 10)

    def one_pass() -> tuple[bool, str, list[str]]:
        result = wallet_service.relay_orders(p.uow, p.fund_company)
        return (bool(result.placed or result.failed or result.refused),
                f"accounts opened {result.opened}, placed {result.placed}, "
                f"refused {result.refused}, to retry {result.failed}", result.errors[:5])

    relay_passes(p, one_pass, loop=loop, pause=pause)


@app.command()
def outbox() -> None:
    """Orders the fund company has not taken yet, oldest first."""
    p = platform()
    with p.reader() as uow:
        waiting = wallet_service.orders_waiting(uow)
    p.close()
    if not waiting:
        console.print("no order is waiting for the fund company")
    for o in waiting:
        console.print(f"{o['order_no']} {o['kind']} ¥{o['amount']} tries {o['attempts']} "
                      f"next {o['next_attempt_at']} {o['last_error']}", highlight=False)
