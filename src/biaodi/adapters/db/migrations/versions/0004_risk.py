"""risk control: applications, decisions, blacklist and its audit, model registry, PSI

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blacklist_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value_digest", sa.String(length=64), nullable=False),
        sa.Column("value_masked", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "linked_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.BigInteger(), nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('id_number', 'mobile', 'bank_card', 'device')",
            name=op.f("ck_blacklist_entries_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["linked_entry_id"],
            ["blacklist_entries.id"],
            name=op.f("fk_blacklist_entries_linked_entry_id_blacklist_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist_entries")),
    )
    with op.batch_alter_table("blacklist_entries", schema=None) as batch_op:
        batch_op.create_index("ix_blacklist_entries_lookup", ["kind", "value_digest"], unique=False)
        batch_op.create_index(batch_op.f("ix_blacklist_entries_user_id"), ["user_id"], unique=False)

    op.create_table(
        "risk_models",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_risk_models")),
    )
    op.create_table(
        "risk_psi_snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("score_psi", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_psi_snapshots")),
    )
    with op.batch_alter_table("risk_psi_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_psi_snapshots_model_version"), ["model_version"], unique=False
        )

    op.create_table(
        "blacklist_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["blacklist_entries.id"],
            name=op.f("fk_blacklist_audit_entry_id_blacklist_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist_audit")),
    )
    with op.batch_alter_table("blacklist_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blacklist_audit_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "risk_applications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("borrower_type", sa.String(length=8), nullable=False),
        sa.Column("listing_kind", sa.String(length=16), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("monthly_income_fen", sa.BigInteger(), nullable=False),
        sa.Column("id_digest", sa.String(length=64), nullable=False),
        sa.Column("mobile_digest", sa.String(length=64), nullable=False),
        sa.Column("card_digest", sa.String(length=64), nullable=False),
        sa.Column("card_masked", sa.String(length=24), nullable=False),
        sa.Column("device_digest", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_risk_applications_amount_positive")),
        sa.CheckConstraint(
            "monthly_income_fen >= 0", name=op.f("ck_risk_applications_income_not_negative")
        ),
        sa.CheckConstraint("term_months > 0", name=op.f("ck_risk_applications_term_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risk_applications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_applications")),
    )
    with op.batch_alter_table("risk_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_applications_card_digest"), ["card_digest"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_risk_applications_device_digest"), ["device_digest"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_risk_applications_id_digest"), ["id_digest"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_risk_applications_mobile_digest"), ["mobile_digest"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_risk_applications_user_id"), ["user_id"], unique=False)

    op.create_table(
        "risk_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("auto_outcome", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("pd_ppm", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("expected_default_ppm", sa.Integer(), nullable=True),
        sa.Column("rate_min_ppm", sa.Integer(), nullable=True),
        sa.Column("rate_max_ppm", sa.Integer(), nullable=True),
        sa.Column("limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("limit_applied", sa.Boolean(), nullable=False),
        sa.Column("risk_bump", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("challenger_pd_ppm", sa.Integer(), nullable=True),
        sa.Column("pack_name", sa.String(length=32), nullable=False),
        sa.Column("pack_version", sa.String(length=32), nullable=False),
        sa.Column("fired_rules", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.BigInteger(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('approved', 'referred', 'refused')",
            name=op.f("ck_risk_decisions_outcome_known"),
        ),
        sa.CheckConstraint("limit_fen >= 0", name=op.f("ck_risk_decisions_limit_not_negative")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["risk_applications.id"],
            name=op.f("fk_risk_decisions_application_id_risk_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risk_decisions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_decisions")),
        sa.UniqueConstraint("application_id", name=op.f("uq_risk_decisions_application_id")),
    )
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_decisions_decided_at"), ["decided_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_risk_decisions_model_version"), ["model_version"], unique=False
        )
        batch_op.create_index(
            "ix_risk_decisions_user_decided", ["user_id", "decided_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_decisions_user_decided")
        batch_op.drop_index(batch_op.f("ix_risk_decisions_model_version"))
        batch_op.drop_index(batch_op.f("ix_risk_decisions_decided_at"))

    op.drop_table("risk_decisions")
    with op.batch_alter_table("risk_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_applications_user_id"))
        batch_op.drop_index(batch_op.f("ix_risk_applications_mobile_digest"))
        batch_op.drop_index(batch_op.f("ix_risk_applications_id_digest"))
        batch_op.drop_index(batch_op.f("ix_risk_applications_device_digest"))
        batch_op.drop_index(batch_op.f("ix_risk_applications_card_digest"))

    op.drop_table("risk_applications")
    with op.batch_alter_table("blacklist_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blacklist_audit_entry_id"))

    op.drop_table("blacklist_audit")
    with op.batch_alter_table("risk_psi_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_psi_snapshots_model_version"))

    op.drop_table("risk_psi_snapshots")
    op.drop_table("risk_models")
    with op.batch_alter_table("blacklist_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blacklist_entries_user_id"))
        batch_op.drop_index("ix_blacklist_entries_lookup")

    op.drop_table("blacklist_entries")
