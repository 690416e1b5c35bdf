"""money paths: group commit and set-based close of business

Close of business reads, in each chunk of listing ids, only the loans that owe their
creditors something fallen due (`ix_loan_servicing_owing`, the auto-debit's loans) or owe fees
(`ix_loan_servicing_fees_owed`) instead of every loan of the chunk; both are partial indexes
whose predicates are the steps' own.

PostgreSQL only: room in the pages of `loan_instalments` and `holding_instalments` (fillfactor
90) so that the daily change of an instalment's state is a HOT update in place rather than a
new row version on another page with an entry in each of the table's indexes. Applies to
pages written from now on (a VACUUM FULL or pg_repack rewrites old ones). Statistics on the
two owing sums, so that the planner expects a few loans, not a third of them.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWING = "due_principal_fen + due_interest_fen + penalty_fen > 0"
FEES_OWED = "due_service_fee_fen + due_guarantee_fee_fen > 0"
INDEXES = {"ix_loan_servicing_owing": OWING, "ix_loan_servicing_fees_owed": FEES_OWED}

#: statistics on the predicates' sums (PostgreSQL 14+), so that the planner expects the few
#: loans owing rather than a third of the chunk (its guess for an expression), and reads them
#: with their payers' accounts by key instead of merge-joining all the accounts
STATISTICS = {"st_loan_servicing_owing": "(due_principal_fen + due_interest_fen + penalty_fen)",
              "st_loan_servicing_fees_owed": "(due_service_fee_fen + due_guarantee_fee_fen)"}

#: table -> fillfactor (percent of each page filled by inserts)
FILL = {"loan_instalments": 90, "holding_instalments": 90}


def upgrade() -> None:
    with op.batch_alter_table("loan_servicing") as batch:
        for name, where in INDEXES.items():
            batch.create_index(name, ["listing_id"], postgresql_where=sa.text(where),
                               sqlite_where=sa.text(where))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, percent in FILL.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")
    for name, expression in STATISTICS.items():
        op.execute(f"CREATE STATISTICS {name} ON {expression} FROM loan_servicing")


def downgrade() -> None:
    with op.batch_alter_table("loan_servicing") as batch:
        for name in INDEXES:
            batch.drop_index(name)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILL:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    for name in STATISTICS:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
