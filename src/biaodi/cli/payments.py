"""`biaodi gateway-sandbox`, `biaodi reconcile` and `biaodi payment-exceptions` (payments)."""

from __future__ import annotations

from datetime import date

import typer

from biaodi.cli.common import console, err_console, fail, platform
from biaodi.config import Settings
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.payments import reconciliation
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="Payments, custody and reconciliation.", no_args_is_help=True)

#: Exit codes of `biaodi reconcile`.
EXIT_OPEN, EXIT_BAD_INPUT, EXIT_NOT_RECONCILED = 1, 2, 3


@app.command("gateway-sandbox")
def gateway_sandbox(
    port: int = typer.Option(8100, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    merchant_id: str | None = typer.Option(
        None, help="Merchant to accept (default BIAODI_GATEWAY_MERCHANT_ID)."),
    secret: str | None = typer.Option(
        None, help="That merchant's signing secret (default BIAODI_GATEWAY_SECRET)."),
    fixed_now: str | None = typer.Option(
        None, help="Freeze the sandbox's clock at this ISO time (UTC if no zone)."),
) -> None:
    """Run the sandbox payment gateway: a stand-in for the real one, with its own state, that
    accepts orders, lets tests and people approve, decline or delay them, and sends signed
    callbacks (also duplicated, delayed, reordered or tampered on demand)."""
    from biaodi.adapters.gateway import sandbox

    settings = Settings()
    merchants = {merchant_id or settings.gateway_merchant_id: secret or settings.gateway_secret}
    console.print(f"sandbox gateway on http://{host}:{port} (merchant "
                  f"{next(iter(merchants))})", highlight=False)
    sandbox.run(host, port, merchants, fixed_now)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--date must be a date like 2026-11-28, not {value!r}", EXIT_BAD_INPUT)


def _yuan(fen: int) -> str:
    from biaodi.domain.shared.money import Money

    return Money(fen).formatted()


@app.command("reconcile")
def reconcile(
    day: str = typer.Option(..., "--date", help="Business date (China Standard Time), "
                            "YYYY-MM-DD."),
) -> None:
    """Match the gateway's statement for a day with the ledger (statement ↔ custody ↔ wallets),
    record each discrepancy as a payment exception, and exit 1 while any is open for the day
    (2: bad input; 3: could not reconcile, e.g. the gateway did not answer)."""
    from biaodi.adapters.gateway.client import gateway_from_settings
    from biaodi.adapters.gateway.protocol import parse_statement

    wanted = _day(day)
    p = platform()
    try:
        text = gateway_from_settings(p.settings, p.clock).statement(wanted)
        lines = parse_statement(text)
        report = in_transaction(p.uow, lambda uow: reconciliation.reconcile(uow, wanted, lines))
    except BiaodiError as exc:
        fail(f"{wanted} not reconciled: {exc.message}", EXIT_NOT_RECONCILED)
    finally:
        p.close()
    f = report.findings
    console.print(f"reconciliation of {wanted}: {report.lines} statement line(s), "
                  f"{f.matched} matched, {len(f.found)} discrepancy(ies)", highlight=False)
    for d in f.found:
        console.print(f"  {d.describe()}", highlight=False)
    sign = "=" if f.custody_fen == f.owed_fen else "≠"
    console.print(f"custody:cash {_yuan(f.custody_fen)} {sign} wallets + suspense "
                  f"{_yuan(f.owed_fen)}", highlight=False)
    if report.cleared:
        console.print(f"cleared {report.cleared} exception(s) no longer found", highlight=False)
    if not report.open:
        console.print(f"{wanted} reconciled: no open exceptions", highlight=False)
        return
    for e in report.open:
        err_console.print(f"open exception #{e.id} {e.kind} txn {e.txn_id or '—'}: resolve "
                          f"with {' or '.join(e.as_dict()['actions'])}", highlight=False)
    err_console.print(f"{wanted} NOT reconciled: {len(report.open)} open exception(s)")
    raise typer.Exit(EXIT_OPEN)


@app.command("payment-exceptions")
def payment_exceptions(
    status: str = typer.Option("open", help="open, resolved or all."),
    day: str | None = typer.Option(None, "--date", help="Only this business date."),
) -> None:
    """List payment exceptions (an operator resolves them through the API, with a reason)."""
    wanted = _day(day) if day else None
    p = platform()
    try:
        with p.reader() as uow:
            found = reconciliation.list_exceptions(
                uow, status=None if status == "all" else status, day=wanted)
    except BiaodiError as exc:
        fail(exc.message, EXIT_BAD_INPUT)
    finally:
        p.close()
    for e in found:
        d = e.as_dict()
        console.print(f"#{e.id} {e.business_date} {e.kind} {e.status} txn {e.txn_id or '—'} "
                      f"order {e.order_no or '—'} gateway {d['gateway_amount'] or '—'} "
                      f"ledger {d['ledger_amount'] or '—'}"
                      + (f" — {e.resolution}: {e.reason}" if e.resolution else ""),
                      highlight=False)
    console.print(f"{len(found)} exception(s)")
