"""An SMTP sink for notification tests (aiosmtpd, on a local port, stoppable and restartable)
and senders that fail on purpose."""

from __future__ import annotations

import email
from email import policy
from typing import Any

from aiosmtpd.controller import Controller

from biaodi.adapters.messaging.base import DeliveryFailed, OutgoingMessage, Sender
from payment_support import free_port


class _Handler:
    def __init__(self, inbox: list[dict[str, str]]):
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.inbox.append({"message_id": str(parsed["Message-ID"]), "to": envelope.rcpt_tos[0],
                           "subject": str(parsed["Subject"]),
                           "body": parsed.get_content().strip()})
        return "250 OK"


class SmtpSink:
    """A local SMTP server that keeps what arrived across stops and restarts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, str]] = []
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self.received), hostname="127.0.0.1",
                                      port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def by_id(self) -> dict[str, dict[str, str]]:
        """What arrived, de-duplicated by Message-ID as a receiver does."""
        return {m["message_id"]: m for m in self.received}


class LosesAnswers:
    """Sends, then reports a failure for the first `times` messages: the answer was lost, so
    the relay sends them again with the same message id."""

    def __init__(self, inner: Sender, times: int = 1):
        self.inner, self.left = inner, times

    def send(self, message: OutgoingMessage) -> None:
        self.inner.send(message)
        if self.left > 0:
            self.left -= 1
            raise DeliveryFailed("connection reset after DATA (test)")
