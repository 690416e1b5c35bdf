"""fees with instalments: yearly fee rates and the all-in cost on listings, each instalment's
fees, the fees a loan owes and has paid

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("service_fee_ppm", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("guarantee_fee_ppm", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("all_in_cost_ppm", sa.Integer(), nullable=True))
    with op.batch_alter_table("loan_instalments") as batch:
        batch.add_column(sa.Column("service_fee_fen", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("guarantee_fee_fen", sa.BigInteger(), nullable=False,
                                   server_default="0"))
    with op.batch_alter_table("loan_servicing") as batch:
        batch.add_column(sa.Column("due_service_fee_fen", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("due_guarantee_fee_fen", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("paid_fee_fen", sa.BigInteger(), nullable=False,
                                   server_default="0"))
    id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "fee_payments",
        sa.Column("id", id_type, nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=False),
        sa.Column("listing_id", id_type, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("payer_account_id", id_type, nullable=False),
        sa.Column("guarantor_account_id", id_type, nullable=True),
        sa.Column("guarantee_fen", sa.BigInteger(), nullable=False),
        sa.Column("service_fen", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", id_type, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("guarantee_fen >= 0 AND service_fen >= 0"
                           " AND guarantee_fen + service_fen > 0",
                           name=op.f("ck_fee_payments_amounts_valid")),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entries.id"],
                                name=op.f("fk_fee_payments_entry_id_journal_entries")),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"],
                                name=op.f("fk_fee_payments_listing_id_listings")),
        sa.ForeignKeyConstraint(["payer_account_id"], ["accounts.id"],
                                name=op.f("fk_fee_payments_payer_account_id_accounts")),
        sa.ForeignKeyConstraint(["guarantor_account_id"], ["accounts.id"],
                                name=op.f("fk_fee_payments_guarantor_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_payments")),
    )
    with op.batch_alter_table("fee_payments") as batch:
        batch.create_index(batch.f("ix_fee_payments_batch"), ["batch"], unique=False)
        batch.create_index("ix_fee_payments_listing_date", ["listing_id", "business_date"],
                           unique=False)


def downgrade() -> None:
    op.drop_table("fee_payments")
    with op.batch_alter_table("loan_servicing") as batch:
        for column in ("paid_fee_fen", "due_guarantee_fee_fen",
                       "due_service_fee_fen"):
            batch.drop_column(column)
    with op.batch_alter_table("loan_instalments") as batch:
        batch.drop_column("guarantee_fee_fen")
        batch.drop_column("service_fee_fen")
    with op.batch_alter_table("listings") as batch:
        batch.drop_column("all_in_cost_ppm")
        batch.drop_column("guarantee_fee_ppm")
        batch.drop_column("service_fee_ppm")
