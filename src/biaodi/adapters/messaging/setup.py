"""The senders the settings describe: SMTP for e-mail, the SMS gateway for text messages."""

from __future__ import annotations

from biaodi.adapters.messaging.base import Sender
from biaodi.adapters.messaging.sms import SandboxSmsGateway
from biaodi.adapters.messaging.smtp import SmtpSender
from biaodi.config import Settings, biaodi_home


def senders_from(settings: Settings) -> dict[str, Sender]:
    spool = settings.sms_sandbox_dir or biaodi_home() / "sms-sandbox"
    return {
        "email": SmtpSender(settings.smtp_host, settings.smtp_port, settings.mail_from,
                            timeout=settings.smtp_timeout_seconds,
                            username=settings.smtp_username, password=settings.smtp_password,
                            starttls=settings.smtp_starttls),
        "sms": SandboxSmsGateway(spool),
    }
