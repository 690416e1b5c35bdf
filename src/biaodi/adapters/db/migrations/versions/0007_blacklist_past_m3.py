"""servicing: the day a loan passed M3 and its borrower was blacklisted

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 15:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("loan_servicing") as batch:
        batch.add_column(sa.Column("blacklisted_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loan_servicing") as batch:
        batch.drop_column("blacklisted_on")
