"""accounts: a sign-up's acquisition channel and campaign; campaigns and their cost

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("acquisition_channel", sa.String(length=16), nullable=False,
                                   server_default="organic"))
        batch.add_column(sa.Column("acquisition_campaign", sa.String(length=64), nullable=False,
                                   server_default=""))
    op.create_table(
        "campaigns",
        sa.Column("id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("cost_fen", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cost_fen >= 0", name=op.f("ck_campaigns_cost_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("channel", "name", name="channel_name"),
    )


def downgrade() -> None:
    op.drop_table("campaigns")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("acquisition_campaign")
        batch.drop_column("acquisition_channel")
