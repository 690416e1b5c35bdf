"""ledger and servicing: room in each page for the balances and claims close of business updates

PostgreSQL only. Close of business moves the balances of every account money went through
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

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table -> fillfactor (percent of each page filled by inserts)
FILL = {"accounts": 90, "servicing_positions": 90}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, percent in FILL.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILL:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
