"""E-mail over SMTP (smtplib): one connection per batch, the message id as `Message-ID`."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from biaodi.adapters.messaging.base import DeliveryFailed, OutgoingMessage


class SmtpSender:
    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0,
                 username: str | None = None, password: str | None = None,
                 starttls: bool = False):
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: OutgoingMessage) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = message.message_id
        mail["Date"] = formatdate(localtime=False)
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP {self.host}:{self.port}: {error}") from error
