"""disclosure kept from the console: related parties with their dates

A related party (关联方) is related from `since` to `until` (both days included; `until` empty
while the relation lasts). Rows recorded before this revision are related from the day they
were recorded (Beijing time). One user may be related more than once, in periods that do not
overlap (the service checks), so the one-row-per-user constraint goes.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CST = timezone(timedelta(hours=8))


def _day(recorded_at: datetime | str) -> object:
    moment = (datetime.fromisoformat(recorded_at) if isinstance(recorded_at, str)
              else recorded_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_CST).date()


def upgrade() -> None:
    with op.batch_alter_table("related_parties") as batch:
        batch.add_column(sa.Column("since", sa.Date(), nullable=True))
        batch.add_column(sa.Column("until", sa.Date(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, recorded_at FROM related_parties")).all()
    for row_id, recorded_at in rows:
        conn.execute(sa.text("UPDATE related_parties SET since = :d WHERE id = :i"),
                     {"d": _day(recorded_at), "i": row_id})
    with op.batch_alter_table("related_parties") as batch:
        batch.alter_column("since", existing_type=sa.Date(), nullable=False)
        batch.drop_constraint("related_party_user", type_="unique")
        batch.create_check_constraint(op.f("ck_related_parties_until_not_before_since"),
                                      "until IS NULL OR until >= since")
        batch.create_index("ix_related_parties_user", ["user_id", "since"], unique=False)


def downgrade() -> None:
    conn = op.get_bind()
    # the older schema holds one row per user: keep each user's latest relation
    conn.execute(sa.text(
        "DELETE FROM related_parties WHERE id NOT IN "
        "(SELECT MAX(id) FROM related_parties GROUP BY user_id)"))
    with op.batch_alter_table("related_parties") as batch:
        batch.drop_index("ix_related_parties_user")
        batch.drop_constraint(op.f("ck_related_parties_until_not_before_since"), type_="check")
        batch.create_unique_constraint("related_party_user", ["user_id"])
        batch.drop_column("until")
        batch.drop_column("since")
