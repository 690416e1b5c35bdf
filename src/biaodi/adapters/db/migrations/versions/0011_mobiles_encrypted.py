"""personal data: mobiles (users' and their contacts') encrypted at rest, found by digest

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:00:00

Each clear mobile becomes `mobile_enc` (Fernet under the current key), `mobile_digest` (the
keyed digest that sign-in by mobile and the uniqueness check look up; users only) and
`mobile_masked`; the clear column is dropped. The platform's cipher arrives in the Alembic
config's attributes (`biaodi db upgrade` passes it); a database holding mobiles without one
stops here, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _mask(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}"


def _cipher(bind: sa.Connection, tables: Sequence[str]):  # type: ignore[no-untyped-def]
    cipher = context.config.attributes.get("cipher")
    if cipher is None and any(
            bind.execute(sa.text(f"SELECT 1 FROM {t} LIMIT 1")).first() for t in tables):
        raise RuntimeError("encrypting the stored mobiles needs the platform's key: "
                           "run `biaodi db upgrade`")
    return cipher


def upgrade() -> None:
    bind = op.get_bind()
    cipher = _cipher(bind, ("users", "borrower_contacts"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("mobile_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("mobile_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("mobile_masked", sa.String(length=16), nullable=True))
    with op.batch_alter_table("borrower_contacts") as batch:
        batch.add_column(sa.Column("mobile_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("mobile_masked", sa.String(length=16), nullable=True))
    for uid, mobile in bind.execute(sa.text("SELECT id, mobile FROM users")).all():
        bind.execute(sa.text("UPDATE users SET mobile_enc = :e, mobile_digest = :d, "
                             "mobile_masked = :m WHERE id = :i"),
                     {"e": cipher.encrypt(mobile), "d": cipher.digest(mobile),
                      "m": _mask(mobile), "i": uid})
    for cid, mobile in bind.execute(sa.text("SELECT id, mobile FROM borrower_contacts")).all():
        bind.execute(sa.text("UPDATE borrower_contacts SET mobile_enc = :e, mobile_masked = :m "
                             "WHERE id = :i"),
                     {"e": cipher.encrypt(mobile), "m": _mask(mobile), "i": cid})
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_mobile"), type_="unique")
        batch.drop_column("mobile")
        batch.alter_column("mobile_enc", existing_type=sa.Text(), nullable=False)
        batch.alter_column("mobile_digest", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("mobile_masked", existing_type=sa.String(length=16), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_mobile_digest"), ["mobile_digest"])
    with op.batch_alter_table("borrower_contacts") as batch:
        batch.drop_column("mobile")
        batch.alter_column("mobile_enc", existing_type=sa.Text(), nullable=False)
        batch.alter_column("mobile_masked", existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    bind = op.get_bind()
    cipher = _cipher(bind, ("users", "borrower_contacts"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("mobile", sa.String(length=16), nullable=True))
    with op.batch_alter_table("borrower_contacts") as batch:
        batch.add_column(sa.Column("mobile", sa.String(length=16), nullable=True))
    for table in ("users", "borrower_contacts"):
        for rid, enc in bind.execute(sa.text(f"SELECT id, mobile_enc FROM {table}")).all():
            bind.execute(sa.text(f"UPDATE {table} SET mobile = :m WHERE id = :i"),
                         {"m": cipher.decrypt(enc), "i": rid})
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_mobile_digest"), type_="unique")
        for column in ("mobile_masked", "mobile_digest", "mobile_enc"):
            batch.drop_column(column)
        batch.alter_column("mobile", existing_type=sa.String(length=16), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_mobile"), ["mobile"])
    with op.batch_alter_table("borrower_contacts") as batch:
        for column in ("mobile_masked", "mobile_enc"):
            batch.drop_column(column)
        batch.alter_column("mobile", existing_type=sa.String(length=16), nullable=False)
