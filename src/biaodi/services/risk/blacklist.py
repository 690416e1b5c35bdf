"""Blacklist use cases (动态黑名单): add, remove with a reason, look up, and the automatic
paths — a default past M3 (servicing calls `on_default_past_m3`), a confirmed fraud, and the
identities linked to a listed one. Every change writes an audit row in the same transaction.

Values are matched by their keyed digest (`PersonalDataCipher.digest`), the same digest the
users table keeps for ID numbers and the risk applications keep for phones, cards and devices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, exists, or_, select

from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.risk_tables import BlacklistAudit, BlacklistEntry, RiskApplication
from biaodi.adapters.db.tables import User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.risk.blacklist import (
    Blacklisted,
    ListKind,
    ListReason,
    expiry,
    is_past_m3,
    mask,
    normalise,
    removal_reason,
)
from biaodi.domain.risk.rules import RulePack
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.services.shared import audit

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class AddEntry:
    kind: str
    value: str
    reason: str = ListReason.MANUAL.value
    note: str = ""
    expires_in_days: int | None = None  # None: the pack's term for the reason


@dataclass(frozen=True)
class Value:
    """A value to list, already digested."""

    kind: ListKind
    digest: str
    masked: str


def _kind(raw: str) -> ListKind:
    try:
        return ListKind(raw)
    except ValueError:
        known = ", ".join(k.value for k in ListKind)
        raise InvalidInput(f"kind must be one of {known}", field="kind") from None


def _reason(raw: str) -> ListReason:
    try:
        return ListReason(raw)
    except ValueError:
        known = ", ".join(r.value for r in ListReason)
        raise InvalidInput(f"reason must be one of {known}", field="reason") from None


def _active(now: datetime) -> Any:
    return (BlacklistEntry.removed_at.is_(None)) & (
        BlacklistEntry.expires_at.is_(None) | (BlacklistEntry.expires_at > now))


def _audit(uow: UnitOfWork, entry: BlacklistEntry, action: str, actor_id: int | None,
           reason: str) -> None:
    uow.s.add(BlacklistAudit(entry_id=entry.id, action=action, actor_id=actor_id,
                             reason=reason, at=uow.clock.now()))
    user_id = getattr(entry, "user_id", None)
    audit.note(uow, f"blacklist.{action}", subjects=[("user", user_id)] if user_id else [],
               changes={"entry_id": entry.id, "kind": entry.kind, "reason": reason})


def _list(uow: UnitOfWork, value: Value, reason: ListReason, pack: RulePack, *, note: str,
          source: str, actor_id: int | None, user_id: int | None = None,
          linked_entry_id: int | None = None, days: int | None = None) -> BlacklistEntry:
    """List a value; an active entry for the same value and reason is kept, not doubled."""
    now = uow.clock.now()
    existing = uow.s.execute(select(BlacklistEntry).where(
        BlacklistEntry.kind == value.kind.value, BlacklistEntry.value_digest == value.digest,
        BlacklistEntry.reason == reason.value, _active(now))).scalars().first()
    if existing is not None:
        return existing
    entry = BlacklistEntry(
        kind=value.kind.value, value_digest=value.digest, value_masked=value.masked,
        reason=reason.value, note=note.strip(), source=source, user_id=user_id,
        linked_entry_id=linked_entry_id, created_by=actor_id, created_at=now,
        expires_at=expiry(reason, pack.blacklist, now, days),
    )
    uow.s.add(entry)
    uow.s.flush()
    _audit(uow, entry, "added", actor_id, note.strip() or reason.value)
    return entry


def add(uow: UnitOfWork, cmd: AddEntry, *, cipher: PersonalDataCipher, pack: RulePack,
        actor_id: int) -> BlacklistEntry:
    """An operator or risk officer lists a value by hand."""
    kind, reason = _kind(cmd.kind), _reason(cmd.reason)
    if reason in (ListReason.DEFAULT_M3, ListReason.LINKED):
        raise InvalidInput(f"{reason.value} entries are made by the platform, not by hand",
                           field="reason")
    if not cmd.note.strip():
        raise InvalidInput("say why the value is listed", field="note")
    value = normalise(kind, cmd.value, uow.clock.today())
    user_id = None
    if kind is ListKind.ID_NUMBER:
        user_id = uow.s.execute(select(User.id).where(
            User.id_number_digest == cipher.digest(value))).scalar_one_or_none()
    entry = _list(uow, Value(kind, cipher.digest(value), mask(kind, value)), reason, pack,
                  note=cmd.note, source="operator", actor_id=actor_id, user_id=user_id,
                  days=cmd.expires_in_days)
    if reason is ListReason.FRAUD and user_id is not None:
        link_identities(uow, user_id, entry, pack, actor_id=actor_id)
    return entry


def remove(uow: UnitOfWork, entry_id: int, *, actor_id: int, reason: str) -> BlacklistEntry:
    text = removal_reason(reason)
    entry = uow.s.execute(select(BlacklistEntry).where(BlacklistEntry.id == entry_id)
                          .with_for_update()).scalar_one_or_none()
    if entry is None:
        raise NotFound(f"no blacklist entry {entry_id}", field="entry_id")
    if entry.removed_at is not None:
        raise Conflict(f"blacklist entry {entry_id} was already removed",
                       code="already_removed")
    entry.removed_at, entry.removed_by, entry.removal_reason = uow.clock.now(), actor_id, text
    _audit(uow, entry, "removed", actor_id, text)
    uow.s.flush()
    return entry


def hits(uow: UnitOfWork, digests: Iterable[tuple[ListKind, str | None]]
         ) -> list[BlacklistEntry]:
    """Active entries matching any of the given (kind, digest) values."""
    wanted = [(BlacklistEntry.kind == k.value) & (BlacklistEntry.value_digest == d)
              for k, d in digests if d]
    if not wanted:
        return []
    return list(uow.s.execute(select(BlacklistEntry).where(
        or_(*wanted), _active(uow.clock.now())).order_by(BlacklistEntry.id)).scalars())


_ACTIVE = (BlacklistEntry.removed_at.is_(None)
           & (BlacklistEntry.expires_at.is_(None)
              | (BlacklistEntry.expires_at > bindparam("now"))))

_APPLICATION_HITS = select(BlacklistEntry).where(
    or_(*[(BlacklistEntry.kind == kind.value) & (BlacklistEntry.value_digest == bindparam(kind))
          for kind in ListKind]),
    _ACTIVE,
).order_by(BlacklistEntry.id)


def listed_columns() -> list[Any]:
    """One boolean column per kind: is the application's value of that kind actively listed?
    For a statement that reads them with other evidence; its parameters are named like
    `application_hits`'s (each kind's value, and `now`)."""
    return [exists().where(BlacklistEntry.kind == kind.value,
                           BlacklistEntry.value_digest == bindparam(kind), _ACTIVE)
            .label(f"listed_{kind.value}") for kind in ListKind]


def application_hits(uow: UnitOfWork, id_digest: str, mobile_digest: str, card_digest: str,
                     device_digest: str | None) -> list[BlacklistEntry]:
    """`hits` for the four values of an application, with a statement built once."""
    return list(uow.s.execute(_APPLICATION_HITS, {
        ListKind.ID_NUMBER: id_digest, ListKind.MOBILE: mobile_digest,
        ListKind.BANK_CARD: card_digest, ListKind.DEVICE: device_digest or "",
        "now": uow.clock.now()}).scalars())


def identity_values(uow: UnitOfWork, user_id: int, cipher: PersonalDataCipher) -> list[Value]:
    """Everything that identifies a user: ID number, phone, and the cards and devices of the
    user's applications."""
    user = uow.s.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", field="user_id")
    values = [Value(ListKind.ID_NUMBER, user.id_number_digest, user.id_number_masked),
              Value(ListKind.MOBILE, user.mobile_digest, user.mobile_masked)]
    seen = {(v.kind, v.digest) for v in values}
    for card, card_masked, device in uow.s.execute(select(
            RiskApplication.card_digest, RiskApplication.card_masked,
            RiskApplication.device_digest).where(RiskApplication.user_id == user_id)):
        for v in (Value(ListKind.BANK_CARD, card, card_masked),
                  Value(ListKind.DEVICE, device, "device") if device else None):
            if v is not None and (v.kind, v.digest) not in seen:
                seen.add((v.kind, v.digest))
                values.append(v)
    return values


def check_before_disbursement(uow: UnitOfWork, user_id: int,
                              cipher: PersonalDataCipher) -> None:
    """Refuse to pay out to a borrower whose ID, phone, card or device is listed now.

    The investing/servicing disbursement step calls this in its own transaction."""
    found = hits(uow, [(v.kind, v.digest) for v in identity_values(uow, user_id, cipher)])
    if found:
        kinds = ", ".join(sorted({e.kind for e in found}))
        raise Blacklisted(f"borrower {user_id} is on the blacklist ({kinds}): no disbursement",
                          field="user_id")


def _list_identity(uow: UnitOfWork, user_id: int, reason: ListReason, pack: RulePack, *,
                   cipher: PersonalDataCipher, note: str, source: str,
                   actor_id: int | None) -> list[BlacklistEntry]:
    """List every value of the identity, then the identities linked to it; returns both."""
    entries = [_list(uow, v, reason, pack, note=note, source=source, actor_id=actor_id,
                     user_id=user_id) for v in identity_values(uow, user_id, cipher)]
    return entries + link_identities(uow, user_id, entries[0], pack, actor_id=actor_id)


def on_default_past_m3(uow: UnitOfWork, user_id: int, *, days_overdue: int, reference: str,
                       cipher: PersonalDataCipher, pack: RulePack) -> list[BlacklistEntry]:
    """Servicing: a loan of `user_id` is more than 90 days past due. Safe to call every day:
    an active entry is kept, not doubled."""
    if not is_past_m3(days_overdue):
        raise InvalidInput(f"{days_overdue} days overdue is not past M3 (over 90 days)",
                           field="days_overdue")
    note = f"default past M3: {days_overdue} days overdue ({reference})"
    return _list_identity(uow, user_id, ListReason.DEFAULT_M3, pack, cipher=cipher, note=note,
                          source="servicing", actor_id=None)


def on_confirmed_fraud(uow: UnitOfWork, user_id: int, *, note: str, actor_id: int,
                       cipher: PersonalDataCipher, pack: RulePack) -> list[BlacklistEntry]:
    """A risk officer confirms a fraud: the identity and all its values are listed."""
    if not note.strip():
        raise InvalidInput("describe the confirmed fraud", field="note")
    return _list_identity(uow, user_id, ListReason.FRAUD, pack, cipher=cipher,
                          note=f"confirmed fraud: {note.strip()}", source="fraud",
                          actor_id=actor_id)


def link_identities(uow: UnitOfWork, user_id: int, origin: BlacklistEntry, pack: RulePack, *,
                    actor_id: int | None) -> list[BlacklistEntry]:
    """List the ID numbers of other identities that applied with this user's phone, cards or
    devices (one step, no chains: a linked entry does not link further)."""
    own = uow.s.execute(select(RiskApplication.mobile_digest, RiskApplication.card_digest,
                               RiskApplication.device_digest)
                        .where(RiskApplication.user_id == user_id)).all()
    user = uow.s.get(User, user_id)
    phones = {r[0] for r in own}
    cards = {r[1] for r in own}
    devices = {r[2] for r in own if r[2]}
    if not (phones or cards or devices) or user is None:
        return []
    others = uow.s.execute(select(RiskApplication.user_id, User.id_number_digest,
                                  User.id_number_masked)
                           .join(User, User.id == RiskApplication.user_id)
                           .where(RiskApplication.user_id != user_id,
                                  User.id_number_digest != user.id_number_digest,
                                  or_(RiskApplication.mobile_digest.in_(phones),
                                      RiskApplication.card_digest.in_(cards),
                                      RiskApplication.device_digest.in_(devices or {""})))
                           .distinct()).all()
    return [_list(uow, Value(ListKind.ID_NUMBER, digest, masked), ListReason.LINKED, pack,
                  note=f"shares a phone, card or device with listed user {user_id}",
                  source="linked", actor_id=actor_id, user_id=other_id,
                  linked_entry_id=origin.id)
            for other_id, digest, masked in sorted(others)]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite: stored as UTC, read naive
        return moment.replace(tzinfo=UTC)
    return moment


def view(entry: BlacklistEntry, now: datetime, audit: Iterable[BlacklistAudit] = ()
         ) -> dict[str, Any]:
    expires, created, removed = _utc(entry.expires_at), _utc(entry.created_at), _utc(
        entry.removed_at)
    active = entry.removed_at is None and (expires is None or expires > now)
    out: dict[str, Any] = {
        "id": entry.id, "kind": entry.kind, "value_masked": entry.value_masked,
        "reason": entry.reason, "note": entry.note, "source": entry.source,
        "user_id": entry.user_id, "linked_entry_id": entry.linked_entry_id,
        "created_by": entry.created_by, "created_at": created.isoformat() if created else None,
        "expires_at": expires.isoformat() if expires else None, "active": active,
        "removed_at": removed.isoformat() if removed else None,
        "removed_by": entry.removed_by, "removal_reason": entry.removal_reason,
    }
    if audit:
        out["audit"] = [{"action": a.action, "actor_id": a.actor_id, "reason": a.reason,
                         "at": _utc(a.at).isoformat()} for a in audit]  # type: ignore[union-attr]
    return out


def get(uow: UnitOfWork, entry_id: int) -> dict[str, Any]:
    entry = uow.s.get(BlacklistEntry, entry_id)
    if entry is None:
        raise NotFound(f"no blacklist entry {entry_id}", field="entry_id")
    audit = uow.s.execute(select(BlacklistAudit).where(BlacklistAudit.entry_id == entry_id)
                          .order_by(BlacklistAudit.id)).scalars().all()
    return view(entry, uow.clock.now(), audit)


def browse(uow: UnitOfWork, *, kind: str | None = None, active_only: bool = True,
           user_id: int | None = None, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    if page < 1:
        raise InvalidInput("page starts at 1", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be from 1 to {MAX_PAGE_SIZE}", field="page_size")
    now = uow.clock.now()
    query = select(BlacklistEntry)
    if kind is not None:
        query = query.where(BlacklistEntry.kind == _kind(kind).value)
    if active_only:
        query = query.where(_active(now))
    if user_id is not None:
        query = query.where(BlacklistEntry.user_id == user_id)
    rows = uow.s.execute(query.order_by(BlacklistEntry.id.desc())
                         .offset((page - 1) * page_size).limit(page_size)).scalars().all()
    return {"items": [view(r, now) for r in rows], "page": page, "page_size": page_size}
