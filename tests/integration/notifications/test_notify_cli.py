"""`biaodi notify …` against a real database: a relay pass sends a deposit's message to the
SMTP sink and the SMS sandbox, the outbox counts them, `notify sms` shows the text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from biaodi.adapters.db.tables import User
from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.shared.money import Money
from biaodi.services.notifications import inbox
from biaodi.services.payments import orders as payments
from biaodi.services.shared.tx import in_transaction
from investing_support import user
from notify_support import SmtpSink
from payment_support import gateway_event


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


def test_relay_outbox_and_sms(platform: Platform, db_url: str, sink: SmtpSink, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    key = platform.settings.secret_key or ""
    for name, value in (("DATABASE_URL", db_url), ("SECRET_KEY", key),
                        ("SMTP_PORT", str(sink.port)), ("SMS_SANDBOX_DIR", str(tmp_path)),
                        ("FIXED_NOW", platform.clock.now().isoformat())):
        monkeypatch.setenv(f"BIAODI_{name}", value)
    who = user(platform, "investor")
    in_transaction(platform.uow, lambda uow: inbox.set_contact(uow, who, email="a@example.test"))
    view = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, payments.StartPayment(who, Money.parse("9.99"), "mobile")))
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(view.order_no, "9.99"), source="callback"))
    runner = CliRunner()
    relayed = runner.invoke(app, ["notify", "relay"])
    assert relayed.exit_code == 0, relayed.output
    assert "captured 1, sent 2, to retry 0, given up 0" in relayed.output
    assert [m["to"] for m in sink.received] == ["a@example.test"]
    outbox = runner.invoke(app, ["notify", "outbox"])
    assert "sent: 2" in outbox.output and "pending: 0" in outbox.output
    texts = runner.invoke(app, ["notify", "sms"])
    with platform.reader() as uow:
        masked = uow.s.scalar(select(User.mobile_masked).where(User.id == who))
    assert masked and masked[:3] in texts.output and "9.99" in texts.output
