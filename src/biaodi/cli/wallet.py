"""`biaodi wallet …`: the cash wallet's fund and its daily reconciliation."""

from __future__ import annotations

import time
from datetime import date

import typer

from biaodi.cli.common import console, err_console, platform
from biaodi.services.funds import wallet as wallet_service

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
    for line in found:
        err_console.print(f"{line['account_no']} {line['kind']}: ours {line['ours']}, fund's "
                          f"{line['theirs']}", highlight=False)
    raise typer.Exit(1)


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
    try:
        while True:
            result = wallet_service.relay_orders(p.uow, p.fund_company)
            if not loop or result.placed or result.failed or result.refused:
                console.print(f"accounts opened {result.opened}, placed {result.placed}, "
                              f"refused {result.refused}, to retry {result.failed}",
                              highlight=False)
                for error in result.errors[:5]:
                    console.print(f"  {error}", highlight=False)
            if not loop:
                break
            time.sleep(pause)
    except KeyboardInterrupt:
        pass
    finally:
        p.close()


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
