"""The relay: sends the outbox after the facts' transactions, at least once.

One pass: look for new facts and due deliveries in a read transaction (a quiet pass writes
nothing and, on SQLite, never takes the write lock); store the new facts' messages (one
transaction); claim due deliveries (one short transaction:
each claimed row's next try moves a lease ahead and its attempt is counted, so a second relay
or a crashed one does not send it again before the lease ends; PostgreSQL skips rows another
relay holds); send each with no transaction open; record the outcomes (one transaction): sent,
or the next try after a back-off, or given up after the last try. A crash between sending and
recording sends the message again after the lease, with the same message id, which the
receiver drops (SMTP `Message-ID`, the SMS gateway's id)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select, update

from biaodi.adapters.clock import CST
from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.notification_tables import (
    Notification,
    NotificationDelivery,
    NotificationSettings,
)
from biaodi.adapters.db.tables import User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.messaging.base import DeliveryFailed, OutgoingMessage, Sender
from biaodi.domain.notifications.kinds import KINDS, backoff_seconds
from biaodi.services.notifications.capture import SECRET_PREFIX, store, untold

LEASE = timedelta(minutes=2)


@dataclass
class RelayResult:
    captured: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"captured": self.captured, "sent": self.sent, "failed": self.failed,
                "dead": self.dead, "errors": self.errors[:5]}


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    attempts: int
    message: OutgoingMessage | None  # None: no address any more


def _window_opens(now: datetime, window: tuple[time, time]) -> datetime | None:
    """None inside the contact window (local time); else when it next opens."""
    local = now.astimezone(CST)
    start, end = window
    if start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=CST)


def _claim(uow: UnitOfWork, cipher: PersonalDataCipher, limit: int,
           window: tuple[time, time] | None) -> list[_Claimed]:
    now = uow.clock.now()
    where = [NotificationDelivery.status == "pending", NotificationDelivery.next_attempt_at <= now]
    opens = _window_opens(now, window) if window else None
    if opens is not None:  # collection messages wait for the contact hours
        held = [k.name for k in KINDS.values() if k.collection]
        uow.s.execute(update(NotificationDelivery).where(
            *where, NotificationDelivery.notification_id.in_(
                select(Notification.id).where(Notification.kind.in_(held))))
            .values(next_attempt_at=opens).execution_options(synchronize_session=False))
    query = (select(NotificationDelivery, Notification)
             .join(Notification, Notification.id == NotificationDelivery.notification_id)
             .where(*where)
             .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
             .limit(limit))
    if uow.s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=NotificationDelivery, skip_locked=True)
    claimed = []
    for delivery, note in uow.s.execute(query).all():
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        to: str | None
        if delivery.channel == "email":
            found = uow.s.get(NotificationSettings, note.user_id)
            to = found.email if found else None
        else:
            user = uow.s.get(User, note.user_id)
            to = cipher.decrypt(user.mobile_enc) if user else None
        body = note.body
        if body.startswith(SECRET_PREFIX):
            body = cipher.decrypt(body[len(SECRET_PREFIX):])
        message = OutgoingMessage(delivery.message_id, to, note.title, body) if to else None
        claimed.append(_Claimed(delivery.id, delivery.channel, delivery.attempts, message))
    uow.s.flush()
    return claimed


def _any_due(uow: UnitOfWork) -> bool:
    return uow.s.execute(select(NotificationDelivery.id).where(
        NotificationDelivery.status == "pending",
        NotificationDelivery.next_attempt_at <= uow.clock.now()).limit(1)).first() is not None


def relay_once(uow_factory: Callable[[], UnitOfWork], cipher: PersonalDataCipher,
               senders: dict[str, Sender], *, max_attempts: int = 10, limit: int = 200,
               window: tuple[time, time] | None = None,
               reader: Callable[[], UnitOfWork] | None = None) -> RelayResult:
    """One pass. `window`: the contact hours (China Standard Time) of the rules of conduct;
    collection messages (reminders, overdue notices) wait for them. `reader`: read-only units
    of work (`Platform.reader`) for looking before writing."""
    result = RelayResult()
    look = reader or uow_factory
    with look() as uow:  # reading first: a quiet pass takes no write lock
        facts = untold(uow)
        due = _any_due(uow)
    if facts:
        with uow_factory() as uow:
            result.captured = store(uow, facts)
            uow.commit()
    if not (due or result.captured):
        return result
    with uow_factory() as uow:
        claimed = _claim(uow, cipher, limit, window)
        uow.commit()
    outcomes: dict[int, str | None] = {}
    for item in claimed:
        if item.message is None:
            outcomes[item.id] = f"no {item.channel} address"
            continue
        try:
            senders[item.channel].send(item.message)
            outcomes[item.id] = None
        except DeliveryFailed as error:
            outcomes[item.id] = str(error)
    if not claimed:
        return result
    with uow_factory() as uow:
        now = uow.clock.now()
        for item in claimed:
            delivery = uow.s.get(NotificationDelivery, item.id)
            if delivery is None or delivery.status != "pending":
                continue
            error = outcomes[item.id]
            if error is None:
                delivery.status, delivery.sent_at, delivery.last_error = "sent", now, ""
                result.sent += 1
            elif item.attempts >= max_attempts or item.message is None:
                delivery.status, delivery.last_error = "dead", error
                result.dead += 1
                result.errors.append(error)
            else:
                delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(item.attempts))
                delivery.last_error = error
                result.failed += 1
                result.errors.append(error)
        uow.commit()
    return result
