"""Ticket rules: the categories with their response-time targets, priorities, the moves of a
ticket, and when a ticket is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from biaodi.domain.shared.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class Category:
    name: str
    label_zh: str
    #: The platform's own promise: the first answer from staff within this time.
    respond_within: timedelta


CATEGORIES: dict[str, Category] = {c.name: c for c in (
    Category("payment", "充值提现", timedelta(hours=4)),
    Category("repayment", "还款", timedelta(hours=8)),
    Category("account", "账户", timedelta(hours=24)),
    Category("investment", "出借", timedelta(hours=24)),
    Category("transfer", "债权转让", timedelta(hours=24)),
    Category("contract", "合同", timedelta(hours=48)),
    Category("complaint", "投诉", timedelta(hours=24)),
    Category("other", "其他", timedelta(hours=48)),
)}

#: A complaint is decided within 15 days of its receipt (the limit 银行业保险业消费投诉处理管理办法,
#: CBIRC Order 2020 No. 3, sets for banks, used here as our yardstick); the figures count later
#: ones.
COMPLAINT_DECIDE_WITHIN = timedelta(days=15)

PRIORITIES = ("low", "normal", "high", "urgent")
REFERENCE_KINDS = ("listing", "loan", "payment_order", "holding")


class TicketStatus(StrEnum):
    OPEN = "open"  # waiting for staff
    ANSWERED = "answered"  # waiting for the user
    RESOLVED = "resolved"


def category(name: str) -> Category:
    try:
        return CATEGORIES[name]
    except KeyError:
        raise InvalidInput(f"category must be one of {', '.join(CATEGORIES)}",
                           field="category", code="unknown_category") from None


def check_priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}",
                           field="priority", code="unknown_priority")
    return priority


def check_text(value: str, field: str, longest: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{field} must not be empty", field=field, code="empty")
    if len(value) > longest:
        raise InvalidInput(f"{field} must be at most {longest} characters", field=field,
                           code="too_long")
    return value


def after_message(status: str, from_staff: bool) -> TicketStatus:
    """A staff message answers the ticket; the user's (re)opens it, a resolved one too."""
    return TicketStatus.ANSWERED if from_staff else TicketStatus.OPEN


def check_can_resolve(status: str) -> None:
    if status == TicketStatus.RESOLVED:
        raise Conflict("the ticket is already resolved", field="ticket_id",
                       code="already_resolved")


def overdue(respond_by: datetime, first_response_at: datetime | None, now: datetime) -> bool:
    """The response target was missed: no answer yet and the time is past, or answered late."""
    if first_response_at is None:
        return now > respond_by
    return first_response_at > respond_by
