"""Rules of conduct for collections (催收): the software refuses what the rules forbid.

Debt collection must not break the law or harm the borrower or third parties (PBoC consumer
protection measures, 2019; 互联网金融逾期债务催收自律公约, 2018): contacts only between 08:00
and 21:00 local time, at most N a day per borrower, never to third parties other than contacts
the borrower authorised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from biaodi.domain.shared.errors import Conflict, InvalidInput

DEFAULT_WINDOW = (time(8, 0), time(21, 0))
DEFAULT_DAILY_LIMIT = 3
#: Days before a due date when a reminder goes out, and days past due when notices go out.
REMINDER_DAYS_BEFORE = 3
NOTICE_DAYS_PAST_DUE = (1, 3, 7, 15, 30, 60, 90)


class Channel(StrEnum):
    SMS = "sms"
    CALL = "call"
    LETTER = "letter"
    VISIT = "visit"
    APP = "app"


class Rule(StrEnum):
    HOURS = "collection.contact_hours"
    DAILY_LIMIT = "collection.daily_limit"
    THIRD_PARTY = "collection.third_party"


@dataclass(frozen=True)
class ConductRules:
    window: tuple[time, time] = DEFAULT_WINDOW
    daily_limit: int = DEFAULT_DAILY_LIMIT

    @classmethod
    def parse_window(cls, text: str) -> tuple[time, time]:
        """"08:00-21:00" → (08:00, 21:00)."""
        try:
            if not isinstance(text, str):
                raise ValueError(text)
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise InvalidInput("contact window must look like 08:00-21:00",
                               field="contact_window") from None
        if not start < end:
            raise InvalidInput("contact window must start before it ends", field="contact_window")
        return start, end


@dataclass(frozen=True)
class Contact:
    """An attempted contact: `at` in local (China Standard) time; `authorised` is whether the
    target is the borrower or a contact the borrower authorised."""

    at: datetime
    to_borrower: bool
    authorised: bool
    made_today: int  # contacts already made to this borrower on `at`'s local date


class ContactRefused(Conflict):
    code = "contact_refused"

    def __init__(self, rule: Rule, message: str):
        super().__init__(f"{message} (rule {rule.value})", field="at")
        self.rule_id = rule.value

    def as_dict(self) -> dict[str, str | None]:
        return {**super().as_dict(), "rule_id": self.rule_id}


def check_contact(contact: Contact, rules: ConductRules = ConductRules()) -> None:
    """Raise ContactRefused naming the first rule the contact would break."""
    start, end = rules.window
    local = contact.at.time()
    if not start <= local < end:
        raise ContactRefused(Rule.HOURS, f"contacts are allowed only from {start:%H:%M} to"
                             f" {end:%H:%M} local time, not at {local:%H:%M}")
    if not contact.to_borrower and not contact.authorised:
        raise ContactRefused(Rule.THIRD_PARTY, "third parties may be contacted only if the"
                             " borrower authorised them as contacts")
    if contact.made_today >= rules.daily_limit:
        raise ContactRefused(Rule.DAILY_LIMIT, f"at most {rules.daily_limit} contacts a day per"
                             " borrower")
