"""The interface every sender implements: one message, sent or refused with an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    #: Fixed per message and channel: the receiver drops a second copy with the same id.
    message_id: str
    to: str
    subject: str
    body: str


class DeliveryFailed(Exception):
    """The message was not handed over; try again later."""


class Sender(Protocol):
    def send(self, message: OutgoingMessage) -> None:
        """Hand the message over, or raise DeliveryFailed."""
