"""Customer service (客服): a user's tickets and their conversation; the operators' queue,
assignment, canned answers and resolution; the FAQ and the public complaints figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from biaodi.api.deps import CurrentUser, PlatformDep, require_role
from biaodi.api.params import NonBlank, RequestBody
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.bounds import Limit, RowId
from biaodi.domain.support.tickets import CATEGORIES, PRIORITIES, REFERENCE_KINDS
from biaodi.services.accounts.users import UserView
from biaodi.services.shared.tx import in_transaction
from biaodi.services.support import knowledge, tickets

router = APIRouter(tags=["support"])

Operator = Annotated[UserView, Depends(require_role(Role.OPERATOR))]
Category = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]
Priority = Literal[PRIORITIES]  # type: ignore[valid-type]
ReferenceKind = Literal[REFERENCE_KINDS]  # type: ignore[valid-type]
Lang = Literal["zh", "en"]


def _is_staff(user: UserView) -> bool:
    return Role.OPERATOR.value in user.roles


class Reference(RequestBody):
    kind: ReferenceKind
    id: RowId


class TicketRequest(RequestBody):
    category: Category
    subject: NonBlank = Field(min_length=1, max_length=tickets.SUBJECT_LONGEST)
    body: NonBlank = Field(min_length=1, max_length=tickets.BODY_LONGEST)
    priority: Priority = "normal"
    complaint: bool = Field(default=False, description="file it as a complaint (投诉): it "
                            "then counts in the public complaints figures")
    about: Reference | None = Field(default=None, description="one of the caller's listings, "
                                    "loans, payment orders or holdings")


class MessageRequest(RequestBody):
    body: str = Field(default="", max_length=tickets.BODY_LONGEST)
    canned_answer_id: RowId | None = Field(default=None, description="staff only: its text "
                                           "is sent when `body` is empty")


class TriageRequest(RequestBody):
    assignee_id: RowId | None = None
    priority: Priority | None = None


class ResolveRequest(RequestBody):
    resolution: NonBlank = Field(min_length=1, max_length=tickets.BODY_LONGEST)


class CannedRequest(RequestBody):
    title: NonBlank = Field(min_length=1, max_length=120)
    body: NonBlank = Field(min_length=1, max_length=4000)
    category: Category | None = None


class FaqRequest(RequestBody):
    lang: Lang
    question: NonBlank = Field(min_length=1, max_length=200)
    answer: NonBlank = Field(min_length=1, max_length=4000)
    position: int = Field(default=0, ge=0, le=10_000)
    published: bool = True


class TicketView(BaseModel):
    id: int
    user_id: int
    category: str
    priority: str
    complaint: bool
    subject: str
    reference_kind: str | None
    reference_id: int | None
    status: str
    assignee_id: int | None
    opened_at: datetime
    respond_by: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    resolution: str
    overdue: bool = Field(description="the response target was missed (answered late, or "
                          "not answered and the time is past)")


class MessageView(BaseModel):
    id: int
    from_staff: bool
    author_id: int | None = Field(description="staff see who wrote; users see 客服")
    body: str
    at: datetime


class TicketDetail(TicketView):
    messages: list[MessageView]


class Created(BaseModel):
    id: int


class CannedView(BaseModel):
    id: int
    title: str
    body: str
    category: str | None


class FaqView(BaseModel):
    id: int
    lang: str
    question: str
    answer: str
    position: int
    published: bool


class ComplaintFigures(BaseModel):
    received: int
    resolved: int
    open: int
    median_hours_to_resolve: float | None
    mean_hours_to_resolve: float | None
    decided_after_15_days: int
    response_target_missed: int
    by_reference: dict[str, int]


@router.post("/support/tickets", status_code=201, response_model=Created)
def open_ticket(body: TicketRequest, platform: PlatformDep, user: CurrentUser) -> Created:
    """Open a ticket with its first message, optionally about one of the caller's listings,
    loans, payment orders or holdings (404 `reference_not_found` for anything else). The
    category sets the response-time target."""
    about = body.about
    cmd = tickets.OpenTicket(user.id, body.category, body.subject, body.body, body.priority,
                             body.complaint, about.kind if about else None,
                             about.id if about else None)
    return Created(id=in_transaction(platform.uow, lambda uow: tickets.open_ticket(uow, cmd)))


@router.get("/support/tickets", response_model=list[TicketView])
def my_tickets(platform: PlatformDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The caller's own tickets, newest first."""
    with platform.reader() as uow:
        return tickets.my_tickets(uow, user.id)


@router.get("/support/tickets/{ticket_id}", response_model=TicketDetail)
def ticket(ticket_id: RowId, platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """A ticket and its conversation: for its user and for operators (404 for anyone else)."""
    with platform.reader() as uow:
        return tickets.ticket_detail(uow, ticket_id, user.id, _is_staff(user))


@router.post("/support/tickets/{ticket_id}/messages", status_code=201, response_model=Created)
def post_message(ticket_id: RowId, body: MessageRequest, platform: PlatformDep,
                 user: CurrentUser) -> Created:
    """Write on a ticket: its user (reopens it) or an operator (answers it). 404
    `ticket_not_found` for someone else's ticket, `canned_answer_not_found`; 422 `body`."""
    staff = _is_staff(user)
    return Created(id=in_transaction(platform.uow, lambda uow: tickets.reply(
        uow, ticket_id, user.id, staff=staff, body=body.body,
        canned_answer_id=body.canned_answer_id)))


@router.get("/operator/support/tickets", response_model=list[TicketView])
def support_queue(platform: PlatformDep, _op: Operator,
                  status: Literal["open", "answered", "resolved"] | None = None,
                  overdue: bool = False, assignee_id: RowId | None = None,
                  limit: Limit = 200) -> list[dict[str, Any]]:
    """The queue: unresolved tickets by default, overdue first, then by priority and target."""
    with platform.reader() as uow:
        return tickets.queue(uow, status=status, overdue_only=overdue,
                             assignee_id=assignee_id, limit=limit)


@router.post("/operator/support/tickets/{ticket_id}/triage", response_model=TicketView)
def triage(ticket_id: RowId, body: TriageRequest, platform: PlatformDep,
           op: Operator) -> dict[str, Any]:
    """Assign to an operator (422 `not_an_operator`) and/or set the priority."""
    in_transaction(platform.uow, lambda uow: tickets.triage(
        uow, ticket_id, op.id, assignee_id=body.assignee_id, priority=body.priority))
    with platform.reader() as uow:
        return tickets.ticket_detail(uow, ticket_id, op.id, True)


@router.post("/operator/support/tickets/{ticket_id}/resolve", response_model=TicketView)
def resolve(ticket_id: RowId, body: ResolveRequest, platform: PlatformDep,
            op: Operator) -> dict[str, Any]:
    """Resolve with the resolution the user will read. 409 `already_resolved`."""
    in_transaction(platform.uow, lambda uow: tickets.resolve(uow, ticket_id, op.id,
                                                             body.resolution))
    with platform.reader() as uow:
        return tickets.ticket_detail(uow, ticket_id, op.id, True)


@router.get("/operator/support/canned-answers", response_model=list[CannedView])
def canned_answers(platform: PlatformDep, _op: Operator,
                   category: Category | None = None) -> list[dict[str, Any]]:
    with platform.reader() as uow:
        return knowledge.canned_answers(uow, category)


@router.post("/operator/support/canned-answers", status_code=201, response_model=Created)
def save_canned(body: CannedRequest, platform: PlatformDep, op: Operator) -> Created:
    """A new canned answer. 409 `title_taken`."""
    return Created(id=in_transaction(platform.uow, lambda uow: knowledge.save_canned(
        uow, op.id, body.title, body.body, body.category)))


@router.get("/support/faq", response_model=list[FaqView])
def faq(platform: PlatformDep, lang: Lang = "zh") -> list[dict[str, Any]]:
    """The published FAQ in one language, in order."""
    with platform.reader() as uow:
        return knowledge.faq(uow, lang)


@router.post("/operator/support/faq", status_code=201, response_model=Created)
def add_faq(body: FaqRequest, platform: PlatformDep, op: Operator) -> Created:
    return Created(id=in_transaction(platform.uow, lambda uow: knowledge.save_faq(
        uow, op.id, **body.model_dump())))


@router.put("/operator/support/faq/{faq_id}", response_model=Created)
def change_faq(faq_id: RowId, body: FaqRequest, platform: PlatformDep,
               op: Operator) -> Created:
    """Change an entry (unpublish it to take it down). 404 `faq_entry_not_found`."""
    return Created(id=in_transaction(platform.uow, lambda uow: knowledge.save_faq(
        uow, op.id, entry_id=faq_id, **body.model_dump())))


@router.get("/support/complaints", response_model=ComplaintFigures)
def complaints(platform: PlatformDep, since: date | None = None,
               until: date | None = None) -> dict[str, Any]:
    """The public complaints figures: received, resolved, open, hours to resolve, decided
    after the 15-day limit, response target missed (complaints opened from `since` to `until`,
    both Beijing dates, inclusive)."""
    with platform.reader() as uow:
        return tickets.complaints_summary(uow, since, until)
