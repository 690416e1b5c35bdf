"""servicing: indexes for the loans falling due and in arrears; room in pages for updates

Close of business reads, in each chunk of listing ids, only the loans that fall due
(`ix_loan_servicing_next_due`) or are in arrears (`ix_loan_servicing_in_arrears`, partial:
its predicate is the arrears steps' own) instead of every loan of the chunk.

PostgreSQL only: close of business moves the balances of every account money went through
and the claims of every position paid or fallen due (`loan_servicing`, rewritten daily by
accrual, has had room since 0006). With pages packed full, each new row version goes to
another page and every index of the table gets a new entry (a non-HOT update: three indexes
on `accounts`); with room left in the page, PostgreSQL updates in place (HOT) and no index is
touched. Applies to pages written from now on (a VACUUM FULL or pg_repack rewrites old ones).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 06:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table -> fillfactor (percent of each page filled by inserts)
FILL = {"accounts": 90, "servicing_positions": 90}


IN_ARREARS = "oldest_due_date IS NOT NULL OR holders_oldest_due_date IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("loan_servicing") as batch:
        batch.create_index("ix_loan_servicing_next_due", ["next_due_date"])
        batch.create_index("ix_loan_servicing_in_arrears", ["listing_id"],
                           postgresql_where=sa.text(IN_ARREARS),
                           sqlite_where=sa.text(IN_ARREARS))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, percent in FILL.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    with op.batch_alter_table("loan_servicing") as batch:
        batch.drop_index("ix_loan_servicing_in_arrears")
        batch.drop_index("ix_loan_servicing_next_due")
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILL:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
