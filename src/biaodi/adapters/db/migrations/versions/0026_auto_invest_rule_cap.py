"""auto-invest: a cap on what one rule keeps invested

`auto_invest_rules.rule_cap_fen` (nullable): the most the rule keeps in the listings it bought,
counted from its own allocation lines (subscriptions still frozen plus the outstanding
principal of their active holdings). The allocation log is read by rule for it, hence the
index on `auto_invest_allocations.rule_id`.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auto_invest_rules") as batch:
        batch.add_column(sa.Column("rule_cap_fen", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_auto_invest_allocations_rule_id"), "auto_invest_allocations",
                    ["rule_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_auto_invest_allocations_rule_id"),
                  table_name="auto_invest_allocations")
    with op.batch_alter_table("auto_invest_rules") as batch:
        batch.drop_column("rule_cap_fen")
