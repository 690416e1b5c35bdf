"""The dynamic blacklist (动态黑名单): what can be listed, why, and for how long.

Entries name an ID number, a phone, a bank card or a device; the platform stores only a keyed
digest of the value (and a masked form to show), so a hit never needs the clear value. Entries
come from servicing (a default past M3), from a confirmed fraud, from an identity linked to a
listed one (sharing its phone, card or device), or from an operator; each reason has its own
expiry in the rule pack. Removing an entry needs a reason; every change is audited.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from biaodi.domain.accounts.identity import mask_mobile, parse_mobile, parse_resident_id
from biaodi.domain.risk.consistency import mask_card, normalise_card
from biaodi.domain.risk.rules import BlacklistTerms
from biaodi.domain.shared.errors import Conflict, InvalidInput

#: Overdue buckets: M1 = 1–30 days, M2 = 31–60, M3 = 61–90; "past M3" is over 90 days.
PAST_M3_DAYS = 90


class ListKind(StrEnum):
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    BANK_CARD = "bank_card"
    DEVICE = "device"


class ListReason(StrEnum):
    DEFAULT_M3 = "default_m3"  # servicing: more than 90 days past due
    FRAUD = "fraud"  # a confirmed fraud
    LINKED = "linked_identity"  # shares a phone, card or device with a listed identity
    MANUAL = "manual"  # an operator or risk officer listed it


class Blacklisted(Conflict):
    """The applicant (or a borrower about to be paid out) is on the blacklist."""

    code = "blacklisted"


def normalise(kind: ListKind, raw: str, today: date) -> str:
    """The canonical form of a value, the one digested for look-ups."""
    if kind is ListKind.ID_NUMBER:
        return parse_resident_id(raw, today=today, field="value", minimum_age=0).number
    if kind is ListKind.MOBILE:
        return parse_mobile(raw, field="value")
    if kind is ListKind.BANK_CARD:
        return normalise_card(raw, field="value")
    device = raw.strip()
    if not 6 <= len(device) <= 128:
        raise InvalidInput("a device id has 6 to 128 characters", field="value")
    return device


def mask(kind: ListKind, value: str) -> str:
    if kind is ListKind.ID_NUMBER:
        return f"{value[:3]}{'*' * 11}{value[-4:]}"
    if kind is ListKind.MOBILE:
        return mask_mobile(value)
    if kind is ListKind.BANK_CARD:
        return mask_card(value)
    return f"{value[:4]}…{value[-2:]}"


def expiry(reason: ListReason, terms: BlacklistTerms, now: datetime,
           days: int | None = None) -> datetime | None:
    """When an entry made now lapses: `days` if given, else the pack's term for the reason;
    0 days means it stays until removed."""
    if days is None:
        days = {
            ListReason.DEFAULT_M3: terms.default_m3_days,
            ListReason.FRAUD: terms.fraud_days,
            ListReason.LINKED: terms.linked_days,
            ListReason.MANUAL: terms.manual_days,
        }[reason]
    if days < 0:
        raise InvalidInput("expiry days cannot be negative", field="expires_in_days")
    return None if days == 0 else now + timedelta(days=days)


def is_past_m3(days_overdue: int) -> bool:
    return days_overdue > PAST_M3_DAYS


def removal_reason(text: str) -> str:
    reason = text.strip()
    if len(reason) < 4:
        raise InvalidInput("removing a blacklist entry needs a reason (at least 4 characters)",
                           field="reason")
    return reason
