"""notifications: inbox, outbox, channel preferences; account security

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def _user(table: str) -> sa.Column:
    return sa.Column("user_id", _ID, sa.ForeignKey(
        "users.id", name=op.f(f"fk_{table}_user_id_users")), nullable=False)


def upgrade() -> None:
    op.create_table(
        "notification_settings",
        _user("notification_settings"),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=8), server_default="zh-CN", nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )
    op.create_table(
        "notification_preferences",
        _user("notification_preferences"),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", "channel",
                                name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", _ID, nullable=False),
        _user("notifications"),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("event_key", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("read_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("event_key", "user_id", name="uq_notifications_event_user"),
    )
    op.create_index("ix_notifications_user_id_id", "notifications", ["user_id", "id"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("notification_id", _ID, sa.ForeignKey(
            "notifications.id",
            name=op.f("fk_notification_deliveries_notification_id_notifications")),
            nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("sent_at", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_notification_deliveries_message_id")),
        sa.UniqueConstraint("notification_id", "channel",
                            name="uq_notification_deliveries_channel"),
    )
    op.create_index("ix_notification_deliveries_status_next", "notification_deliveries",
                    ["status", "next_attempt_at"])
    op.create_table(
        "account_security",
        _user("account_security"),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _AT, nullable=True),
        sa.Column("mobile_verified_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_account_security")),
    )
    op.create_table(
        "security_codes",
        sa.Column("id", _ID, nullable=False),
        _user("security_codes"),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_codes")),
    )
    op.create_index("ix_security_codes_user_purpose", "security_codes", ["user_id", "purpose"])
    op.create_table(
        "security_events",
        sa.Column("id", _ID, nullable=False),
        _user("security_events"),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    op.create_index("ix_security_events_user_id_id", "security_events", ["user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_security_events_user_id_id", table_name="security_events")
    op.drop_table("security_events")
    op.drop_index("ix_security_codes_user_purpose", table_name="security_codes")
    op.drop_table("security_codes")
    op.drop_table("account_security")
    op.drop_index("ix_notification_deliveries_status_next", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notifications_user_id_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("notification_preferences")
    op.drop_table("notification_settings")
