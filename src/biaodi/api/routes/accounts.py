"""Registration, login and the current user's profile and wallet."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from biaodi.api.deps import CurrentUser, PlatformDep
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["users"])


class RegisterRequest(BaseModel):
    username: str = Field(examples=["zhang_san"])
    password: str = Field(examples=["s3cret-pass"])
    real_name: str = Field(examples=["张三"])
    id_number: str = Field(description="18-character resident ID number (GB 11643)")
    mobile: str = Field(examples=["13812345678"])
    roles: list[str] = Field(
        default=["investor"], description="any of investor, borrower, guarantor, originator"
    )


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

    user_id: int
    wallets: dict[str, dict[str, str]]


@router.post("/users", status_code=201, response_model=UserResponse)
def register(body: RegisterRequest, platform: PlatformDep) -> UserResponse:
    cmd = users.Register(**body.model_dump() | {"roles": tuple(body.roles)})
    view = in_transaction(platform.uow, lambda uow: users.register(uow, cmd, platform.cipher))
    return UserResponse(**view.__dict__)


@router.post("/auth/token", response_model=TokenResponse)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], platform: PlatformDep
) -> TokenResponse:
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    access, expires = in_transaction(
        platform.uow, lambda uow: users.login(uow, form.username, form.password, ttl)
    )
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
