"""servicing: the ledger's references checked once per statement on PostgreSQL; settling
reads only the loans with nothing left to fall due; the next instalment's principal on the loan

A posting's entry and account, and a repayment's entry and payer account, were checked by
PostgreSQL's foreign keys one row at a time: a query and a row lock on the parent for each
posting (two) and each repayment (two more, and again whenever a repayment inserted in the same
transaction is updated, as close of business does). Close of business writes thousands of
each per chunk. Here those four references are checked by one query per statement instead
(an AFTER … FOR EACH STATEMENT trigger over the rows it wrote, raising the foreign-key error,
SQLSTATE 23503), and the other half of what a foreign key guarantees — the parent never goes
away while referenced — holds because the parents can never go away: journal entries were
already append-only (no UPDATE, no DELETE), and accounts are now never deleted nor renumbered
(a trigger refuses both). The row locks a foreign key takes only protect a parent against
such a delete, so nothing is lost without them. The deferred balance trigger is unchanged.

PostgreSQL only; SQLite keeps its foreign keys (checked row by row, cheaply, in process).

Both databases: `ix_loan_servicing_finishing`, the loans with nothing left to fall due that are
not closed yet — the only ones settling may close, which read every loan of the chunk to find
them. Neither column changes in the daily accrual, which stays a HOT update.

Both databases: `loan_servicing.next_principal_fen`, the next instalment's principal beside its
interest (`next_interest_fen`), filled in from the instalments for loans already serviced, so
that the reminders of close of business read no instalments.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 17:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, parent): the foreign keys replaced on PostgreSQL
REFERENCES = (("postings", "entry_id", "journal_entries"),
              ("postings", "account_id", "accounts"),
              ("repayments", "entry_id", "journal_entries"),
              ("repayments", "payer_account_id", "accounts"))


def _fk(table: str, column: str, parent: str) -> str:
    return f"fk_{table}_{column}_{parent}"


def _missing(column: str, parent: str) -> str:
    # a scalar subquery per row: always an index probe, never a scan of the parent table
    return (f"(n.{column} IS NOT NULL AND "
            f"(SELECT p.id FROM {parent} p WHERE p.id = n.{column}) IS NULL)")


def _check_function(table: str) -> str:
    refs = [(c, p) for t, c, p in REFERENCES if t == table]
    where = " OR ".join(_missing(c, p) for c, p in refs)
    columns = ", ".join(f"n.{c}" for c, _ in refs)
    names = ", ".join(f"{c} %" for c, _ in refs)
    values = ", ".join(f"bad.{c}" for c, _ in refs)
    return f"""
        CREATE FUNCTION biaodi_{table}_refer() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE bad RECORD;
        BEGIN
            SELECT {columns} INTO bad FROM new_rows n WHERE {where} LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION '{table}: a row refers to what does not exist ({names})', {values}
                    USING ERRCODE = '23503';
            END IF;
            RETURN NULL;
        END $$"""


FINISHING = "next_seq IS NULL AND status <> 'closed'"


def upgrade() -> None:
    op.add_column("loan_servicing", sa.Column("next_principal_fen", sa.BigInteger(),
                                              nullable=True))
    op.execute("""UPDATE loan_servicing SET next_principal_fen = (
                      SELECT li.principal_fen FROM loan_instalments li
                      WHERE li.listing_id = loan_servicing.listing_id
                        AND li.seq = loan_servicing.next_seq)
                  WHERE next_seq IS NOT NULL""")
    with op.batch_alter_table("loan_servicing") as batch:
        batch.create_index("ix_loan_servicing_finishing", ["listing_id"],
                           postgresql_where=sa.text(FINISHING), sqlite_where=sa.text(FINISHING))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION biaodi_accounts_kept() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'accounts are never deleted nor renumbered: postings and repayments '
                'refer to them (account %)', OLD.id USING ERRCODE = '23503';
        END $$""")
    op.execute("CREATE TRIGGER accounts_kept BEFORE DELETE OR UPDATE OF id ON accounts "
               "FOR EACH ROW EXECUTE FUNCTION biaodi_accounts_kept()")
    for table, column, parent in REFERENCES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_fk(table, column, parent)}")
    for table in ("postings", "repayments"):
        op.execute(_check_function(table))
        events = ("INSERT",) if table == "postings" else ("INSERT", "UPDATE")  # append-only
        for event in events:
            op.execute(f"CREATE TRIGGER {table}_refer_{event.lower()} AFTER {event} ON {table} "
                       "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION biaodi_{table}_refer()")


def downgrade() -> None:
    with op.batch_alter_table("loan_servicing") as batch:
        batch.drop_index("ix_loan_servicing_finishing")
        batch.drop_column("next_principal_fen")
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("postings", "repayments"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refer_insert ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refer_update ON {table}")
        op.execute(f"DROP FUNCTION biaodi_{table}_refer()")
    for table, column, parent in REFERENCES:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_fk(table, column, parent)} "
                   f"FOREIGN KEY ({column}) REFERENCES {parent} (id)")
    op.execute("DROP TRIGGER accounts_kept ON accounts")
    op.execute("DROP FUNCTION biaodi_accounts_kept()")
