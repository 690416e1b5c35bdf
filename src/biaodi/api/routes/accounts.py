"""Accounts: registration, login, the current user's profile and wallet; operators create
staff accounts and pay marketing bonuses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from biaodi.api.deps import CurrentUser, Operator, PlatformDep, address_of
from biaodi.api.idempotent import idempotent_response
from biaodi.api.params import (
    Mobile,
    NonBlank,
    Password,
    PersonName,
    RequestBody,
    Username,
    Yuan,
    one_of,
)
from biaodi.domain.accounts.attribution import CAMPAIGN_MAX, Channel
from biaodi.domain.accounts.roles import STAFF_ROLES
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import bonus, security, users
from biaodi.services.shared.idempotency import Answer, check_key
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["users"])


class RegisterRequest(RequestBody):
    username: Username = Field(examples=["zhang_san"])
    password: Password = Field(examples=["s3cret-pass"])
    real_name: PersonName = Field(examples=["张三"])
    id_number: str = Field(description="18-character resident ID number (GB 11643)")
    mobile: Mobile = Field(examples=["13812345678"])
    roles: list[str] = Field(
        default=["investor"], description="any of investor, borrower, guarantor, originator"
    )
    channel: Annotated[str, one_of(*Channel)] | None = Field(
        default=None, description="acquisition channel (utm_source): search_ads, wechat,"
        " app_store, partner, referral or organic (the default)")
    campaign: str | None = Field(default=None, max_length=CAMPAIGN_MAX,
                                 description="acquisition campaign (utm_campaign), at most 64"
                                 " characters")


class UserResponse(BaseModel):
    id: int
    username: str
    real_name: str
    mobile_masked: str
    id_number_masked: str
    roles: list[str]
    status: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class WalletResponse(BaseModel):
    """Balances in yuan as decimal strings, by role and purpose (available, frozen, …)."""

    user_id: RowId
    wallets: dict[str, dict[str, str]]


@router.post("/users", status_code=201, response_model=UserResponse)
def register(body: RegisterRequest, platform: PlatformDep, request: Request) -> UserResponse:
    """Sign-ups are rate-limited per address (429 with Retry-After)."""
    platform.rate_limiter.hit("signup", address_of(request))
    cmd = users.Register(**body.model_dump() | {"roles": tuple(body.roles)})
    rules = security.SecurityRules.from_settings(platform.settings)
    # the mobile is verified by the code sent to it (POST /me/mobile-verification/confirm)
    view = in_transaction(platform.uow, lambda uow: security.register(
        uow, cmd, platform.cipher, rules))
    return UserResponse(**view.__dict__)


@router.post("/auth/token", response_model=TokenResponse)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], platform: PlatformDep,
    request: Request,
) -> TokenResponse:
    """Sign-in attempts are rate-limited per address and per username (429, Retry-After)."""
    platform.rate_limiter.hit("login", address_of(request), f"login:{form.username.lower()}")
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    access, expires = security.sign_in(
        platform.uow,
        lambda uow: users.login(uow, form.username, form.password, ttl, platform.cipher),
        security.SecurityRules.from_settings(platform.settings))
    return TokenResponse(access_token=access, expires_at=expires)


@router.get("/me", response_model=UserResponse)
def me(user: CurrentUser) -> UserResponse:
    return UserResponse(**user.__dict__)


@router.get("/me/wallet", response_model=WalletResponse)
def my_wallet(user: CurrentUser, platform: PlatformDep) -> WalletResponse:
    with platform.reader() as uow:
        wallets = users.wallet_of(uow, user.id)
    return WalletResponse(
        user_id=user.id,
        wallets={k: {p: str(m) for p, m in v.items()} for k, v in wallets.items()},
    )


# --- operators: staff accounts and marketing bonuses -------------------------------------
operator_router = APIRouter(prefix="/operator", tags=["operator"])


class StaffRequest(RequestBody):
    username: Username
    password: Password
    real_name: PersonName
    id_number: str
    mobile: Mobile
    role: Annotated[str, one_of(*sorted(STAFF_ROLES))] = "operator"
    roles: list[str] | None = Field(
        default=None, description="several staff roles at once (e.g. operator and"
        " risk_override); replaces `role` when given")


class BonusRequest(RequestBody):
    user_id: RowId
    amount: Yuan
    reason: NonBlank


@operator_router.post("/staff", status_code=201)
def create_staff(body: StaffRequest, platform: PlatformDep, _op: Operator) -> dict[str, object]:
    cmd = users.Register(**body.model_dump(exclude={"role", "roles"}),
                         roles=tuple(body.roles or (body.role,)))
    view = in_transaction(platform.uow, lambda uow: users.create_staff(uow, cmd, platform.cipher))
    return view.__dict__


@operator_router.post("/bonuses", status_code=201)
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
