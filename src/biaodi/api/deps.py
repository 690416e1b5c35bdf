"""FastAPI dependencies: the platform, the current user, role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from biaodi.adapters.crypto import claimed_user
from biaodi.adapters.ratelimit import address_key
from biaodi.bootstrap import Platform
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.errors import Forbidden, Unauthorized
from biaodi.services.accounts import users
from biaodi.services.accounts.users import UserView
from biaodi.services.shared import audit

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_platform(request: Request) -> Platform:
    """A coroutine on purpose: FastAPI runs a plain function dependency in a worker thread,
    and the hand-over costs more than this attribute read (every route depends on it)."""
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def address_of(request: Request) -> str:
    return address_key(request.client)


def get_current_user(
    request: Request, platform: PlatformDep, token: Annotated[str | None, Depends(oauth2)]
) -> UserView:
    if not token:
        raise Unauthorized(
            "log in first: send Authorization: Bearer <token>", code="not_authenticated"
        )
    with platform.glance() as uow:  # one statement: token, user and roles
        user = users.user_for_token(uow, token)
    request.state.user_id = user.id  # for the access log of a refusal (api/guards.Edge)
    audit.signed_in(user.id)  # the actor of the audit records this request writes
    return user


CurrentUser = Annotated[UserView, Depends(get_current_user)]


def get_optional_user(
    request: Request, platform: PlatformDep, token: Annotated[str | None, Depends(oauth2)]
) -> UserView | None:
    """The caller if a valid token came with the request; anonymous otherwise."""
    if not token:
        return None
    with platform.glance() as uow:  # one statement: token, user and roles
        user = users.user_for_token(uow, token)
    request.state.user_id = user.id
    audit.signed_in(user.id)
    return user


OptionalUser = Annotated[UserView | None, Depends(get_optional_user)]


def require_role(*roles: Role) -> Callable[[UserView], UserView]:
    wanted = {r.value for r in roles}

    def check(user: CurrentUser) -> UserView:
        if not wanted.intersection(user.roles):
            raise Forbidden(
                f"this needs the role {' or '.join(sorted(wanted))}", code="role_required"
            )
        return user

    return check


Operator = Annotated[UserView, Depends(require_role(Role.OPERATOR))]


def claimed_caller(request: Request, platform: Platform, token: str) -> str:
    """Whom a signed token says it belongs to, without reading the database: the key a hot
    path counts its rate limit under (`user:<id>`; an unsigned token counts for itself). The
    token's validity is checked later, in the same statement as the work."""
    claimed = claimed_user(token, platform.cipher)
    request.state.user_id = claimed
    return f"user:{claimed}" if claimed is not None else f"token:{users.token_digest(token)}"
