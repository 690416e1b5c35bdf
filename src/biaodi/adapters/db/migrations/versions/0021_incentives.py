"""incentives: campaigns, coupons, trial principal, referrals, points

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incentive_campaigns",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("rule_text", sa.Text(), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("spent_fen", sa.BigInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("budget_fen > 0", name=op.f("ck_incentive_campaigns_budget_positive")),
        sa.CheckConstraint("ends_on >= starts_on",
                           name=op.f("ck_incentive_campaigns_ends_after_start")),
        sa.CheckConstraint("spent_fen >= 0",
                           name=op.f("ck_incentive_campaigns_spent_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incentive_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_incentive_campaigns_name")),
    )
    op.create_table(
        "coupon_templates",
        sa.Column("id", Id, nullable=False),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("rate_ppm", sa.Integer(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("min_invest_fen", sa.BigInteger(), nullable=False),
        sa.Column("max_invest_fen", sa.BigInteger(), nullable=True),
        sa.Column("listing_kinds", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=True),
        sa.Column("per_user_count", sa.Integer(), nullable=False),
        sa.Column("issued_count", sa.Integer(), nullable=False),
        sa.Column("stackable", sa.Boolean(), nullable=False),
        sa.Column("auto_invest", sa.Boolean(), nullable=False),
        sa.Column("expected_use_ppm", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('cash', 'boost', 'trial')",
                           name=op.f("ck_coupon_templates_kind_known")),
        sa.CheckConstraint("expected_use_ppm >= 0 AND expected_use_ppm <= 1000000",
                           name=op.f("ck_coupon_templates_expected_use_share")),
        sa.CheckConstraint("issued_count >= 0",
                           name=op.f("ck_coupon_templates_issued_not_negative")),
        sa.CheckConstraint("min_invest_fen >= 0",
                           name=op.f("ck_coupon_templates_min_invest_not_negative")),
        sa.CheckConstraint("per_user_count > 0",
                           name=op.f("ck_coupon_templates_per_user_positive")),
        sa.CheckConstraint("validity_days > 0",
                           name=op.f("ck_coupon_templates_validity_positive")),
        sa.ForeignKeyConstraint(["campaign_id"], ["incentive_campaigns.id"],
                                name=op.f("fk_coupon_templates_campaign_id_incentive_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_templates")),
    )
    op.create_index(op.f("ix_coupon_templates_campaign_id"), "coupon_templates",
                    ["campaign_id"], unique=False)
    op.create_table(
        "incentive_coupons",
        sa.Column("id", Id, nullable=False),
        sa.Column("template_id", Id, nullable=False),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("face_fen", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("investment_id", Id, nullable=True),
        sa.Column("used_on", sa.Date(), nullable=True),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("accrued_micro", sa.BigInteger(), nullable=False),
        sa.Column("accrued_through", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("face_fen >= 0", name=op.f("ck_incentive_coupons_face_not_negative")),
        sa.CheckConstraint("paid_fen >= 0", name=op.f("ck_incentive_coupons_paid_not_negative")),
        sa.ForeignKeyConstraint(["campaign_id"], ["incentive_campaigns.id"],
                                name=op.f("fk_incentive_coupons_campaign_id_incentive_campaigns")),
        sa.ForeignKeyConstraint(["investment_id"], ["investments.id"],
                                name=op.f("fk_incentive_coupons_investment_id_investments")),
        sa.ForeignKeyConstraint(["template_id"], ["coupon_templates.id"],
                                name=op.f("fk_incentive_coupons_template_id_coupon_templates")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_incentive_coupons_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incentive_coupons")),
    )
    op.create_index(op.f("ix_incentive_coupons_investment_id"), "incentive_coupons",
                    ["investment_id"], unique=False)
    op.create_index("ix_incentive_coupons_status_kind", "incentive_coupons",
                    ["status", "kind"], unique=False)
    op.create_index(op.f("ix_incentive_coupons_template_id"), "incentive_coupons",
                    ["template_id"], unique=False)
    op.create_index("ix_incentive_coupons_user_status", "incentive_coupons",
                    ["user_id", "status"], unique=False)
    op.create_table(
        "trial_principals",
        sa.Column("id", Id, nullable=False),
        sa.Column("template_id", Id, nullable=False),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("rate_ppm", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("matures_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("identity_digest", sa.String(length=64), nullable=False),
        sa.Column("device_digest", sa.String(length=64), nullable=False),
        sa.Column("mobile_digest", sa.String(length=64), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("principal_fen > 0",
                           name=op.f("ck_trial_principals_principal_positive")),
        sa.ForeignKeyConstraint(["campaign_id"], ["incentive_campaigns.id"],
                                name=op.f("fk_trial_principals_campaign_id_incentive_campaigns")),
        sa.ForeignKeyConstraint(["template_id"], ["coupon_templates.id"],
                                name=op.f("fk_trial_principals_template_id_coupon_templates")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_trial_principals_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_principals")),
        sa.UniqueConstraint("device_digest", name="uq_trial_principals_device"),
        sa.UniqueConstraint("identity_digest", name="uq_trial_principals_identity"),
        sa.UniqueConstraint("mobile_digest", name="uq_trial_principals_mobile"),
    )
    op.create_index("ix_trial_principals_status_matures", "trial_principals",
                    ["status", "matures_on"], unique=False)
    op.create_index(op.f("ix_trial_principals_user_id"), "trial_principals", ["user_id"],
                    unique=False)
    op.create_table(
        "referrals",
        sa.Column("id", Id, nullable=False),
        sa.Column("referrer_id", Id, nullable=False),
        sa.Column("referee_id", Id, nullable=False),
        sa.Column("reward_fen", sa.BigInteger(), nullable=True),
        sa.Column("rewarded_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("referrer_id <> referee_id", name=op.f("ck_referrals_not_self")),
        sa.ForeignKeyConstraint(["referee_id"], ["users.id"],
                                name=op.f("fk_referrals_referee_id_users")),
        sa.ForeignKeyConstraint(["referrer_id"], ["users.id"],
                                name=op.f("fk_referrals_referrer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("referee_id", name=op.f("uq_referrals_referee_id")),
    )
    op.create_index(op.f("ix_referrals_referrer_id"), "referrals", ["referrer_id"],
                    unique=False)
    op.create_table(
        "points_entries",
        sa.Column("id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("ref", sa.String(length=48), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_points_entries_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
        sa.UniqueConstraint("user_id", "reason", "ref", name="uq_points_entries_once"),
    )


def downgrade() -> None:
    op.drop_table("points_entries")
    op.drop_index(op.f("ix_referrals_referrer_id"), table_name="referrals")
    op.drop_table("referrals")
    op.drop_index(op.f("ix_trial_principals_user_id"), table_name="trial_principals")
    op.drop_index("ix_trial_principals_status_matures", table_name="trial_principals")
    op.drop_table("trial_principals")
    op.drop_index("ix_incentive_coupons_user_status", table_name="incentive_coupons")
    op.drop_index(op.f("ix_incentive_coupons_template_id"), table_name="incentive_coupons")
    op.drop_index("ix_incentive_coupons_status_kind", table_name="incentive_coupons")
    op.drop_index(op.f("ix_incentive_coupons_investment_id"), table_name="incentive_coupons")
    op.drop_table("incentive_coupons")
    op.drop_index(op.f("ix_coupon_templates_campaign_id"), table_name="coupon_templates")
    op.drop_table("coupon_templates")
    op.drop_table("incentive_campaigns")
