"""documents (e-contracts) and customer service (tickets, FAQ)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('support_canned_answers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=True),
    sa.Column('updated_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_support_canned_answers_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_canned_answers')),
    sa.UniqueConstraint('title', name=op.f('uq_support_canned_answers_title'))
    )
    op.create_table('support_faq',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_support_faq_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_faq'))
    )
    op.create_table('support_tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('complaint', sa.Boolean(), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('reference_kind', sa.String(length=16), nullable=True),
    sa.Column('reference_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('respond_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_support_tickets_assignee_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_support_tickets_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_tickets'))
    )
    op.create_index(op.f('ix_support_tickets_assignee_id'), 'support_tickets', ['assignee_id'], unique=False)
    op.create_index('ix_support_tickets_status_due', 'support_tickets', ['status', 'respond_by'], unique=False)
    op.create_index(op.f('ix_support_tickets_user_id'), 'support_tickets', ['user_id'], unique=False)
    op.create_table('contract_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_role', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('template_version', sa.String(length=16), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_contract_documents_size_positive')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_contract_documents_listing_id_listings')),
    sa.ForeignKeyConstraint(['party_id'], ['users.id'], name=op.f('fk_contract_documents_party_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_documents')),
    sa.UniqueConstraint('kind', 'subject', 'party_id', name='kind_subject_party')
    )
    op.create_index(op.f('ix_contract_documents_listing_id'), 'contract_documents', ['listing_id'], unique=False)
    op.create_index(op.f('ix_contract_documents_party_id'), 'contract_documents', ['party_id'], unique=False)
    op.create_index(op.f('ix_contract_documents_sha256'), 'contract_documents', ['sha256'], unique=False)
    op.create_table('support_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_staff', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('canned_answer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_support_messages_author_id_users')),
    sa.ForeignKeyConstraint(['canned_answer_id'], ['support_canned_answers.id'], name=op.f('fk_support_messages_canned_answer_id_support_canned_answers')),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_tickets.id'], name=op.f('fk_support_messages_ticket_id_support_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_messages'))
    )
    op.create_index(op.f('ix_support_messages_ticket_id'), 'support_messages', ['ticket_id'], unique=False)
    op.create_table('contract_signatures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('party_role', sa.String(length=16), nullable=False),
    sa.Column('act', sa.String(length=64), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['contract_documents.id'], name=op.f('fk_contract_signatures_document_id_contract_documents')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contract_signatures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_signatures'))
    )
    op.create_index(op.f('ix_contract_signatures_document_id'), 'contract_signatures', ['document_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_contract_signatures_document_id'), table_name='contract_signatures')
    op.drop_table('contract_signatures')
    op.drop_index(op.f('ix_support_messages_ticket_id'), table_name='support_messages')
    op.drop_table('support_messages')
    op.drop_index(op.f('ix_contract_documents_sha256'), table_name='contract_documents')
    op.drop_index(op.f('ix_contract_documents_party_id'), table_name='contract_documents')
    op.drop_index(op.f('ix_contract_documents_listing_id'), table_name='contract_documents')
    op.drop_table('contract_documents')
    op.drop_index(op.f('ix_support_tickets_user_id'), table_name='support_tickets')
    op.drop_index('ix_support_tickets_status_due', table_name='support_tickets')
    op.drop_index(op.f('ix_support_tickets_assignee_id'), table_name='support_tickets')
    op.drop_table('support_tickets')
    op.drop_table('support_faq')
    op.drop_table('support_canned_answers')
