"""`biaodi notify …`: the relay that sends the outbox, and a look at it."""

from __future__ import annotations

import typer

from biaodi.adapters.messaging.setup import senders_from
from biaodi.adapters.messaging.sms import SandboxSmsGateway
from biaodi.cli.common import console, platform, relay_passes
from biaodi.config import Settings
from biaodi.domain.servicing.conduct import ConductRules
from biaodi.services.notifications import inbox
from biaodi.services.notifications.relay import relay_once

app = typer.Typer(help="Notifications: the inbox, e-mail and SMS.", no_args_is_help=True)


@app.command()
def relay(
    loop: bool = typer.Option(False, "--loop", help="Keep relaying until stopped (Ctrl-C)."),
    interval: float = typer.Option(
        None, help="Seconds between passes with --loop (default BIAODI_NOTIFY_RELAY_INTERVAL_"
                   "SECONDS)."),
) -> None:
    """Capture new events into the inbox and send what is due by e-mail (SMTP, BIAODI_SMTP_*)
    and SMS (the sandbox gateway, BIAODI_SMS_SANDBOX_DIR); failures wait and are retried."""
    p = platform()
    senders = senders_from(p.settings)
    window = ConductRules.parse_window(p.settings.servicing_contact_window)
    pause = interval if interval is not None else (p.settings.notify_relay_interval_seconds or 5)

    def one_pass() -> tuple[bool, str, list[str]]:
        result = relay_once(p.uow, p.cipher, senders,
                            max_attempts=p.settings.notify_max_attempts, window=window,
                            reader=p.reader)
        return (bool(result.captured or result.sent or result.failed or result.dead),
                f"captured {result.captured}, sent {result.sent}, to retry {result.failed}, "
                f"given up {result.dead}", list(result.errors))

    relay_passes(p, one_pass, loop=loop, pause=pause)


@app.command()
def outbox() -> None:
    """Deliveries in the outbox per status (pending, sent, dead)."""
    p = platform()
    with p.reader() as uow:
        counts = inbox.outbox_counts(uow)
    p.close()
    for status in ("pending", "sent", "dead"):
        console.print(f"{status}: {counts.get(status, 0)}", highlight=False)


@app.command()
def sms(last: int = typer.Option(20, min=1, help="How many of the newest to show.")) -> None:
    """What the sandbox SMS gateway accepted (BIAODI_SMS_SANDBOX_DIR), newest last."""
    gateway = senders_from(Settings())["sms"]
    assert isinstance(gateway, SandboxSmsGateway)
    for text in gateway.received()[-last:]:
        console.print(f"{text['to']}  {text['text']}", highlight=False)
