"""Account security: lockout after repeated failed sign-ins, one-time codes sent through the
notification outbox (password reset, mobile verification), the owner's sessions and their
revocation, and the security log the user reads.

A failed attempt (a wrong password, a wrong code) must count even though the attempt itself
is refused: the use cases that can fail take the unit-of-work factory and record the failure
in a transaction of its own before raising."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from biaodi.adapters.crypto import PersonalDataCipher, hash_password, verify_password
from biaodi.adapters.db.notification_tables import (
    AccountSecurity,
    NotificationSettings,
    SecurityCode,
    SecurityEvent,
)
from biaodi.adapters.db.tables import AuthToken, User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.config import Settings
from biaodi.domain.notifications.kinds import Channel, channel_of
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound, Unauthorized
from biaodi.services.notifications.capture import notify
from biaodi.services.shared import audit
from biaodi.services.shared.tx import in_transaction

PURPOSES = ("password_reset", "mobile")


@dataclass(frozen=True)
class SecurityRules:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    code_ttl: timedelta = timedelta(minutes=10)
    code_attempts: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> SecurityRules:
        return cls(settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes),
                   timedelta(minutes=settings.security_code_minutes),
                   settings.security_code_max_attempts)


class WrongPassword(Unauthorized):
    """A known user gave a wrong password: the failure is counted."""

    def __init__(self, user_id: int):
        super().__init__("wrong username or password", code="invalid_credentials")
        self.user_id = user_id


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite gives naive UTC
        return value.replace(tzinfo=UTC)
    return value


def log(uow: UnitOfWork, user_id: int, kind: str, detail: str = "") -> None:
    uow.s.add(SecurityEvent(user_id=user_id, kind=kind, detail=detail, at=uow.clock.now()))


def _state(uow: UnitOfWork, user_id: int) -> AccountSecurity:
    found = uow.s.get(AccountSecurity, user_id)
    if found is None:
        found = AccountSecurity(user_id=user_id, failed_logins=0)
        uow.s.add(found)
    return found


# --- sign-in ---------------------------------------------------------------------------------
def check_not_locked(uow: UnitOfWork, user_id: int) -> None:
    found = uow.s.get(AccountSecurity, user_id)
    until = _aware(found.locked_until) if found else None
    if until is not None and until > uow.clock.now():
        raise Unauthorized(f"too many failed sign-ins: the account is locked until"
                           f" {until:%Y-%m-%d %H:%M} UTC (rule login.lockout)",
                           code="account_locked", field="username")


def signed_in(uow: UnitOfWork, user_id: int) -> None:
    """A good sign-in: the failure count starts again; the log notes it."""
    found = uow.s.get(AccountSecurity, user_id)
    if found is not None and (found.failed_logins or found.locked_until):
        found.failed_logins, found.locked_until = 0, None
    log(uow, user_id, "signed_in")


def record_failure(uow: UnitOfWork, user_id: int, rules: SecurityRules) -> bool:
    """Count a failed sign-in; the `max_failures`-th in a row locks the account. True if it
    locked now."""
    state = _state(uow, user_id)
    state.failed_logins = (state.failed_logins or 0) + 1
    log(uow, user_id, "sign_in_failed", f"failure {state.failed_logins}")
    if state.failed_logins >= rules.max_failures:
        state.failed_logins, state.locked_until = 0, uow.clock.now() + rules.lockout
        log(uow, user_id, "locked", f"{rules.max_failures} failed sign-ins in a row")
        audit.note(uow, "user.locked", subjects=[("user", user_id)],
                   changes={"locked_until": state.locked_until})
        return True
    return False


def sign_in(uow_factory: Callable[[], UnitOfWork], attempt: Callable[[UnitOfWork], Any],
            rules: SecurityRules) -> Any:
    """Run a sign-in (`users.login`); a wrong password is counted in its own transaction."""
    try:
        return in_transaction(uow_factory, attempt)
    except WrongPassword as wrong:
        who = wrong.user_id
        in_transaction(uow_factory, lambda uow: record_failure(uow, who, rules))
        raise


# --- one-time codes --------------------------------------------------------------------------
def _digest(cipher: PersonalDataCipher, user_id: int, purpose: str, code: str) -> str:
    return cipher.digest(f"code:{user_id}:{purpose}:{code}")


def send_code(uow: UnitOfWork, user_id: int, purpose: str, channel: str,
              cipher: PersonalDataCipher, rules: SecurityRules) -> bool:
    """Send a fresh six-digit code by `channel` (earlier unused codes stop working). False when
    the user has no address on that channel (nothing is sent)."""
    chosen = channel_of(channel)
    if chosen is Channel.EMAIL:
        found = uow.s.get(NotificationSettings, user_id)
        if found is None or not found.email:
            return False
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = uow.clock.now()
    uow.s.execute(update(SecurityCode).where(
        SecurityCode.user_id == user_id, SecurityCode.purpose == purpose,
        SecurityCode.used_at.is_(None)).values(used_at=now))
    row = SecurityCode(user_id=user_id, purpose=purpose, code_hash=_digest(
        cipher, user_id, purpose, code), channel=chosen.value, attempts=0,
        expires_at=now + rules.code_ttl, created_at=now)
    uow.s.add(row)
    uow.s.flush()
    minutes = int(rules.code_ttl.total_seconds() // 60)
    notify(uow, user_id, "security.code", f"security.code:{row.id}",
           {"code": code, "minutes": minutes}, channels={chosen}, secret=cipher)
    log(uow, user_id, "code_sent", f"{purpose} by {chosen.value}")
    return True


def register(uow: UnitOfWork, cmd: Any, cipher: PersonalDataCipher, rules: SecurityRules) -> Any:
    """Self-service registration (`users.register`) and the code that verifies the mobile,
    sent to it by SMS in the same transaction."""
    from biaodi.services.accounts.users import register as create

    view = create(uow, cmd, cipher)
    send_code(uow, view.id, "mobile", "sms", cipher, rules)
    return view


def _check_code(uow: UnitOfWork, user_id: int, purpose: str, code: str,
                cipher: PersonalDataCipher, rules: SecurityRules) -> str | None:
    """None if `code` is the user's live code for `purpose` (it is used up); else why not. A
    wrong try is counted on the code."""
    now = uow.clock.now()
    row = uow.s.scalars(select(SecurityCode).where(
        SecurityCode.user_id == user_id, SecurityCode.purpose == purpose,
        SecurityCode.used_at.is_(None)).order_by(SecurityCode.id.desc()).limit(1)).first()
    if row is None or _aware(row.expires_at) <= now:  # type: ignore[operator]
        return "no code is waiting: ask for a new one"
    if row.attempts >= rules.code_attempts:
        return "too many wrong codes: ask for a new one"
    if not secrets.compare_digest(row.code_hash, _digest(cipher, user_id, purpose,
                                                         code.strip())):
        row.attempts += 1
        log(uow, user_id, "code_failed", purpose)
        return "wrong code"
    row.used_at = now
    return None


def _with_code(uow_factory: Callable[[], UnitOfWork], user_id: int, purpose: str, code: str,
               cipher: PersonalDataCipher, rules: SecurityRules,
               then: Callable[[UnitOfWork], Any]) -> Any:
    """Check the code and, if it is right, run `then` in the same transaction; a wrong code is
    counted (committed) and refused, naming the field `code`."""
    def act(uow: UnitOfWork) -> tuple[str | None, Any]:
        problem = _check_code(uow, user_id, purpose, code, cipher, rules)
        return problem, None if problem else then(uow)

    problem, result = in_transaction(uow_factory, act)
    if problem:
        raise InvalidInput(f"code: {problem}", field="code")
    return result


def _user_by_login(uow: UnitOfWork, login: str, cipher: PersonalDataCipher) -> User | None:
    name = login.strip().lower()
    return uow.s.execute(select(User).where(
        (User.username == name) | (User.mobile_digest == cipher.digest(name)))
    ).scalar_one_or_none()


def request_reset(uow: UnitOfWork, login: str, channel: str, cipher: PersonalDataCipher,
                  rules: SecurityRules) -> None:
    """Send a password-reset code to the user named by username or mobile. The answer is the
    same whether or not such a user exists (nobody learns who has an account)."""
    channel_of(channel)
    user = _user_by_login(uow, login, cipher)
    if user is not None and user.status == "active":
        send_code(uow, user.id, "password_reset", channel, cipher, rules)


def reset_password(uow_factory: Callable[[], UnitOfWork], login: str, code: str,
                   new_password: str, cipher: PersonalDataCipher, rules: SecurityRules) -> None:
    """Set a new password with the code sent; every session ends and the lockout is lifted."""
    from biaodi.services.accounts.users import check_password

    check_password(new_password)
    with uow_factory() as uow:
        user = _user_by_login(uow, login, cipher)
        user_id = user.id if user is not None else None
    if user_id is None:
        raise InvalidInput("code: wrong code", field="code")

    def change(uow: UnitOfWork) -> None:
        found = uow.s.get(User, user_id)
        assert found is not None
        found.password_hash = hash_password(new_password)
        uow.s.execute(update(AuthToken).where(AuthToken.user_id == user_id,
                                              AuthToken.revoked.is_(False)).values(revoked=True))
        state = _state(uow, user_id)
        state.failed_logins, state.locked_until = 0, None
        log(uow, user_id, "password_reset", "all sessions ended")
        audit.note(uow, "user.password_reset", subjects=[("user", user_id)])

    _with_code(uow_factory, user_id, "password_reset", code, cipher, rules, change)


def change_password(uow: UnitOfWork, user_id: int, current: str, new_password: str) -> None:
    from biaodi.services.accounts.users import check_password

    user = uow.s.get(User, user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise InvalidInput("current_password: wrong password", field="current_password")
    check_password(new_password)
    user.password_hash = hash_password(new_password)
    log(uow, user_id, "password_changed")


def verify_mobile(uow_factory: Callable[[], UnitOfWork], user_id: int, code: str,
                  cipher: PersonalDataCipher, rules: SecurityRules) -> None:
    def verified(uow: UnitOfWork) -> None:
        state = _state(uow, user_id)
        state.mobile_verified_at = uow.clock.now()
        log(uow, user_id, "mobile_verified")

    _with_code(uow_factory, user_id, "mobile", code, cipher, rules, verified)


# --- sessions and the log --------------------------------------------------------------------
def sessions(uow: UnitOfWork, user_id: int, current: str | None = None) -> list[dict[str, Any]]:
    """The user's live sessions (tokens neither revoked nor expired), newest first; each named
    by the start of its token's digest (the token itself is never stored); `current` is the
    digest of the caller's own token."""
    now = uow.clock.now()
    rows = uow.s.scalars(select(AuthToken).where(
        AuthToken.user_id == user_id, AuthToken.revoked.is_(False))
        .order_by(AuthToken.created_at.desc())).all()
    return [{"id": t.token_hash[:16], "created_at": _aware(t.created_at).isoformat(),  # type: ignore[union-attr]
             "expires_at": _aware(t.expires_at).isoformat(),  # type: ignore[union-attr]
             "current": t.token_hash == current}
            for t in rows if _aware(t.expires_at) > now]  # type: ignore[operator]


def revoke_session(uow: UnitOfWork, user_id: int, session_id: str) -> None:
    if len(session_id) != 16 or any(c not in "0123456789abcdef" for c in session_id):
        raise NotFound(f"you have no session {session_id[:20]!r}", field="session_id")
    found = uow.s.scalars(select(AuthToken).where(
        AuthToken.user_id == user_id, AuthToken.token_hash.startswith(session_id))).first()
    if found is None:
        raise NotFound(f"you have no session {session_id}", field="session_id")
    if found.revoked:
        raise Conflict(f"session {session_id} has already ended", field="session_id")
    found.revoked = True
    log(uow, user_id, "session_revoked", session_id)
    audit.note(uow, "user.session_revoked", subjects=[("user", user_id)])


def overview(uow: UnitOfWork, user_id: int) -> dict[str, Any]:
    found = uow.s.get(AccountSecurity, user_id)
    verified = _aware(found.mobile_verified_at) if found else None
    until = _aware(found.locked_until) if found else None
    return {"mobile_verified": verified is not None,
            "mobile_verified_at": verified.isoformat() if verified else None,
            "locked_until": until.isoformat() if until and until > uow.clock.now() else None}


def events(uow: UnitOfWork, user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    rows = uow.s.scalars(select(SecurityEvent).where(SecurityEvent.user_id == user_id)
                         .order_by(SecurityEvent.id.desc()).limit(limit)).all()
    return [{"kind": e.kind, "detail": e.detail, "at": _aware(e.at).isoformat()}  # type: ignore[union-attr]
            for e in rows]


__all__ = ["PURPOSES", "SecurityRules", "WrongPassword", "change_password", "check_not_locked",
           "events", "log", "overview", "record_failure", "register", "request_reset",
           "reset_password", "revoke_session", "send_code", "sessions", "sign_in", "signed_in",
           "verify_mobile"]
