"""A user's inbox and choices: messages newest first, marking them read, the channels per kind,
the e-mail address and the language of the templates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from biaodi.adapters.db.notification_tables import (
    Notification,
    NotificationDelivery,
    NotificationPreference,
    NotificationSettings,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.notifications.kinds import KINDS, LANGUAGES, Channel, channel_of, kind_of
from biaodi.domain.shared.errors import InvalidInput, NotFound
from biaodi.services.notifications.capture import chosen_channels

#: An e-mail address, loosely: the API states the same pattern (EMAIL_PATTERN) in its schema.
EMAIL_CORE = r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_EMAIL = re.compile(EMAIL_CORE)


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    title: str
    body: str
    created_at: datetime
    read: bool
    channels: dict[str, str]  # channel → pending | sent | dead

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "title": self.title, "body": self.body,
                "created_at": self.created_at.isoformat(), "read": self.read,
                "channels": self.channels}


def messages(uow: UnitOfWork, user_id: int, *, unread_only: bool = False, page: int = 1,
             page_size: int = 20) -> tuple[list[Message], int, int]:
    """(messages on the page, total, unread) of the user's inbox, newest first."""
    where = [Notification.user_id == user_id, Notification.kind != "security.code"]
    unread = int(uow.s.scalar(select(func.count()).select_from(Notification).where(
        *where, Notification.read_at.is_(None))) or 0)
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = int(uow.s.scalar(select(func.count()).select_from(Notification).where(*where))
                or 0)
    rows = uow.s.scalars(select(Notification).where(*where).order_by(Notification.id.desc())
                         .offset((page - 1) * page_size).limit(page_size)).all()
    states: dict[int, dict[str, str]] = {}
    if rows:
        for d in uow.s.scalars(select(NotificationDelivery).where(
                NotificationDelivery.notification_id.in_([r.id for r in rows]))):
            states.setdefault(d.notification_id, {})[d.channel] = d.status
    return ([Message(r.id, r.kind, r.title, r.body, r.created_at, r.read_at is not None,
                     states.get(r.id, {})) for r in rows], total, unread)


def mark_read(uow: UnitOfWork, user_id: int, message_id: int | None = None) -> int:
    """Mark one of the user's messages read (another user's is not found), or all of them."""
    now = uow.clock.now()
    if message_id is not None:
        found = uow.s.get(Notification, message_id)
        if found is None or found.user_id != user_id or found.kind == "security.code":
            raise NotFound(f"you have no message {message_id}", field="message_id")
        if found.read_at is None:
            found.read_at = now
            uow.s.flush()
            return 1
        return 0
    result = uow.s.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.kind != "security.code",
        Notification.read_at.is_(None)).values(read_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def preferences(uow: UnitOfWork, user_id: int) -> dict[str, Any]:
    """The user's address, language and, per kind, the channels messages go to (`kinds`) and
    the channels chosen (`choices`: e-mail counts there even without an address)."""
    found = uow.s.get(NotificationSettings, user_id)
    kinds = {name: sorted(c.value for c in chosen_channels(uow, user_id, name))
             for name in KINDS if name != "security.code"}
    choices = {name: sorted(c.value for c in chosen_channels(uow, user_id, name,
                                                            need_address=False))
               for name in kinds}
    return {"email": found.email if found else None,
            "language": found.language if found else "zh-CN", "kinds": kinds,
            "choices": choices}


def set_contact(uow: UnitOfWork, user_id: int, *, email: str | None = None,
                language: str | None = None) -> None:
    """Set (or, with an empty e-mail, remove) the address and the language."""
    if email is not None:
        email = email.strip()
        if email and (len(email) > 254 or not _EMAIL.fullmatch(email)):
            raise InvalidInput("email must look like name@example.com", field="email")
    if language is not None and language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    found = uow.s.get(NotificationSettings, user_id)
    if found is None:
        found = NotificationSettings(user_id=user_id, email=None, language="zh-CN",
                                     updated_at=uow.clock.now())
        uow.s.add(found)
    if email is not None:
        found.email = email or None
    if language is not None:
        found.language = language
    found.updated_at = uow.clock.now()
    uow.s.flush()


def set_channel(uow: UnitOfWork, user_id: int, kind: str, channel: str, enabled: bool) -> None:
    """Choose whether messages of `kind` go out on `channel` (the inbox always has them)."""
    spec, chosen = kind_of(kind), channel_of(channel)
    if spec.name == "security.code":
        raise InvalidInput("codes go where they are asked for", field="kind")
    insert = postgresql.insert if uow.s.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(NotificationPreference).values(
        user_id=user_id, kind=spec.name, channel=chosen.value, enabled=enabled,
        updated_at=uow.clock.now())
    uow.s.execute(statement.on_conflict_do_update(
        index_elements=["user_id", "kind", "channel"],
        set_={"enabled": enabled, "updated_at": uow.clock.now()}))


def outbox_counts(uow: UnitOfWork) -> dict[str, int]:
    """Deliveries per status (operators and the relay's report)."""
    rows = uow.s.execute(select(NotificationDelivery.status, func.count())
                         .group_by(NotificationDelivery.status)).all()
    return {status: int(n) for status, n in rows}


__all__ = ["Channel", "Message", "mark_read", "messages", "outbox_counts", "preferences",
           "set_channel", "set_contact"]
