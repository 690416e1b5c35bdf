"""Reward crowdfunding (众筹): projects and their tiers, support, review, delivery."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import Field

from biaodi.api.deps import CurrentUser, Operator, OptionalUser, PlatformDep, require_role
from biaodi.api.idempotent import idempotent_response
from biaodi.api.params import NonBlank, RequestBody, Yuan, documented
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.crowdfunding import projects, queries
from biaodi.services.shared.idempotency import Answer, check_key
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["crowdfunding"])
Investor = Annotated[UserView, Depends(require_role(Role.INVESTOR))]
STAFF_ROLES = {"operator", "auditor", "risk_officer"}
Tracking = Annotated[str, documented(pattern=r"^[A-Za-z0-9-]{1,64}$")]


class TierRequest(RequestBody):
    title: NonBlank = Field(max_length=120)
    price: Yuan
    quota: int = Field(ge=1, le=1_000_000)
    ship_date: date = Field(description="estimated ship date, after today")


class ProjectRequest(RequestBody):
    title: NonBlank = Field(max_length=120)
    description: str = Field(default="", max_length=4000)
    goal: Yuan
    days: int = Field(ge=1, le=60, description="days the project takes support once live")
    tiers: list[TierRequest] = Field(default_factory=list, max_length=20)


class ReviewRequest(RequestBody):
    approve: bool
    note: str = Field(default="", max_length=400, description="required to reject")


class SettlementRequest(RequestBody):
    outcome: Literal["release", "refund"] = Field(
        description="release: the held 30 % to the owner; refund: each complaining backer gets"
                    " back the held share of their pledge, the rest to the owner")
    reason: NonBlank = Field(max_length=400)


class PledgeRequest(RequestBody):
    tier_id: RowId | None = Field(default=None, description="a reward tier, at its price")
    amount: Yuan | None = Field(default=None, description="no-reward support instead")


class ShipmentRequest(RequestBody):
    tracking_no: Tracking


class ComplaintRequest(RequestBody):
    complaint: NonBlank = Field(max_length=400)


def _money(value: str, field: str) -> Money:
    return Money.parse(value, field=field)


@router.get("/crowdfunding/projects")
def list_projects(platform: PlatformDep) -> list[dict[str, Any]]:
    """Live projects first, then settled ones, newest first."""
    with platform.reader() as uow:
        return queries.projects(uow)


@router.get("/crowdfunding/projects/{project_id}")
def get_project(project_id: RowId, platform: PlatformDep, user: OptionalUser
                ) -> dict[str, Any]:
    """A project with its tiers and rules; one in review only for its owner and staff. 404."""
    with platform.reader() as uow:
        return queries.project(uow, project_id, user.id if user else None,
                               staff=bool(user and STAFF_ROLES & set(user.roles)))


@router.post("/crowdfunding/projects", status_code=201)
def create_project(body: ProjectRequest, platform: PlatformDep, user: CurrentUser,
                   idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Submit a project for review. 422 names the field (`tiers[n].ship_date` not after
    today, `days` outside 1–60)."""
    key = check_key(idempotency_key)

    def act(uow):  # type: ignore[no-untyped-def]
        cmd = projects.CreateProject(
            user.id, body.title, body.description, _money(body.goal, "goal"), body.days,
            [projects.TierInput(t.title, _money(t.price, f"tiers[{n}].price"), t.quota,
                                t.ship_date) for n, t in enumerate(body.tiers)])
        project = projects.create(uow, cmd, platform.crowdfunding_rules)
        return Answer(201, queries.project(uow, project.id, user.id))

    return idempotent_response(platform, scope=f"user:{user.id}:POST /crowdfunding/projects",
                               key=key, payload=body.model_dump(mode="json"), fn=act)


@router.post("/operator/crowdfunding/projects/{project_id}/review")
def review_project(project_id: RowId, body: ReviewRequest, platform: PlatformDep,
                   op: Operator) -> dict[str, Any]:
    """Approve (live from today for its days) or reject with a note. 404; 409
    `not_in_review`; 422 `note` missing on a rejection."""
    def act(uow):  # type: ignore[no-untyped-def]
        projects.review(uow, project_id, approve=body.approve, note=body.note,
                        rules=platform.crowdfunding_rules)
        return queries.project(uow, project_id, staff=True)

    return in_transaction(platform.uow, act)


@router.get("/operator/crowdfunding/complaints")
def complaints(platform: PlatformDep, _staff: Annotated[UserView, Depends(require_role(
        Role.OPERATOR, Role.AUDITOR, Role.RISK_OFFICER))]) -> list[dict[str, Any]]:
    """Successful projects whose held 30 % a complaint holds, with the complaints."""
    with platform.reader() as uow:
        return queries.with_complaints(uow)


@router.post("/operator/crowdfunding/projects/{project_id}/complaints/settlement")
def settle_complaints(project_id: RowId, body: SettlementRequest, platform: PlatformDep,
                      op: Operator) -> dict[str, Any]:
    """Settle the complaints holding a project's 30 %: release it to the owner or refund the
    complaining backers pro rata from it (ledger entries), recorded with the operator and the
    reason. 404; 409 `nothing_held`, `no_complaint`, `deliveries_pending` (other rewards still
    on their way); 422 names `outcome` or `reason`."""
    def act(uow):  # type: ignore[no-untyped-def]
        projects.settle_complaints(uow, projects.SettleComplaints(
            project_id, op.id, body.outcome, body.reason))
        return queries.project(uow, project_id, staff=True)

    return in_transaction(platform.uow, act)


@router.post("/crowdfunding/projects/{project_id}/pledges", status_code=201)
def pledge(project_id: RowId, body: PledgeRequest, platform: PlatformDep, user: Investor,
           idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Back a live project with a tier or an amount, paid from the investor wallet into the
    crowdfunding escrow. 404; 403 for the owner; 409 `project_not_live`, `tier_sold_out`,
    `insufficient_balance`; 422 both or neither of `tier_id` and `amount`."""
    key = check_key(idempotency_key)

    def act(uow):  # type: ignore[no-untyped-def]
        amount = _money(body.amount, "amount") if body.amount is not None else None
        made = projects.back(uow, project_id, user.id, tier_id=body.tier_id, amount=amount)
        return Answer(201, queries.pledge_view(made, ""))

    return idempotent_response(
        platform, scope=f"user:{user.id}:POST /crowdfunding/projects/{project_id}/pledges",
        key=key, payload=body.model_dump(), fn=act)


@router.get("/me/crowdfunding")
def my_crowdfunding(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """Your pledges with their delivery, and your projects with their backers."""
    with platform.reader() as uow:
        return queries.mine(uow, user.id)


@router.post("/crowdfunding/pledges/{pledge_id}/shipment")
def ship(pledge_id: RowId, body: ShipmentRequest, platform: PlatformDep, user: CurrentUser
         ) -> dict[str, Any]:
    """The owner ships a backer's reward. 404; 403 not the owner; 409 `nothing_to_ship`."""
    return in_transaction(platform.uow, lambda uow: queries.pledge_view(
        projects.ship(uow, pledge_id, user.id, body.tracking_no), ""))


@router.post("/crowdfunding/pledges/{pledge_id}/confirmation")
def confirm(pledge_id: RowId, platform: PlatformDep, user: Investor) -> dict[str, Any]:
    """The backer confirms delivery. 404; 403 not the backer; 409 `not_shipped`."""
    return in_transaction(platform.uow, lambda uow: queries.pledge_view(
        projects.confirm_delivery(uow, pledge_id, user.id), ""))


@router.post("/crowdfunding/pledges/{pledge_id}/complaint")
def complain(pledge_id: RowId, body: ComplaintRequest, platform: PlatformDep,
             user: Investor) -> dict[str, Any]:
    """The backer complains: the held 30 % waits until delivery is confirmed. 404; 403 not
    the backer; 409 `not_shipped`."""
    return in_transaction(platform.uow, lambda uow: queries.pledge_view(
        projects.complain(uow, pledge_id, user.id, body.complaint), ""))
