"""Cash wallet (余额宝-style): an investor's money-market fund units, subscriptions and
redemptions, the fund's yield, and the daily reconciliation breaks for staff."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import Field

from biaodi.api.deps import Operator, PlatformDep, require_role
from biaodi.api.idempotent import idempotent_response
from biaodi.api.params import NonBlank, RequestBody, Yuan
from biaodi.bootstrap import Platform
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.funds import wallet
from biaodi.services.shared.idempotency import Answer, check_key
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["cash wallet"])
Investor = Annotated[UserView, Depends(require_role(Role.INVESTOR))]
Staff = Annotated[UserView, Depends(require_role(Role.OPERATOR, Role.AUDITOR))]


class SubscribeRequest(RequestBody):
    amount: Yuan = Field(description="wallet money to move into the fund", examples=["1000.00"])


class RedeemRequest(RequestBody):
    amount: Yuan = Field(description="fund units (¥1 each) to redeem", examples=["500.00"])
    instant: bool = Field(default=False, description="paid at once, within the daily cap")


class ResolutionRequest(RequestBody):
    resolution: Literal["adjust", "timing"] = Field(
        description="adjust: take the fund's figure (an adjusting entry between suspense:fund "
                    "and platform:fund_adjustment); timing: a timing difference that the "
                    "statement of `cleared_on` no longer shows")
    reason: NonBlank = Field(max_length=400)
    cleared_on: date | None = Field(default=None, description="for timing: a later business "
                                    "date whose reconciliation agrees")


def _order(row: Any) -> dict[str, Any]:
    return {"order_no": row.order_no, "kind": row.kind, "amount": str(Money(row.amount_fen)),
            "status": row.status, "trade_date": row.trade_date.isoformat(),
            "confirm_date": row.confirm_date.isoformat()}


def _amount(value: str, platform: Platform) -> Money:
    return Money.parse(value, field="amount", ceiling_fen=platform.settings.money_ceiling_fen)


@router.get("/cash-wallet/fund")
def fund(platform: PlatformDep) -> dict[str, Any]:
    """The fund the wallet sells: its latest 万份收益 and 7-day annualised yield."""
    with platform.reader() as uow:
        view = wallet.overview(uow, 0)
    return {"fund_code": platform.fund_company.fund_code,
            "fund_name": platform.fund_company.fund_name,
            "latest_per_10k": view["latest_per_10k"],
            "seven_day_yield_percent": view["seven_day_yield_percent"],
            "instant_cap_today": view["instant_cap_today"]}


@router.get("/me/cash-wallet")
def my_wallet(platform: PlatformDep, user: Investor) -> dict[str, Any]:
    """Units, income, redemptions under way, today's instant allowance and recent orders."""
    with platform.reader() as uow:
        return wallet.overview(uow, user.id)


@router.post("/me/cash-wallet/subscriptions", status_code=201)
def subscribe(body: SubscribeRequest, platform: PlatformDep, user: Investor,
              idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Move wallet money into the fund: paid now, units confirmed on T+1 (15:00 cut-off,
    working days). 409 `insufficient_balance`, `fund_refused`; 422 names `amount`."""
    key = check_key(idempotency_key)

    def act(uow):  # type: ignore[no-untyped-def]
        row = wallet.subscribe(uow, platform.fund_company, user.id, _amount(body.amount, platform))
        return Answer(201, _order(row))

    return idempotent_response(platform, scope=f"user:{user.id}:POST /me/cash-wallet/subscriptions",
                               key=key, payload=body.model_dump(), fn=act)


@router.post("/me/cash-wallet/redemptions", status_code=201)
def redeem(body: RedeemRequest, platform: PlatformDep, user: Investor,
           idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Redeem units: ordinary (paid on T+1, no cap) or instant (paid now, at most ¥10,000 a
    day: 409 `compliance_violation` with its `rule_id`). 409 `insufficient_units`,
    `fund_refused`; 404 without a wallet account; 422 names `amount`."""
    key = check_key(idempotency_key)

    def act(uow):  # type: ignore[no-untyped-def]
        redeem_fn = wallet.instant_redeem if body.instant else wallet.redeem
        row = redeem_fn(uow, platform.fund_company, user.id, _amount(body.amount, platform))
        return Answer(201, _order(row))

    return idempotent_response(platform, scope=f"user:{user.id}:POST /me/cash-wallet/redemptions",
                               key=key, payload=body.model_dump(), fn=act)


@router.get("/operator/cash-wallet/breaks/{business_date}")
def breaks(business_date: date, platform: PlatformDep, _staff: Staff) -> list[dict[str, Any]]:
    """Differences between the wallet's records and the fund's statement for a day."""
    with platform.reader() as uow:
        return wallet.breaks_on(uow, business_date)


@router.get("/operator/cash-wallet/breaks")
def open_breaks(platform: PlatformDep, _staff: Staff) -> list[dict[str, Any]]:
    """Breaks with the fund's statement that no operator has resolved yet, oldest first."""
    with platform.reader() as uow:
        return wallet.open_breaks(uow)


@router.post("/operator/cash-wallet/breaks/{break_id}/resolution")
def resolve_break(break_id: RowId, body: ResolutionRequest, platform: PlatformDep,
                  op: Operator) -> dict[str, Any]:
    """Resolve a break, recorded with the operator and the reason. 404; 409
    `already_resolved`, `cannot_adjust` (nothing here to adjust), `not_cleared` (the later
    statement was not reconciled or still shows it); 422 names `resolution`, `reason` or
    `cleared_on`."""
    cmd = wallet.ResolveBreak(break_id, op.id, body.resolution, body.reason, body.cleared_on)
    return in_transaction(platform.uow, lambda uow: wallet.resolve_break(uow, cmd))
