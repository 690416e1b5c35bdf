"""investing: maintained counters (per-investor exposure, per-listing stakes)

Two counters that the investment's checks read instead of summing history:
`investor_exposure` (frozen subscriptions plus active holdings' outstanding principal, the
suitability limit's total) and `listing_stakes` (one investor's frozen and settled
subscriptions in one listing, the per-investor cap). Triggers keep them in the transaction
of every change to `investments` and `holdings`: on PostgreSQL one statement-level trigger
per table and operation, which folds the statement's rows (its transition tables) into one
upsert per counter, locked in key order and skipping keys whose total did not move; on
SQLite row-level triggers. Existing rows are counted once here.

`biaodi_invest` (0016) is replaced with the same signature: it reads the counters, and after
the hot row locks the investor's exposure row before the wallet — the order close of
business and funding take them in (holdings, hence exposure, before wallets) — which also
queues one investor's concurrent investments for the cap and the level's total.

SQLite caveat: a later migration that rebuilds `investments` or `holdings` in batch mode
drops their triggers and must create them again (`tests/integration/investing/
test_counters.py` would fail).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (counter, its key columns, its value column, the table it sums, a row's contribution
#: with `r` standing for the row)
COUNTERS = (
    ("investor_exposure", ("investor_id",), "outstanding_fen", "investments",
     "CASE WHEN r.status = 'frozen' THEN r.amount_fen ELSE 0 END"),
    ("investor_exposure", ("investor_id",), "outstanding_fen", "holdings",
     "CASE WHEN r.status = 'active' THEN r.outstanding_principal_fen ELSE 0 END"),
    ("listing_stakes", ("listing_id", "investor_id"), "stake_fen", "investments",
     "CASE WHEN r.status IN ('frozen', 'settled') THEN r.amount_fen ELSE 0 END"),
)
SOURCES = ("investments", "holdings")
OPERATIONS = ("insert", "update", "delete")


def _of(contribution: str, row: str) -> str:
    return contribution.replace("r.", f"{row}.")


def _pg_upsert(counter: str, keys: Sequence[str], value: str, contribution: str,
               operation: str) -> str:
    cols = ", ".join(keys)
    parts = []
    if operation in ("insert", "update"):
        parts.append(f"SELECT {cols}, {_of(contribution, 'n')} AS fen FROM new_rows n")
    if operation in ("update", "delete"):
        parts.append(f"SELECT {cols}, -({_of(contribution, 'o')}) AS fen FROM old_rows o")
    moved = " UNION ALL ".join(parts)
    return (f"INSERT INTO {counter} AS c ({cols}, {value}) "
            f"SELECT {cols}, CAST(SUM(fen) AS BIGINT) FROM ({moved}) d "
            f"GROUP BY {cols} HAVING SUM(fen) <> 0 ORDER BY {cols} "
            f"ON CONFLICT ({cols}) DO UPDATE SET {value} = c.{value} + excluded.{value};")


def _pg_trigger(source: str, operation: str) -> list[str]:
    function = f"biaodi_count_{source}_{operation}"
    body = "\n    ".join(_pg_upsert(counter, keys, value, contribution, operation)
                         for counter, keys, value, table, contribution in COUNTERS
                         if table == source)
    tables = {"insert": "NEW TABLE AS new_rows", "delete": "OLD TABLE AS old_rows",
              "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}[operation]
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n    {body}\n    RETURN NULL;\nEND\n$$",
        f"CREATE TRIGGER {source}_counted_{operation} AFTER {operation.upper()} ON {source} "
        f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def _sqlite_upsert(counter: str, keys: Sequence[str], value: str, row: str, amount: str,
                   where: str) -> str:
    cols = ", ".join(keys)
    picked = ", ".join(f"{row}.{key}" for key in keys)
    return (f"INSERT INTO {counter} ({cols}, {value}) SELECT {picked}, {amount} "
            f"WHERE {where} ON CONFLICT ({cols}) DO UPDATE SET {value} = {value} + "
            f"excluded.{value};")


def _sqlite_trigger(source: str, operation: str) -> str:
    statements = []
    for counter, keys, value, table, contribution in COUNTERS:
        if table != source:
            continue
        new, old = f"({_of(contribution, 'NEW')})", f"({_of(contribution, 'OLD')})"
        if operation == "insert":
            statements.append(_sqlite_upsert(counter, keys, value, "NEW", new, f"{new} <> 0"))
        elif operation == "delete":
            statements.append(_sqlite_upsert(counter, keys, value, "OLD", f"-{old}",
                                             f"{old} <> 0"))
        else:
            same = " AND ".join(f"NEW.{key} = OLD.{key}" for key in keys)
            statements += [
                _sqlite_upsert(counter, keys, value, "NEW", f"{new} - {old}",
                               f"{same} AND {new} <> {old}"),
                _sqlite_upsert(counter, keys, value, "OLD", f"-{old}",
                               f"NOT ({same}) AND {old} <> 0"),
                _sqlite_upsert(counter, keys, value, "NEW", new, f"NOT ({same}) AND {new} <> 0"),
            ]
    body = "\n    ".join(statements)
    return (f"CREATE TRIGGER {source}_counted_{operation} AFTER {operation.upper()} ON {source}"
            f"\nBEGIN\n    {body}\nEND")


def _backfill(counter: str) -> str:
    feeds = [(keys, value, table, contribution)
             for name, keys, value, table, contribution in COUNTERS if name == counter]
    keys, value = feeds[0][0], feeds[0][1]
    cols = ", ".join(keys)
    moved = " UNION ALL ".join(f"SELECT {cols}, {contribution} AS fen FROM {table} r"
                               for _, _, table, contribution in feeds)
    return (f"INSERT INTO {counter} ({cols}, {value}) "
            f"SELECT {cols}, CAST(SUM(fen) AS BIGINT) FROM ({moved}) d "
            f"GROUP BY {cols} HAVING SUM(fen) <> 0")


def _invest_0016() -> str:
    path = Path(__file__).with_name("0016_invest_function.py")
    spec = importlib.util.spec_from_file_location("biaodi_migration_0016", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.FUNCTION)


def _swap(sql: str, old: str, new: str) -> str:
    if sql.count(old) != 1:
        raise RuntimeError(f"0017: expected once in biaodi_invest: {old[:60]!r}")
    return sql.replace(old, new)


_SUMMED = """    v_outstanding :=
        (SELECT COALESCE(SUM(amount_fen), 0) FROM investments
          WHERE investor_id = v_user AND status = 'frozen')
      + (SELECT COALESCE(SUM(outstanding_principal_fen), 0) FROM holdings
          WHERE investor_id = v_user AND status = 'active');
"""


def invest_function() -> str:
    """0016's `biaodi_invest` with the counters in place of the SUMs."""
    sql = _invest_0016()
    sql = _swap(sql, _SUMMED + "    IF v_level IS NULL", """\
    v_outstanding := COALESCE((SELECT outstanding_fen FROM investor_exposure
                                WHERE investor_id = v_user), 0);
    IF v_level IS NULL""")
    sql = _swap(sql, "    -- The wallet: both rows locked in id order", """\
    -- The investor's exposure row, before the wallet (the order funding and close of business
    -- lock them in): it queues this investor's other investments for the checks below.
    SELECT outstanding_fen INTO v_outstanding FROM investor_exposure
     WHERE investor_id = v_user FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO investor_exposure (investor_id, outstanding_fen) VALUES (v_user, 0)
        ON CONFLICT (investor_id) DO NOTHING;
        SELECT outstanding_fen INTO v_outstanding FROM investor_exposure
         WHERE investor_id = v_user FOR UPDATE;
    END IF;

    -- The wallet: both rows locked in id order""")
    sql = _swap(sql, """\
    SELECT COALESCE(SUM(amount_fen), 0) INTO v_already FROM investments
     WHERE listing_id = p_listing AND investor_id = v_user AND status IN ('frozen', 'settled');
""", """\
    v_already := COALESCE((SELECT stake_fen FROM listing_stakes
                            WHERE listing_id = p_listing AND investor_id = v_user), 0);
""")
    return _swap(sql, "    -- The level's total once more: the wallet lock queues this investor's "
                      "other investments.\n" + _SUMMED,
                 "    -- The level's total once more, from the exposure read under its lock.\n")


def upgrade() -> None:
    op.create_table(
        "investor_exposure",
        sa.Column("investor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("outstanding_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["investor_id"], ["users.id"],
                                name=op.f("fk_investor_exposure_investor_id_users")),
        sa.PrimaryKeyConstraint("investor_id", name=op.f("pk_investor_exposure")),
    )
    op.create_table(
        "listing_stakes",
        sa.Column("listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("investor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("stake_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["investor_id"], ["users.id"],
                                name=op.f("fk_listing_stakes_investor_id_users")),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"],
                                name=op.f("fk_listing_stakes_listing_id_listings")),
        sa.PrimaryKeyConstraint("listing_id", "investor_id", name=op.f("pk_listing_stakes")),
    )
    op.execute(_backfill("investor_exposure"))
    op.execute(_backfill("listing_stakes"))
    pg = op.get_bind().dialect.name == "postgresql"
    for source in SOURCES:
        for operation in OPERATIONS:
            for statement in (_pg_trigger(source, operation) if pg
                              else [_sqlite_trigger(source, operation)]):
                op.execute(statement)
    if pg:
        op.execute(invest_function())


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute(_invest_0016())
    for source in SOURCES:
        for operation in OPERATIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {source}_counted_{operation}"
                       + (f" ON {source}" if pg else ""))
            if pg:
                op.execute(f"DROP FUNCTION IF EXISTS biaodi_count_{source}_{operation}()")
    op.drop_table("listing_stakes")
    op.drop_table("investor_exposure")
