"""cash wallet (money-market fund) and reward crowdfunding

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('fund_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('investor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fund_code', sa.String(length=16), nullable=False),
    sa.Column('account_no', sa.String(length=32), nullable=False),
    sa.Column('units_fen', sa.BigInteger(), nullable=False),
    sa.Column('redeeming_fen', sa.BigInteger(), nullable=False),
    sa.Column('income_exact_e8', sa.BigInteger(), nullable=False),
    sa.Column('income_posted_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('redeeming_fen >= 0', name=op.f('ck_fund_accounts_redeeming_non_negative')),
    sa.CheckConstraint('units_fen >= 0', name=op.f('ck_fund_accounts_units_non_negative')),
    sa.ForeignKeyConstraint(['investor_id'], ['users.id'], name=op.f('fk_fund_accounts_investor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_accounts')),
    sa.UniqueConstraint('account_no', name=op.f('uq_fund_accounts_account_no')),
    sa.UniqueConstraint('investor_id', name=op.f('uq_fund_accounts_investor_id'))
    )
    op.create_table('fund_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('trade_date', sa.Date(), nullable=False),
    sa.Column('confirm_date', sa.Date(), nullable=False),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('entry_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_fund_orders_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['fund_accounts.id'], name=op.f('fk_fund_orders_account_id_fund_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_orders')),
    sa.UniqueConstraint('order_no', name=op.f('uq_fund_orders_order_no'))
    )
    with op.batch_alter_table('fund_orders', schema=None) as batch_op:
        batch_op.create_index('ix_fund_orders_account_kind_trade', ['account_id', 'kind', 'trade_date'], unique=False)
        batch_op.create_index('ix_fund_orders_status_confirm', ['status', 'confirm_date'], unique=False)
    op.create_table('fund_yields',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('fund_code', sa.String(length=16), nullable=False),
    sa.Column('per_10k_e4', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_fund_yields'))
    )
    op.create_table('fund_income',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('units_fen', sa.BigInteger(), nullable=False),
    sa.Column('exact_e8', sa.BigInteger(), nullable=False),
    sa.Column('posted_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['fund_accounts.id'], name=op.f('fk_fund_income_account_id_fund_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_income')),
    sa.UniqueConstraint('account_id', 'day', name='uq_fund_income_account_day')
    )
    op.create_table('fund_breaks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('account_no', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('ours_fen', sa.BigInteger(), nullable=False),
    sa.Column('theirs_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_breaks')),
    sa.UniqueConstraint('business_date', 'account_no', 'kind', name='uq_fund_breaks_day_acct')
    )
    op.create_table('crowd_projects',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('goal_fen', sa.BigInteger(), nullable=False),
    sa.Column('raised_fen', sa.BigInteger(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_note', sa.String(length=400), nullable=False),
    sa.Column('live_from', sa.Date(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('settled_on', sa.Date(), nullable=True),
    sa.Column('fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('first_release_fen', sa.BigInteger(), nullable=False),
    sa.Column('first_release_due', sa.Date(), nullable=True),
    sa.Column('first_released_on', sa.Date(), nullable=True),
    sa.Column('held_fen', sa.BigInteger(), nullable=False),
    sa.Column('held_released_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('days BETWEEN 1 AND 60', name=op.f('ck_crowd_projects_days_in_range')),
    sa.CheckConstraint('goal_fen > 0', name=op.f('ck_crowd_projects_goal_positive')),
    sa.CheckConstraint('raised_fen >= 0', name=op.f('ck_crowd_projects_raised_non_negative')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_crowd_projects_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crowd_projects'))
    )
    with op.batch_alter_table('crowd_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crowd_projects_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_crowd_projects_status_deadline', ['status', 'deadline'], unique=False)
    op.create_table('crowd_tiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('ship_date', sa.Date(), nullable=False),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_crowd_tiers_price_positive')),
    sa.CheckConstraint('quota > 0', name=op.f('ck_crowd_tiers_quota_positive')),
    sa.CheckConstraint('taken >= 0 AND taken <= quota', name=op.f('ck_crowd_tiers_taken_within_quota')),
    sa.ForeignKeyConstraint(['project_id'], ['crowd_projects.id'], name=op.f('fk_crowd_tiers_project_id_crowd_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crowd_tiers'))
    )
    with op.batch_alter_table('crowd_tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crowd_tiers_project_id'), ['project_id'], unique=False)
    op.create_table('crowd_pledges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('backer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('delivery', sa.String(length=16), nullable=False),
    sa.Column('tracking_no', sa.String(length=64), nullable=True),
    sa.Column('shipped_on', sa.Date(), nullable=True),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('complaint', sa.String(length=400), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_crowd_pledges_amount_positive')),
    sa.ForeignKeyConstraint(['backer_id'], ['users.id'], name=op.f('fk_crowd_pledges_backer_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['crowd_projects.id'], name=op.f('fk_crowd_pledges_project_id_crowd_projects')),
    sa.ForeignKeyConstraint(['tier_id'], ['crowd_tiers.id'], name=op.f('fk_crowd_pledges_tier_id_crowd_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crowd_pledges'))
    )
    with op.batch_alter_table('crowd_pledges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crowd_pledges_backer_id'), ['backer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crowd_pledges_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_table('crowd_pledges')
    op.drop_table('crowd_tiers')
    op.drop_table('crowd_projects')
    op.drop_table('fund_breaks')
    op.drop_table('fund_income')
    op.drop_table('fund_yields')
    op.drop_table('fund_orders')
    op.drop_table('fund_accounts')
