"""Information disclosure (信息披露) as JSON: public reads of the institution details, the
fee schedule, the monthly operating reports and the major events; operators record events
and related parties and may publish a closed month (docs/DISCLOSURE.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import Field

from biaodi.api.deps import Operator, PlatformDep, require_role
from biaodi.api.params import NonBlank, RequestBody, one_of
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.bounds import RowId
from biaodi.services.accounts.users import UserView
from biaodi.services.disclosure import events, listing, public, report
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["disclosure"])
Staff = Annotated[UserView, Depends(require_role(Role.OPERATOR, Role.AUDITOR))]
#: 'YYYY-MM' from 2000-01 on.
Month = Annotated[str, Path(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$",
                            description="the month, YYYY-MM", examples=["2026-11"])]


@router.get("/disclosure")
def overview(platform: PlatformDep) -> dict[str, Any]:
    """The institution and custody details, the fee schedule, the published monthly reports
    (newest first) and the latest major events."""
    with platform.reader() as uow:
        return {"institution": public.institution_view(platform.settings),
                "fee_schedule": public.fee_schedule(platform.settings),
                "reports": report.published(uow), "events": events.events(uow, limit=20),
                "complaints": public.complaints(uow)}


@router.get("/disclosure/reports/{month}")
def monthly_report(month: Month, platform: PlatformDep) -> dict[str, Any]:
    """The operating report on `month` as published: every figure with its formula, the fee
    schedule, its due date and whether it was late."""
    with platform.reader() as uow:
        return report.get(uow, month).as_dict()


@router.get("/disclosure/events")
def major_events(platform: PlatformDep) -> list[dict[str, Any]]:
    """Major events, newest first, each flagged late when recorded over 48 hours after."""
    with platform.reader() as uow:
        return events.events(uow)


class EventRequest(RequestBody):
    kind: Annotated[str, one_of(*events.EVENT_KINDS)] = Field(description="what happened")
    title: NonBlank = Field(max_length=events.TITLE_MAX)
    body: NonBlank = Field(max_length=events.BODY_MAX)
    occurred_at: datetime = Field(description="when it happened (no later than now)")


@router.post("/operator/disclosure/events", status_code=201)
def record_event(body: EventRequest, platform: PlatformDep, op: Operator) -> dict[str, Any]:
    """Record a major event: public at once, flagged late when over 48 hours after it."""
    cmd = events.RecordEvent(body.kind, body.title, body.body, body.occurred_at)
    return in_transaction(platform.uow, lambda uow: events.record_event(
        uow, cmd, actor_id=op.id))


class RelatedPartyRequest(RequestBody):
    user_id: RowId
    relation: NonBlank = Field(max_length=events.RELATION_MAX,
                               description="e.g. shareholder, director, a relative of one")
    since: date | None = Field(None, description="the first day related (default today; not "
                               "in the future)")
    until: date | None = Field(None, description="the last day related, if known (not before "
                               "since)")


@router.post("/operator/disclosure/related-parties", status_code=201)
def record_related_party(body: RelatedPartyRequest, platform: PlatformDep, op: Operator
                         ) -> dict[str, Any]:
    """Record a user as a related party of the platform from `since` to `until`: a monthly
    report counts the user's loans when the user is related on the month's last day."""
    return in_transaction(platform.uow, lambda uow: events.record_related_party(
        uow, body.user_id, body.relation, actor_id=op.id, since=body.since, until=body.until))


class EndRelationRequest(RequestBody):
    until: date | None = Field(None, description="the last day related (default today; not "
                               "before since)")


@router.post("/operator/disclosure/related-parties/{party_id}/end")
def end_related_party(party_id: RowId, body: EndRelationRequest, platform: PlatformDep,
                      op: Operator) -> dict[str, Any]:
    """End a recorded relation on `until`, its last related day (once: 409 `already_ended`)."""
    return in_transaction(platform.uow, lambda uow: events.end_related_party(
        uow, party_id, body.until, actor_id=op.id))


@router.get("/operator/disclosure/related-parties")
def related_parties(platform: PlatformDep, _staff: Staff) -> list[dict[str, Any]]:
    """Every recorded relation with its dates and whether it holds today."""
    with platform.reader() as uow:
        return events.related_parties(uow)


@router.post("/operator/disclosure/reports/{month}", status_code=201)
def publish_report(month: Month, platform: PlatformDep, op: Operator) -> dict[str, Any]:
    """Publish the report on a closed month not yet published (close of business publishes
    each month on its last day; this is for a month it missed). Late when after the due
    date."""
    schedule = public.fee_schedule(platform.settings)
    return in_transaction(platform.uow, lambda uow: report.publish(
        uow, month, schedule, by=f"user:{op.id}")).as_dict()


@router.get("/disclosure/listings/{listing_id}")
def listing_disclosure(listing_id: RowId, platform: PlatformDep) -> dict[str, Any]:
    """A published or funded listing's borrower items (masked identity, occupation, income
    and debts, credit-report overdues, borrowings elsewhere, purpose, terms, repayment source
    and safeguards, risk assessment) and, once funded, its post-loan updates."""
    with platform.reader() as uow:
        return listing.disclosure(uow, listing_id)


class PostLoanItems(RequestBody):
    funds_use: NonBlank = Field(max_length=listing.ITEM_MAX, description="how the money was used")
    finances: NonBlank = Field(max_length=listing.ITEM_MAX,
                               description="the borrower's business and financial condition")
    repayment_ability: NonBlank = Field(max_length=listing.ITEM_MAX)
    overdue: NonBlank = Field(max_length=listing.ITEM_MAX)
    litigation: NonBlank = Field(max_length=listing.ITEM_MAX,
                                 description="lawsuits and administrative penalties")


class PostLoanRequest(RequestBody):
    period_end: date = Field(description="the end of a 3-month period since funding")
    items: PostLoanItems


@router.post("/operator/disclosure/listings/{listing_id}/updates", status_code=201)
def record_post_loan_update(listing_id: RowId, body: PostLoanRequest, platform: PlatformDep,
                            op: Operator) -> dict[str, Any]:
    """Record a funded loan's post-loan update for one period; late after the 5th working
    day from the period's end."""
    cmd = listing.RecordUpdate(listing_id, body.period_end, body.items.model_dump())
    return in_transaction(platform.uow, lambda uow: listing.record_update(
        uow, cmd, actor_id=op.id))
