"""Notifications and account security (issue #19).

The inbox holds one message per event and user (`event_key` names the fact it tells of, so
capturing the same fact twice finds it there); the outbox holds one delivery per message and
channel chosen, sent after the fact's transaction by the relay (`services/notifications`).
Account security keeps one-time codes (hashed), a failed-login counter with its lockout, and
the security log each user can read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id

__all__ = [
    "AccountSecurity",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "NotificationSettings",
    "SecurityCode",
    "SecurityEvent",
]


class NotificationSettings(Base):
    """Where a user's messages go besides the inbox: the e-mail address (none: no e-mail) and
    the language of the templates. SMS goes to the registered mobile."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN", server_default="zh-CN")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NotificationPreference(Base):
    """A user's choice for one kind of message on one channel (no row: the kind's default)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """One message in a user's inbox, rendered from its template when the event was captured."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_key", "user_id", name="uq_notifications_event_user"),
        Index("ix_notifications_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    #: The fact told of, e.g. `deposit.succeeded:17` (payment order 17).
    event_key: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    params: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NotificationDelivery(Base):
    """The outbox: a message to send on one channel. `message_id` is fixed when the row is
    written, so a retry after a lost answer carries the same id and the receiver drops it."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_notification_deliveries_channel"),
        Index("ix_notification_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    notification_id: Mapped[int] = mapped_column(Id, ForeignKey("notifications.id"))
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    message_id: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(8))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountSecurity(Base):
    """Failed sign-ins since the last good one, the lockout they caused, and when the mobile
    was verified."""

    __tablename__ = "account_security"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    mobile_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                                nullable=True)


class SecurityCode(Base):
    """A one-time code (password reset, mobile verification): only its keyed hash is kept."""

    __tablename__ = "security_codes"
    __table_args__ = (Index("ix_security_codes_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(24))
    code_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SecurityEvent(Base):
    """The security log a user reads: sign-ins, failures, lockouts, resets, revocations."""

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
