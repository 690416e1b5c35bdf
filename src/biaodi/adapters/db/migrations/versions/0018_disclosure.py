"""disclosure: monthly reports, major events, related parties, bucket history

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: PostgreSQL: a published report and a recorded event are never changed or removed.
_APPEND_ONLY = ("disclosure_reports", "disclosure_events")
_REFUSE = """
CREATE OR REPLACE FUNCTION disclosure_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "bucket_history",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outstanding_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("overdue_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", "listing_id", name=op.f("pk_bucket_history")),
    )
    op.create_index("ix_bucket_history_listing", "bucket_history",
                    ["listing_id", "business_date"], unique=False)
    op.create_table(
        "disclosure_reports",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("published_by", sa.String(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_disclosure_reports")),
    )
    op.create_table(
        "disclosure_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", _ID, nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"],
                                name=op.f("fk_disclosure_events_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_events")),
    )
    op.create_index(op.f("ix_disclosure_events_recorded_at"), "disclosure_events",
                    ["recorded_at"], unique=False)
    op.create_table(
        "related_parties",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("relation", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", _ID, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"],
                                name=op.f("fk_related_parties_recorded_by_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_related_parties_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_related_parties")),
        sa.UniqueConstraint("user_id", name="related_party_user"),
    )
    op.create_table(
        "post_loan_updates",
        sa.Column("id", _ID, nullable=False),
        sa.Column("listing_id", _ID, nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", _ID, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"],
                                name=op.f("fk_post_loan_updates_listing_id_listings")),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"],
                                name=op.f("fk_post_loan_updates_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_loan_updates")),
        sa.UniqueConstraint("listing_id", "period_end", name="update_period"),
    )
    op.create_index(op.f("ix_post_loan_updates_listing_id"), "post_loan_updates",
                    ["listing_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFUSE)
        for table in _APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                       " FOR EACH ROW EXECUTE FUNCTION disclosure_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS disclosure_append_only()")
    op.drop_index(op.f("ix_post_loan_updates_listing_id"), table_name="post_loan_updates")
    op.drop_table("post_loan_updates")
    op.drop_table("related_parties")
    op.drop_index(op.f("ix_disclosure_events_recorded_at"), table_name="disclosure_events")
    op.drop_table("disclosure_events")
    op.drop_table("disclosure_reports")
    op.drop_index("ix_bucket_history_listing", table_name="bucket_history")
    op.drop_table("bucket_history")
