"""cash wallet fund orders through an outbox, reconciliation resolutions, crowdfunding complaint settlement

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('fund_accounts', schema=None) as batch_op:
        batch_op.alter_column('account_no', existing_type=sa.String(length=32), nullable=True)
    with op.batch_alter_table('fund_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=400), server_default='',
                                      nullable=False))
    # orders recorded before the outbox were placed with the fund as they were taken
    op.execute("UPDATE fund_orders SET placed_at = received_at, attempts = 1")
    with op.batch_alter_table('fund_breaks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', ID, nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=400), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('cleared_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('entry_id', sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_fund_breaks_resolved_by_users'), 'users',
                                    ['resolved_by'], ['id'])
    op.create_table('fund_reconciliations',
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('breaks', sa.Integer(), nullable=False),
    sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('business_date', name=op.f('pk_fund_reconciliations'))
    )
    with op.batch_alter_table('auto_invest_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draw_on_cash_wallet', sa.Boolean(),
                                      server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('crowd_projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settlement', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('settled_by', ID, nullable=True))
        batch_op.add_column(sa.Column('settlement_reason', sa.String(length=400),
                                      server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_crowd_projects_settled_by_users'), 'users',
                                    ['settled_by'], ['id'])
    with op.batch_alter_table('crowd_pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunded_fen', sa.BigInteger(), server_default='0',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('crowd_pledges', schema=None) as batch_op:
        batch_op.drop_column('refunded_fen')
    with op.batch_alter_table('crowd_projects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_crowd_projects_settled_by_users'),
                                 type_='foreignkey')
        batch_op.drop_column('settlement_reason')
        batch_op.drop_column('settled_by')
        batch_op.drop_column('settlement')
    with op.batch_alter_table('auto_invest_rules', schema=None) as batch_op:
        batch_op.drop_column('draw_on_cash_wallet')
    op.drop_table('fund_reconciliations')
    with op.batch_alter_table('fund_breaks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_fund_breaks_resolved_by_users'),
                                 type_='foreignkey')
        batch_op.drop_column('entry_id')
        batch_op.drop_column('cleared_on')
        batch_op.drop_column('reason')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolution')
    with op.batch_alter_table('fund_orders', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('placed_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
    with op.batch_alter_table('fund_accounts', schema=None) as batch_op:
        batch_op.alter_column('account_no', existing_type=sa.String(length=32), nullable=False)
