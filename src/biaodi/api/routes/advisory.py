"""Smart advisory (智能投顾): a suggested mix of grades for the investor's level and loss
budget, and one click to turn it into auto-invest rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import Field

from biaodi.api.deps import PlatformDep, require_role
from biaodi.api.idempotent import idempotent_response
from biaodi.api.params import RequestBody, Yuan
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.advisory import suggest as advisory
from biaodi.services.shared.idempotency import Answer, check_key

router = APIRouter(tags=["advisory"])
Investor = Annotated[UserView, Depends(require_role(Role.INVESTOR))]


class AdoptRequest(RequestBody):
    budget: Yuan = Field(description="how much the rules may invest in all", examples=["10000"])
    per_listing: Yuan = Field(description="at most this in any one listing", examples=["500"])


@router.get("/me/advice")
def advice(platform: PlatformDep, user: Investor) -> dict[str, Any]:
    """The mix of grades and listing types for your level (95 % CVaR of annual loss ≤ 3 %, no
    grade above 40 %, no type above 50 %), the share kept in cash and why, and why each choice
    left out is out. 409 `assessment_required`."""
    with platform.reader() as uow:
        level, suggestion = advisory.advise(uow, user.id, settings=platform.settings)
    return {"level": level, **suggestion.as_dict()}


@router.post("/me/advice/adoption", status_code=201)
def adopt(body: AdoptRequest, platform: PlatformDep, user: Investor,
          idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """One click: an auto-invest rule per grade and listing type of the mix, tickets in
    proportion to the shares, all within the budget. 409 `assessment_required`,
    `nothing_to_invest` (the advice is all cash); 422 `per_listing_cap` (`per_listing` above
    1/20 of the budget)."""
    key = check_key(idempotency_key)

    def act(uow):  # type: ignore[no-untyped-def]
        _level, suggestion = advisory.advise(uow, user.id, settings=platform.settings)
        ids = advisory.adopt(uow, user.id, suggestion, Money.parse(body.budget, field="budget"),
                             Money.parse(body.per_listing, field="per_listing"))
        return Answer(201, {"rule_ids": ids, **suggestion.as_dict()})

    return idempotent_response(platform, scope=f"user:{user.id}:POST /me/advice/adoption",
                               key=key, payload=body.model_dump(), fn=act)
