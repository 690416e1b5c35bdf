"""Account security: password reset by a one-time code, mobile verification, the owner's
sessions (listed, revoked) and security log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from biaodi.adapters.crypto import token_digest
from biaodi.api.deps import CurrentUser, PlatformDep, address_of, oauth2
from biaodi.api.params import Password, RequestBody, one_of
from biaodi.domain.notifications.kinds import Channel
from biaodi.services.accounts import security
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["security"])

Code = Annotated[str, Field(min_length=4, max_length=12, examples=["123456"])]


class ResetRequest(RequestBody):
    login: str = Field(min_length=1, max_length=64, description="username or mobile")
    channel: Annotated[str, one_of(*Channel)] = "sms"


class ResetConfirm(RequestBody):
    login: str = Field(min_length=1, max_length=64, description="username or mobile")
    code: Code
    new_password: Password


class CodeConfirm(RequestBody):
    code: Code


class PasswordChange(RequestBody):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: Password


class Done(BaseModel):
    status: str


class Session(BaseModel):
    id: str
    created_at: str
    expires_at: str
    current: bool = Field(description="the session of this request's token")


class Sessions(BaseModel):
    items: list[Session]


class SecurityEventView(BaseModel):
    kind: str
    detail: str
    at: str


class SecurityView(BaseModel):
    mobile_verified: bool
    mobile_verified_at: str | None
    locked_until: str | None
    events: list[SecurityEventView]


def _rules(platform: Any) -> security.SecurityRules:
    return security.SecurityRules.from_settings(platform.settings)


@router.post("/auth/password-reset", status_code=202, response_model=Done)
def request_reset(body: ResetRequest, platform: PlatformDep, request: Request) -> Done:
    """Send a reset code to the account's mobile or e-mail. The answer is the same whether or
    not the account exists; counted against the sign-in rate limit."""
    platform.rate_limiter.hit("login", address_of(request), f"login:{body.login.lower()}")
    in_transaction(platform.uow, lambda uow: security.request_reset(
        uow, body.login, body.channel, platform.cipher, _rules(platform)))
    return Done(status="sent if the account exists")


@router.post("/auth/password-reset/confirm", response_model=Done)
def confirm_reset(body: ResetConfirm, platform: PlatformDep, request: Request) -> Done:
    """Set a new password with the code; every session of the account ends. A wrong code is
    422 naming `code` (counted: after a few, a new code is needed)."""
    platform.rate_limiter.hit("login", address_of(request), f"login:{body.login.lower()}")
    security.reset_password(platform.uow, body.login, body.code, body.new_password,
                            platform.cipher, _rules(platform))
    return Done(status="password changed")


@router.post("/me/password", response_model=Done)
def change_password(body: PasswordChange, platform: PlatformDep, user: CurrentUser) -> Done:
    in_transaction(platform.uow, lambda uow: security.change_password(
        uow, user.id, body.current_password, body.new_password))
    return Done(status="password changed")


@router.post("/me/mobile-verification", status_code=202, response_model=Done)
def send_mobile_code(platform: PlatformDep, user: CurrentUser) -> Done:
    """Send a new code to the registered mobile by SMS (one is sent at registration)."""
    in_transaction(platform.uow, lambda uow: security.send_code(
        uow, user.id, "mobile", "sms", platform.cipher, _rules(platform)))
    return Done(status="sent")


@router.post("/me/mobile-verification/confirm", response_model=Done)
def confirm_mobile(body: CodeConfirm, platform: PlatformDep, user: CurrentUser) -> Done:
    security.verify_mobile(platform.uow, user.id, body.code, platform.cipher, _rules(platform))
    return Done(status="mobile verified")


@router.get("/me/security", response_model=SecurityView)
def my_security(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """Whether the mobile is verified, any lockout, and the security log (newest first)."""
    with platform.reader() as uow:
        return security.overview(uow, user.id) | {"events": security.events(uow, user.id)}


@router.get("/me/sessions", response_model=Sessions)
def my_sessions(platform: PlatformDep, user: CurrentUser,
                bearer: Annotated[str | None, Depends(oauth2)]) -> dict[str, Any]:
    current = token_digest(bearer) if bearer else None
    with platform.reader() as uow:
        return {"items": security.sessions(uow, user.id, current)}


@router.post("/me/sessions/{session_id}/revoke", response_model=Done)
def revoke(session_id: Annotated[str, Path(min_length=1, max_length=64)],
           platform: PlatformDep, user: CurrentUser) -> Done:
    """End one of your sessions (404 for one that is not yours, 409 if it has ended)."""
    in_transaction(platform.uow, lambda uow: security.revoke_session(uow, user.id, session_id))
    return Done(status="revoked")
