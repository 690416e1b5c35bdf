"""Customer service (客服): a user's tickets about its own listings, loans, payment orders or
holdings; staff answers (typed or canned), assignment, priority and resolution; the response
target per category with the overdue flag; the queue; the public complaints figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.clock import CST
from biaodi.adapters.db.document_tables import CannedAnswer, SupportMessage, SupportTicket
from biaodi.adapters.db.payment_tables import PaymentOrder
from biaodi.adapters.db.tables import Holding, Listing, UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.errors import InvalidInput, NotFound
from biaodi.domain.support import tickets as rules
from biaodi.domain.support.tickets import TicketStatus
from biaodi.services.shared import audit

SUBJECT_LONGEST = 120
BODY_LONGEST = 4000


@dataclass(frozen=True)
class OpenTicket:
    user_id: int
    category: str
    subject: str
    body: str
    priority: str = "normal"
    complaint: bool = False
    reference_kind: str | None = None
    reference_id: int | None = None


def _owns(uow: UnitOfWork, user_id: int, kind: str, ref: int) -> bool:
    if kind in ("listing", "loan"):
        listing = uow.s.get(Listing, ref)
        if listing is None or (kind == "loan" and listing.funded_at is None):
            return False
        if listing.applicant_id == user_id or listing.guarantor_id == user_id:
            return True
        return uow.s.scalar(select(Holding.id).where(Holding.listing_id == ref,
                                                     Holding.investor_id == user_id)
                            .limit(1)) is not None
    if kind == "payment_order":
        order = uow.s.get(PaymentOrder, ref)
        return order is not None and order.user_id == user_id
    holding = uow.s.get(Holding, ref)
    return holding is not None and holding.investor_id == user_id


def _check_reference(uow: UnitOfWork, cmd: OpenTicket) -> None:
    if cmd.reference_kind is None and cmd.reference_id is None:
        return
    if cmd.reference_kind not in rules.REFERENCE_KINDS:
        raise InvalidInput(f"reference_kind must be one of {', '.join(rules.REFERENCE_KINDS)}",
                           field="reference_kind", code="unknown_reference")
    if cmd.reference_id is None or not _owns(uow, cmd.user_id, cmd.reference_kind,
                                             cmd.reference_id):
        raise NotFound(f"no {cmd.reference_kind} {cmd.reference_id} of yours",
                       field="reference_id", code="reference_not_found")


def open_ticket(uow: UnitOfWork, cmd: OpenTicket) -> int:
    """A new ticket with the user's first message; its response target starts now."""
    cat = rules.category(cmd.category)
    rules.check_priority(cmd.priority)
    subject = rules.check_text(cmd.subject, "subject", SUBJECT_LONGEST)
    body = rules.check_text(cmd.body, "body", BODY_LONGEST)
    _check_reference(uow, cmd)
    now = uow.clock.now()
    ticket = SupportTicket(user_id=cmd.user_id, category=cat.name, priority=cmd.priority,
                           complaint=cmd.complaint or cat.name == "complaint", subject=subject,
                           reference_kind=cmd.reference_kind, reference_id=cmd.reference_id,
                           status=TicketStatus.OPEN.value, opened_at=now,
                           respond_by=now + cat.respond_within, resolution="")
    uow.s.add(ticket)
    uow.s.flush()
    uow.s.add(SupportMessage(ticket_id=ticket.id, author_id=cmd.user_id, from_staff=False,
                             body=body, at=now))
    audit.note(uow, "support.ticket_opened", subjects=[("user", cmd.user_id)],
               changes={"ticket_id": ticket.id, "category": cat.name,
                        "complaint": ticket.complaint})
    return int(ticket.id)


def _ticket(uow: UnitOfWork, ticket_id: int, *, lock: bool = False) -> SupportTicket:
    ticket = uow.s.get(SupportTicket, ticket_id, with_for_update=lock)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found", field="ticket_id",
                       code="ticket_not_found")
    return ticket


def _visible(ticket: SupportTicket, viewer_id: int, staff: bool) -> None:
    if not staff and ticket.user_id != viewer_id:  # someone else's ticket does not exist
        raise NotFound(f"ticket {ticket.id} not found", field="ticket_id",
                       code="ticket_not_found")


def reply(uow: UnitOfWork, ticket_id: int, author_id: int, *, staff: bool, body: str = "",
          canned_answer_id: int | None = None) -> int:
    """A message on the ticket: from its user (reopens it) or from an operator (answers it;
    the first such answer is what the response target measures). A canned answer fills an
    empty body."""
    ticket = _ticket(uow, ticket_id, lock=True)
    _visible(ticket, author_id, staff)
    if canned_answer_id is not None:
        if not staff:
            raise InvalidInput("canned answers are for staff", field="canned_answer_id")
        canned = uow.s.get(CannedAnswer, canned_answer_id)
        if canned is None:
            raise NotFound(f"canned answer {canned_answer_id} not found",
                           field="canned_answer_id", code="canned_answer_not_found")
        body = body or canned.body
    text = rules.check_text(body, "body", BODY_LONGEST)
    now = uow.clock.now()
    message = SupportMessage(ticket_id=ticket.id, author_id=author_id, from_staff=staff,
                             body=text, canned_answer_id=canned_answer_id, at=now)
    uow.s.add(message)
    ticket.status = rules.after_message(ticket.status, staff).value
    if staff and ticket.first_response_at is None:
        ticket.first_response_at = now
    if not staff:
        ticket.resolved_at = None
    uow.s.flush()
    audit.note(uow, "support.message", subjects=[("user", ticket.user_id)],
               changes={"ticket_id": ticket.id, "from_staff": staff})
    return int(message.id)


def _is_operator(uow: UnitOfWork, user_id: int) -> bool:
    return uow.s.get(UserRole, (user_id, Role.OPERATOR.value)) is not None


def triage(uow: UnitOfWork, ticket_id: int, actor_id: int, *, assignee_id: int | None = None,
           priority: str | None = None) -> None:
    """Assign the ticket to an operator and/or set its priority."""
    ticket = _ticket(uow, ticket_id, lock=True)
    changes: dict[str, Any] = {"ticket_id": ticket.id}
    if assignee_id is not None:
        if not _is_operator(uow, assignee_id):
            raise InvalidInput(f"user {assignee_id} is not an operator", field="assignee_id",
                               code="not_an_operator")
        ticket.assignee_id = changes["assignee_id"] = assignee_id
    if priority is not None:
        ticket.priority = changes["priority"] = rules.check_priority(priority)
    audit.note(uow, "support.triaged", subjects=[("user", ticket.user_id)], changes=changes)


def resolve(uow: UnitOfWork, ticket_id: int, actor_id: int, resolution: str) -> None:
    ticket = _ticket(uow, ticket_id, lock=True)
    rules.check_can_resolve(ticket.status)
    ticket.resolution = rules.check_text(resolution, "resolution", BODY_LONGEST)
    ticket.status = TicketStatus.RESOLVED.value
    ticket.resolved_at = uow.clock.now()
    if ticket.assignee_id is None:
        ticket.assignee_id = actor_id
    audit.note(uow, "support.resolved", subjects=[("user", ticket.user_id)],
               changes={"ticket_id": ticket.id})


# --- reading --------------------------------------------------------------------------------
def _aware(at: datetime | None, like: datetime) -> datetime | None:
    """SQLite gives naive datetimes back (stored as UTC)."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=like.tzinfo)


def ticket_view(t: SupportTicket, now: datetime) -> dict[str, Any]:
    respond_by = _aware(t.respond_by, now)
    first = _aware(t.first_response_at, now)
    assert respond_by is not None
    return {"id": t.id, "user_id": t.user_id, "category": t.category, "priority": t.priority,
            "complaint": t.complaint, "subject": t.subject, "reference_kind": t.reference_kind,
            "reference_id": t.reference_id, "status": t.status, "assignee_id": t.assignee_id,
            "opened_at": _aware(t.opened_at, now), "respond_by": respond_by,
            "first_response_at": first, "resolved_at": _aware(t.resolved_at, now),
            "resolution": t.resolution, "overdue": rules.overdue(respond_by, first, now)}


def my_tickets(uow: UnitOfWork, user_id: int) -> list[dict[str, Any]]:
    now = uow.clock.now()
    return [ticket_view(t, now) for t in uow.s.scalars(
        select(SupportTicket).where(SupportTicket.user_id == user_id)
        .order_by(SupportTicket.id.desc()))]


def ticket_detail(uow: UnitOfWork, ticket_id: int, viewer_id: int,
                  staff: bool) -> dict[str, Any]:
    """The ticket and its whole conversation (the user sees staff messages as 客服)."""
    ticket = _ticket(uow, ticket_id)
    _visible(ticket, viewer_id, staff)
    now = uow.clock.now()
    messages = uow.s.scalars(select(SupportMessage).where(SupportMessage.ticket_id == ticket.id)
                             .order_by(SupportMessage.id)).all()
    return ticket_view(ticket, now) | {"messages": [
        {"id": m.id, "from_staff": m.from_staff, "author_id": m.author_id if staff else None,
         "body": m.body, "at": _aware(m.at, now)} for m in messages]}


def queue(uow: UnitOfWork, *, status: str | None = None, overdue_only: bool = False,
          assignee_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Tickets for staff: unresolved by default, the most urgent first (overdue, then the
    nearest response target)."""
    now = uow.clock.now()
    query = select(SupportTicket)
    if status is None:
        query = query.where(SupportTicket.status != TicketStatus.RESOLVED.value)
    else:
        query = query.where(SupportTicket.status == status)
    if assignee_id is not None:
        query = query.where(SupportTicket.assignee_id == assignee_id)
    views = [ticket_view(t, now) for t in uow.s.scalars(
        query.order_by(SupportTicket.respond_by, SupportTicket.id).limit(limit))]
    if overdue_only:
        views = [v for v in views if v["overdue"]]
    order = {p: i for i, p in enumerate(reversed(rules.PRIORITIES))}
    return sorted(views, key=lambda v: (not v["overdue"], order[v["priority"]], v["respond_by"]))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), CST).astimezone(UTC)


def complaints_summary(uow: UnitOfWork, since: date | None = None,
                       until: date | None = None) -> dict[str, Any]:
    """The public complaints figures (for the disclosure section): complaints received in the
    period, resolved, still open, the median and mean hours to resolve, how many were decided
    after the 15-day limit, how many missed the response target, and the count per category
    of what they were about."""
    now = uow.clock.now()
    query = select(SupportTicket).where(SupportTicket.complaint.is_(True))
    if since is not None and since > date.min:  # Beijing dates, the last one included;
        query = query.where(SupportTicket.opened_at >= _midnight(since))  # compared in UTC
    if until is not None and until < date.max:
        query = query.where(SupportTicket.opened_at < _midnight(until + timedelta(days=1)))
    rows = [ticket_view(t, now) for t in uow.s.scalars(query)]
    hours = [(v["resolved_at"] - v["opened_at"]).total_seconds() / 3600
             for v in rows if v["resolved_at"] is not None]
    late = [v for v in rows if (v["resolved_at"] or now) - v["opened_at"]
            > rules.COMPLAINT_DECIDE_WITHIN]
    by_reference: dict[str, int] = {}
    for v in rows:
        key = v["reference_kind"] or "none"
        by_reference[key] = by_reference.get(key, 0) + 1
    return {"received": len(rows), "resolved": len(hours), "open": len(rows) - len(hours),
            "median_hours_to_resolve": round(median(hours), 1) if hours else None,
            "mean_hours_to_resolve": round(sum(hours) / len(hours), 1) if hours else None,
            "decided_after_15_days": len(late),
            "response_target_missed": sum(1 for v in rows if v["overdue"]),
            "by_reference": dict(sorted(by_reference.items()))}


def counts(uow: UnitOfWork) -> dict[str, int]:
    """Tickets per status (the console's summary)."""
    return {status: int(n) for status, n in uow.s.execute(
        select(SupportTicket.status, func.count()).group_by(SupportTicket.status))}
