"""Messages from committed facts.

Each event kind is one query over the rows a money transaction wrote (payment orders,
investments, listing moves, repayments and their shares, sent collection notices, secondary
purchases): those rows are the outbox of record, written in the same transaction as the money
moved, so nothing here can block or lose a payment. A fact becomes one inbox message per user
(`notifications`, unique by event key and user) and one delivery per chosen channel
(`notification_deliveries`, unique by message and channel), in the same transaction; capturing
again finds the message there and adds nothing. Facts older than the look-back window are
not told of (a new installation does not mail its history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite

from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.notification_tables import (
    Notification,
    NotificationDelivery,
    NotificationPreference,
    NotificationSettings,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.notifications.kinds import KINDS, Channel, kind_of, render

LOOKBACK = timedelta(days=7)
#: A body kept encrypted (one-time codes): the relay decrypts it to send it.
SECRET_PREFIX = "enc:"


@dataclass(frozen=True)
class Source:
    """One kind of fact: a query giving `user_id`, `kind`, `ref` (the fact's id) and the
    template's fields, for facts at or after `:since` not yet in the user's inbox."""

    name: str
    sql: str


def _new(kind: str, ref: str, user: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_key = {kind} || ':' || "
            f"{ref} AND n.user_id = {user})")


SOURCES: tuple[Source, ...] = (
    Source("payment_orders", f"""
        SELECT o.user_id, o.kind || '.' || o.status AS kind, o.id AS ref, o.order_no,
               COALESCE(o.settled_fen, o.amount_fen) AS amount, o.failure_reason AS reason
        FROM payment_orders o
        WHERE o.status IN ('succeeded', 'failed') AND o.updated_at >= :since
          AND {_new("o.kind || '.' || o.status", "o.id", "o.user_id")}
        ORDER BY o.id LIMIT :limit"""),
    Source("investments", f"""
        SELECT i.investor_id AS user_id, 'investment.frozen' AS kind, i.id AS ref,
               l.title, i.amount_fen AS amount
        FROM investments i JOIN listings l ON l.id = i.listing_id
        WHERE i.created_at >= :since
          AND {_new("'investment.frozen'", "i.id", "i.investor_id")}
        ORDER BY i.id LIMIT :limit"""),
    Source("funded", f"""
        SELECT l.applicant_id AS user_id, 'listing.funded' AS kind, l.id AS ref, l.title,
               l.funded_fen AS amount
        FROM listings l
        WHERE l.funded_at IS NOT NULL AND l.funded_at >= :since
          AND {_new("'listing.funded'", "l.id", "l.applicant_id")}
        ORDER BY l.id LIMIT :limit"""),
    Source("disbursed", f"""
        SELECT l.applicant_id AS user_id, 'loan.disbursed' AS kind, l.id AS ref, l.title,
               l.funded_fen AS amount
        FROM listing_transitions t JOIN listings l ON l.id = t.listing_id
        WHERE t.to_status = 'repaying' AND t.from_status IN ('published', 'funded')
          AND t.at >= :since AND {_new("'loan.disbursed'", "l.id", "l.applicant_id")}
        ORDER BY t.id LIMIT :limit"""),
    Source("refunded", f"""
        SELECT i.investor_id AS user_id, 'investment.refunded' AS kind, i.id AS ref, l.title,
               i.amount_fen AS amount
        FROM listing_transitions t JOIN listings l ON l.id = t.listing_id
        JOIN investments i ON i.listing_id = t.listing_id AND i.status = 'refunded'
        WHERE t.to_status = 'failed' AND t.at >= :since
          AND {_new("'investment.refunded'", "i.id", "i.investor_id")}
        ORDER BY i.id LIMIT :limit"""),
    Source("collection_notices", f"""
        SELECT c.borrower_id AS user_id,
               CASE c.kind WHEN 'reminder' THEN 'instalment.due_soon'
                           ELSE 'instalment.overdue' END AS kind,
               c.id AS ref, l.title, c.amount_fen AS amount, c.due_date,
               c.days_past_due AS days
        FROM collection_notices c JOIN listings l ON l.id = c.listing_id
        WHERE c.status = 'sent' AND c.sent_at >= :since
          AND {_new('''CASE c.kind WHEN 'reminder' THEN 'instalment.due_soon'
                                   ELSE 'instalment.overdue' END''', "c.id", "c.borrower_id")}
        ORDER BY c.id LIMIT :limit"""),
    Source("repayments", f"""
        SELECT l.applicant_id AS user_id, 'repayment.paid' AS kind, r.id AS ref, l.title,
               r.amount_fen AS amount
        FROM repayments r JOIN listings l ON l.id = r.listing_id
        WHERE r.source IN ('auto_debit', 'manual', 'early_full', 'early_partial')
          AND r.created_at >= :since
          AND {_new("'repayment.paid'", "r.id", "l.applicant_id")}
        ORDER BY r.id LIMIT :limit"""),
    Source("compensations", f"""
        SELECT h.investor_id AS user_id, 'loan.compensated' AS kind, s.id AS ref, l.title,
               s.interest_fen + s.principal_fen AS amount
        FROM repayment_shares s JOIN repayments r ON r.id = s.repayment_id
        JOIN servicing_positions p ON p.id = s.position_id
        JOIN holdings h ON h.id = p.holding_id JOIN listings l ON l.id = r.listing_id
        WHERE r.source = 'guarantor' AND r.created_at >= :since
          AND {_new("'loan.compensated'", "s.id", "h.investor_id")}
        ORDER BY s.id LIMIT :limit"""),
    Source("secondary_purchases", f"""
        SELECT h.investor_id AS user_id, 'holding.sold' AS kind, sp.id AS ref, l.title,
               sp.principal_fen AS amount, sp.price_fen AS price
        FROM secondary_purchases sp JOIN holdings h ON h.id = sp.seller_holding_id
        JOIN listings l ON l.id = sp.listing_id
        WHERE sp.created_at >= :since
          AND {_new("'holding.sold'", "sp.id", "h.investor_id")}
        ORDER BY sp.id LIMIT :limit"""),
)

_FIELDS = ("order_no", "amount", "reason", "title", "due_date", "days", "price")


@dataclass(frozen=True)
class Fact:
    user_id: int
    kind: str
    event_key: str
    params: dict[str, Any]


def untold(uow: UnitOfWork, *, since: datetime | None = None, limit: int = 1000) -> list[Fact]:
    """Facts since `since` (default: the look-back window) not yet in their user's inbox. Only
    reads: the relay runs it in a read transaction, so that a pass with nothing new never
    takes SQLite's write lock."""
    since = since or uow.clock.now() - LOOKBACK
    found = []
    for source in SOURCES:
        statement = text(source.sql).bindparams(bindparam("since", type_=DateTime(timezone=True)))
        for row in uow.s.execute(statement, {"since": since, "limit": limit}).mappings():
            params: dict[str, Any] = {}
            for name in _FIELDS:
                if name in row and row[name] is not None:
                    value = row[name]
                    params[name] = value.isoformat() if isinstance(value, date) else value
            if "reason" in row and not params.get("reason"):
                params["reason"] = "—"
            found.append(Fact(int(row["user_id"]), row["kind"], f"{row['kind']}:{row['ref']}",
                              params))
    return found


def store(uow: UnitOfWork, facts: list[Fact]) -> int:
    """The messages and deliveries of `facts`; one already there (another relay was first) is
    skipped. Returns how many messages were made. The users' settings and choices are read
    once for the batch (a close of business tells hundreds of facts)."""
    known = Choices.read(uow, {f.user_id for f in facts})
    return sum(bool(notify(uow, f.user_id, f.kind, f.event_key, f.params, known=known))
               for f in facts)


@dataclass(frozen=True)
class Choices:
    """Some users' notification settings and channel choices, read in a few queries."""

    settings: dict[int, NotificationSettings]
    preferences: dict[tuple[int, str], list[NotificationPreference]]

    @classmethod
    def read(cls, uow: UnitOfWork, user_ids: set[int]) -> Choices:
        ordered = sorted(user_ids)
        settings: dict[int, NotificationSettings] = {}
        preferences: dict[tuple[int, str], list[NotificationPreference]] = {}
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start:start + _IN_CHUNK]
            for found in uow.s.scalars(select(NotificationSettings).where(
                    NotificationSettings.user_id.in_(chunk))):
                settings[found.user_id] = found
            for pref in uow.s.scalars(select(NotificationPreference).where(
                    NotificationPreference.user_id.in_(chunk)).order_by(
                    NotificationPreference.user_id, NotificationPreference.kind,
                    NotificationPreference.channel)):
                preferences.setdefault((pref.user_id, pref.kind), []).append(pref)
        return cls(settings, preferences)


_IN_CHUNK = 500


def capture(uow: UnitOfWork, *, since: datetime | None = None, limit: int = 1000) -> int:
    """Inbox messages and deliveries for facts not yet told of; returns how many messages."""
    return store(uow, untold(uow, since=since, limit=limit))


def capture_day(uow: UnitOfWork, day: date) -> int:
    """Close of business: the day's facts into the inboxes (the relay sends them)."""
    return capture(uow)


def settings_of(uow: UnitOfWork, user_id: int) -> NotificationSettings | None:
    return uow.s.get(NotificationSettings, user_id)


def chosen_channels(uow: UnitOfWork, user_id: int, kind: str, *,
                    need_address: bool = True, known: Choices | None = None) -> set[Channel]:
    """The channels a message of `kind` goes to: the kind's defaults changed by the user's
    choices; e-mail only where the user gave an address (unless not `need_address`).
    `known`: the user's choices read already (`Choices.read`)."""
    channels = set(kind_of(kind).defaults)
    prefs = (known.preferences.get((user_id, kind), []) if known is not None else
             uow.s.scalars(select(NotificationPreference).where(
                 NotificationPreference.user_id == user_id,
                 NotificationPreference.kind == kind)))
    for pref in prefs:
        channel = Channel(pref.channel)
        if pref.enabled:
            channels.add(channel)
        else:
            channels.discard(channel)
    found = known.settings.get(user_id) if known is not None else settings_of(uow, user_id)
    if need_address and (found is None or not found.email):
        channels.discard(Channel.EMAIL)
    return channels


def notify(uow: UnitOfWork, user_id: int, kind: str, event_key: str, params: dict[str, Any],
           *, channels: set[Channel] | None = None,
           secret: PersonalDataCipher | None = None,
           known: Choices | None = None) -> int | None:
    """One inbox message for (event, user) and its deliveries; None when it was there already.
    `channels` overrides the user's choice (a one-time code goes where it was asked); with
    `secret` the body and parameters are kept encrypted (a code is readable only by the relay
    that sends it, and never listed in the inbox). `known`: the users' choices read already
    for a batch (`Choices.read`)."""
    spec = KINDS[kind]
    found = known.settings.get(user_id) if known is not None else settings_of(uow, user_id)
    language = found.language if found else "zh-CN"
    title, body = render(spec, language, params)
    if secret is not None:
        body, params = SECRET_PREFIX + secret.encrypt(body), {}
    now = uow.clock.now()
    dialect = uow.s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new_id = uow.s.execute(insert(Notification).values(
        user_id=user_id, kind=kind, event_key=event_key, language=language, title=title,
        body=body, params=params, created_at=now).on_conflict_do_nothing(
        index_elements=["event_key", "user_id"]).returning(Notification.id)).scalar()
    if new_id is None:
        return None
    chosen = sorted(chosen_channels(uow, user_id, kind, known=known) if channels is None
                    else channels)
    if chosen:
        uow.s.execute(insert(NotificationDelivery), [dict(
            notification_id=new_id, channel=channel.value,
            message_id=f"<n{new_id}.{channel.value}@biaodi>", status="pending", attempts=0,
            next_attempt_at=now, last_error="", created_at=now) for channel in chosen])
    return int(new_id)
