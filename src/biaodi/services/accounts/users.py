"""Parties: registration with real-name checks, staff accounts, login tokens, wallets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, select, text
from sqlalchemy.exc import IntegrityError

from biaodi.adapters.crypto import (
    PersonalDataCipher,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from biaodi.adapters.db.tables import Account, AuthToken, User, UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.attribution import parse_attribution
from biaodi.domain.accounts.identity import mask_mobile, parse_mobile, parse_resident_id
from biaodi.domain.accounts.roles import SELF_SERVICE_ROLES, STAFF_ROLES, Role
from biaodi.domain.ledger.rules import ROLE_WALLETS, OwnerKind, wallet
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound, Unauthorized
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import security
from biaodi.services.ledger.posting import open_accounts
from biaodi.services.shared import audit

_USERNAME_RE = re.compile(r"^[a-z][a-z0-9_]{2,31}$")
_NAME_RE = re.compile(r"^[\u4e00-\u9fff·A-Za-z .'-]{2,32}$")


@dataclass(frozen=True)
class Register:
    username: str
    password: str
    real_name: str
    id_number: str
    mobile: str
    roles: tuple[str, ...] = ("investor",)
    #: Acquisition channel and campaign, as the sign-up link or request carried them.
    channel: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    real_name: str
    mobile_masked: str
    id_number_masked: str
    roles: list[str] = field(default_factory=list)
    status: str = "active"


def check_password(password: str) -> None:
    if len(password) < 8 or len(password) > 128:
        raise InvalidInput("password must have 8 to 128 characters", field="password")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
        raise InvalidInput("password must contain letters and digits", field="password")


def _parse_roles(roles: tuple[str, ...], allowed: frozenset[Role]) -> list[Role]:
    if not roles:
        raise InvalidInput("choose at least one role", field="roles")
    parsed = []
    for raw in roles:
        try:
            role = Role(raw)
        except ValueError:
            raise InvalidInput(f"unknown role {raw!r}", field="roles") from None
        if role not in allowed:
            raise InvalidInput(
                f"role {raw!r} cannot be chosen here (allowed: "
                f"{', '.join(sorted(r.value for r in allowed))})",
                field="roles",
            )
        parsed.append(role)
    return sorted(set(parsed))


def _create(
    uow: UnitOfWork, cmd: Register, cipher: PersonalDataCipher, allowed: frozenset[Role],
    password_hash: str | None = None,
) -> UserView:
    username = cmd.username.strip().lower()
    if not _USERNAME_RE.match(username):
        raise InvalidInput(
            "username must be 3–32 characters: a letter, then letters, digits or _",
            field="username",
        )
    check_password(cmd.password)
    real_name = cmd.real_name.strip()
    if not _NAME_RE.match(real_name):
        raise InvalidInput(
            "real_name must be a person's name of 2–32 characters", field="real_name"
        )
    resident = parse_resident_id(cmd.id_number, today=uow.clock.today())
    mobile = parse_mobile(cmd.mobile)
    roles = _parse_roles(cmd.roles, allowed)
    source = parse_attribution(cmd.channel, cmd.campaign)
    digest = cipher.digest(resident.number)
    mobile_digest = cipher.digest(mobile)

    s = uow.s
    for column, value, name in (
        (User.username, username, "username"),
        (User.mobile_digest, mobile_digest, "mobile"),
        (User.id_number_digest, digest, "id_number"),
    ):
        if s.execute(select(User.id).where(column == value)).first():
            raise Conflict(f"{name} is already registered", field=name, code="already_registered")

    user = User(
        username=username,
        real_name=real_name,
        mobile_enc=cipher.encrypt(mobile),
        mobile_digest=mobile_digest,
        mobile_masked=mask_mobile(mobile),
        id_number_enc=cipher.encrypt(resident.number),
        id_number_digest=digest,
        id_number_masked=resident.masked,
        birth_date=resident.birth_date,
        province_code=resident.province_code,
        password_hash=password_hash or hash_password(cmd.password),
        status="active",
        created_at=uow.clock.now(),
        acquisition_channel=source.channel.value,
        acquisition_campaign=source.campaign,
    )
    s.add(user)
    try:
        s.flush()
    except IntegrityError:
        raise Conflict(
            "username, mobile or id_number is already registered", code="already_registered"
        ) from None
    for role in roles:
        s.add(UserRole(user_id=user.id, role=role.value))
    open_accounts(
        uow,
        [
            wallet(OwnerKind(role.value), user.id, purpose)
            for role in roles
            for purpose in ROLE_WALLETS.get(role.value, ())
        ],
    )
    s.flush()
    # The roles, never the personal data: only that it was recorded (encrypted).
    audit.note(uow, "user.created", subjects=[("user", user.id)], changes={
        "username": username, "roles": [r.value for r in roles], "status": user.status,
        "personal_data": "recorded"})
    return _view(user, [r.value for r in roles])


def register(uow: UnitOfWork, cmd: Register, cipher: PersonalDataCipher, *,
             password_hash: str | None = None) -> UserView:
    """Self-service registration as investor, borrower, guarantor and/or originator.

    `password_hash`: `hash_password(cmd.password)` made once by a caller that registers many
    users with one password (the market simulator), so that each sign-up need not spend
    Argon2's deliberate cost again. It is stored as given, with production parameters; no
    request handler passes it."""
    return _create(uow, cmd, cipher, SELF_SERVICE_ROLES, password_hash)


def create_staff(uow: UnitOfWork, cmd: Register, cipher: PersonalDataCipher, *,
                 password_hash: str | None = None) -> UserView:
    """An operator, risk officer or auditor, created from the CLI or by an operator
    (`password_hash`: as for `register`)."""
    return _create(uow, cmd, cipher, STAFF_ROLES, password_hash)


def _view(user: User, roles: list[str]) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        real_name=user.real_name,
        mobile_masked=user.mobile_masked,
        id_number_masked=user.id_number_masked,
        roles=sorted(roles),
        status=user.status,
    )


def roles_of(uow: UnitOfWork, user_id: int) -> list[str]:
    return sorted(uow.s.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


def get_user(uow: UnitOfWork, user_id: int) -> UserView:
    user = uow.s.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", field="user_id")
    return _view(user, roles_of(uow, user_id))


def login(uow: UnitOfWork, username: str, password: str, ttl: timedelta,
          cipher: PersonalDataCipher | None = None) -> tuple[str, datetime]:
    """Exchange a username (or, given the cipher, a mobile) and password for a bearer token."""
    name = username.strip().lower()
    found = User.username == name
    if cipher is not None:
        found = found | (User.mobile_digest == cipher.digest(name))
    user = uow.s.execute(select(User).where(found)).scalar_one_or_none()
    if user is None:
        raise Unauthorized("wrong username or password", code="invalid_credentials")
    security.check_not_locked(uow, user.id)
    if not verify_password(user.password_hash, password):
        raise security.WrongPassword(user.id)  # counted by `security.sign_in`
    if user.status != "active":
        raise Unauthorized("this account is disabled", code="account_disabled")
    token, digest = new_token(user.id, cipher)
    now = uow.clock.now()
    expires = now + ttl
    uow.s.add(
        AuthToken(
            token_hash=digest, user_id=user.id, created_at=now, expires_at=expires, revoked=False
        )
    )
    audit.note(uow, "user.signed_in", subjects=[("user", user.id)],
               changes={"expires_at": expires})
    security.signed_in(uow, user.id)
    return token, expires


_TOKEN_USER = text(
    "SELECT t.revoked, t.expires_at, u.id, u.username, u.real_name, u.mobile_masked, "
    "u.id_number_masked, u.status, r.role FROM auth_tokens t JOIN users u ON u.id = t.user_id "
    "LEFT JOIN user_roles r ON r.user_id = u.id WHERE t.token_hash = :digest"
).columns(expires_at=DateTime(timezone=True))


def user_for_token(uow: UnitOfWork, token: str) -> UserView:
    """The caller behind a bearer token, with their roles: one statement (the token, the user
    and their roles joined), refused if the token is unknown, revoked or expired or the account
    disabled."""
    # on the session's connection: the ORM's execution path costs more than this statement
    rows = uow.s.connection().execute(_TOKEN_USER, {"digest": token_digest(token)}).all()
    if not rows or rows[0].revoked:
        raise Unauthorized("invalid or revoked token", code="invalid_token")
    row = rows[0]
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite returns naive datetimes; they were stored as UTC
        expires = expires.replace(tzinfo=UTC)
    if expires <= uow.clock.now():
        raise Unauthorized("token expired: log in again", code="token_expired")
    if row.status != "active":
        raise Unauthorized("this account is disabled", code="account_disabled")
    return UserView(id=row.id, username=row.username, real_name=row.real_name,
                    mobile_masked=row.mobile_masked, id_number_masked=row.id_number_masked,
                    roles=sorted(r.role for r in rows if r.role is not None), status=row.status)


def logout(uow: UnitOfWork, token: str) -> None:
    row = uow.s.get(AuthToken, token_digest(token))
    if row is not None and not row.revoked:
        row.revoked = True
        audit.note(uow, "user.signed_out", subjects=[("user", row.user_id)])


def wallet_of(uow: UnitOfWork, user_id: int) -> dict[str, dict[str, Money]]:
    """The user's wallets by role and purpose, e.g. {"investor": {"available": Money(…)}}."""
    rows = uow.s.execute(
        select(Account.owner_kind, Account.purpose, Account.balance)
        .where(Account.owner_id == user_id)
        .where(Account.owner_kind.in_([k for k in ROLE_WALLETS]))
        .order_by(Account.owner_kind, Account.purpose)
    )
    wallets: dict[str, dict[str, Money]] = {}
    for owner_kind, purpose, bal in rows:
        wallets.setdefault(owner_kind, {})[purpose] = Money(int(bal))
    return wallets
