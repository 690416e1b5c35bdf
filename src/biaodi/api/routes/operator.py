"""Operator actions: staff accounts and marketing bonuses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from biaodi.api.deps import Operator, PlatformDep
from biaodi.api.idempotent import idempotent_response
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import bonus, users
from biaodi.services.shared.idempotency import Answer, check_key
from biaodi.services.shared.tx import in_transaction

router = APIRouter(prefix="/operator", tags=["operator"])


class StaffRequest(BaseModel):
    username: str
    password: str
    real_name: str
    id_number: str
    mobile: str
    role: str = "operator"


class BonusRequest(BaseModel):
    user_id: int
    amount: str
    reason: str


@router.post("/staff", status_code=201)
def create_staff(body: StaffRequest, platform: PlatformDep, _op: Operator) -> dict[str, object]:
    cmd = users.Register(**body.model_dump(exclude={"role"}), roles=(body.role,))
    view = in_transaction(platform.uow, lambda uow: users.create_staff(uow, cmd, platform.cipher))
    return view.__dict__


@router.post("/bonuses", status_code=201)
def grant_bonus(
    body: BonusRequest,
    platform: PlatformDep,
    op: Operator,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Pay a marketing bonus (红包) from the platform's own money into an investor's wallet."""
    key = check_key(idempotency_key)
    amount = Money.parse(
        body.amount, field="amount", ceiling_fen=platform.settings.money_ceiling_fen
    )
    cmd = bonus.GrantBonus(user_id=body.user_id, amount=amount, reason=body.reason)

    def act(uow):  # type: ignore[no-untyped-def]
        posted = bonus.grant_bonus(uow, cmd, actor_id=op.id, idempotency_key=f"{op.id}:{key}")
        return Answer(
            201,
            {
                "entry_id": posted.entry_id,
                "user_id": cmd.user_id,
                "amount": str(amount),
                "reason": cmd.reason,
            },
        )

    return idempotent_response(
        platform,
        scope=f"user:{op.id}:POST /operator/bonuses",
        key=key,
        payload=body.model_dump(),
        fn=act,
    )
