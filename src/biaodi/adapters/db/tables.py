"""Tables. Money columns are BigInteger fen; checks in the schema back up the Python rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrement needs INTEGER

#: Foreign keys that PostgreSQL checks once per statement, by trigger, instead of row by row
#: (migration 0028: their parents, journal entries and accounts, are never deleted); declared
#: here all the same, for SQLite (which keeps them) and for the reader.
STATEMENT_CHECKED_ON_POSTGRESQL = frozenset({
    "fk_postings_entry_id_journal_entries", "fk_postings_account_id_accounts",
    "fk_repayments_entry_id_journal_entries", "fk_repayments_payer_account_id_accounts"})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    real_name: Mapped[str] = mapped_column(String(64))
    #: The mobile, encrypted; its keyed digest finds it (sign-in by mobile, uniqueness).
    mobile_enc: Mapped[str] = mapped_column(Text)
    mobile_digest: Mapped[str] = mapped_column(String(64), unique=True)
    mobile_masked: Mapped[str] = mapped_column(String(16))
    id_number_enc: Mapped[str] = mapped_column(Text)
    #: HMAC of the ID number: finds duplicates and blacklist hits without decrypting.
    id_number_digest: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[date] = mapped_column(Date)
    province_code: Mapped[str] = mapped_column(String(2))
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Where the sign-up came from (`domain.accounts.attribution`): the acquisition channel
    #: and the campaign (free text, as the link carried it; empty when none).
    acquisition_channel: Mapped[str] = mapped_column(
        String(16), default="organic", server_default="organic")
    acquisition_campaign: Mapped[str] = mapped_column(
        String(64), default="", server_default="")


class Campaign(Base):
    """A marketing campaign and what it cost, so that analytics can divide the cost by the
    investors it brought (a sign-up's campaign names it, with its channel)."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("cost_fen >= 0", name="cost_not_negative"),
        UniqueConstraint("channel", "name", name="channel_name"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    cost_fen: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class AuthToken(Base):
    __tablename__ = "auth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("NOT non_negative OR balance >= 0", name="non_negative_balance"),
        Index("ix_accounts_owner", "owner_kind", "owner_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(96), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    purpose: Mapped[str] = mapped_column(String(48))
    non_negative: Mapped[bool] = mapped_column(Boolean)
    #: Normal-side balance in fen, maintained by conditional updates in the posting transaction.
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    memo: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PostingRow(Base):
    __tablename__ = "postings"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"), index=True)
    #: Signed fen: debit positive, credit negative.
    amount: Mapped[int] = mapped_column(BigInteger)
    #: The account's normal-side balance right after this posting.
    balance_after: Mapped[int] = mapped_column(BigInteger)


class IdempotencyRecord(Base):
    """One row per (scope, key): the first answer to a money-moving request, replayed later."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key", name="scope_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    scope: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- listings (标的) ---------------------------------------------------------------------------
class Listing(Base):
    """One listing of any type; type-specific parameters live in `security_terms`."""

    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("remaining_fen >= 0", name="remaining_not_negative"),
        CheckConstraint("remaining_fen <= amount_fen", name="remaining_within_amount"),
        CheckConstraint("annual_rate_ppm > 0 AND annual_rate_ppm < 1000000", name="rate_range"),
        Index("ix_listings_status_kind", "status", "kind"),
        Index("ix_listings_status_rate", "status", "annual_rate_ppm"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    applicant_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    #: Annual rate in parts per million of 1 (12 % = 120000): exact and comparable in SQL.
    annual_rate_ppm: Mapped[int] = mapped_column(Integer)
    term: Mapped[int] = mapped_column(Integer)
    term_unit: Mapped[str] = mapped_column(String(8))
    repayment_method: Mapped[str] = mapped_column(String(24))
    #: Yearly fee rates on the principal owed, charged with each instalment, and the all-in
    #: annual cost (IRR of the borrower's cash flows) they give; fixed when the listing is
    #: checked, the contract's terms once it is published.
    service_fee_ppm: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    guarantee_fee_ppm: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    all_in_cost_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Still open for investment; changed only by conditional UPDATEs while funding.
    remaining_fen: Mapped[int] = mapped_column(BigInteger)
    grade: Mapped[str | None] = mapped_column(String(4), nullable=True)
    risk_level: Mapped[int] = mapped_column(Integer)
    guarantor_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("users.id"), nullable=True, index=True
    )
    security_terms: Mapped[Any] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    funding_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: What was raised: the target, or less when partial funding was accepted at the deadline.
    funded_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    funded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PledgedAssetRow(Base):
    __tablename__ = "pledged_assets"
    __table_args__ = (CheckConstraint("appraisal_value_fen > 0", name="value_positive"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), index=True)
    asset_class: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    appraisal_value_fen: Mapped[int] = mapped_column(BigInteger)
    appraised_on: Mapped[date] = mapped_column(Date)
    appraiser: Mapped[str] = mapped_column(String(120))
    plate_number: Mapped[str | None] = mapped_column(String(16), nullable=True)
    registration_certificate_no: Mapped[str | None] = mapped_column(String(32), nullable=True)


class OfflineStepRow(Base):
    """An O2O step an operator recorded for a house: contract, notarisation, registration."""

    __tablename__ = "offline_steps"
    __table_args__ = (UniqueConstraint("asset_id", "step", name="asset_step"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    asset_id: Mapped[int] = mapped_column(Id, ForeignKey("pledged_assets.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    done_on: Mapped[date] = mapped_column(Date)
    operator_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    reference: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ListingTransition(Base):
    __tablename__ = "listing_transitions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CreditLimit(Base):
    """A borrower's credit limit for 信用标: set by an operator until risk control sets it."""

    __tablename__ = "credit_limits"
    __table_args__ = (CheckConstraint("limit_fen >= 0", name="limit_not_negative"),)

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    limit_fen: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
    set_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GuarantorProfile(Base):
    """A guarantor's terms: capacity (max total guaranteed outstanding), fee, deadline."""

    __tablename__ = "guarantor_profiles"
    __table_args__ = (
        CheckConstraint("capacity_fen >= 0", name="capacity_not_negative"),
        CheckConstraint("compensation_days >= 0", name="days_not_negative"),
    )

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    capacity_fen: Mapped[int] = mapped_column(BigInteger)
    fee_rate_ppm: Mapped[int] = mapped_column(Integer)
    compensation_days: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- investing --------------------------------------------------------------------------------
class Investment(Base):
    """One investor's subscription to a listing: frozen while funding, then a holding."""

    __tablename__ = "investments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_investments_listing_investor", "listing_id", "investor_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    #: frozen (listing funding) → settled (became a holding) | refunded (listing failed)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))  # manual | auto
    subscribed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Holding(Base):
    """An investor's claim on a funded loan (债权), with its own schedule of shares."""

    __tablename__ = "holdings"
    __table_args__ = (
        CheckConstraint("principal_fen > 0", name="principal_positive"),
        CheckConstraint("outstanding_principal_fen >= 0", name="outstanding_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), index=True)
    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    investment_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("investments.id"), unique=True, nullable=True
    )
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    outstanding_principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # active | settled | written_off | sold
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoanInstalment(Base):
    """The borrower's schedule once a listing is funded."""

    __tablename__ = "loan_instalments"
    __table_args__ = (UniqueConstraint("listing_id", "seq", name="listing_seq"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    seq: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    service_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    guarantee_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16))  # scheduled | due | paid | overdue


class HoldingInstalment(Base):
    """A holding's exact share of one loan instalment."""

    __tablename__ = "holding_instalments"
    __table_args__ = (
        UniqueConstraint("holding_id", "seq", name="holding_seq"),
        CheckConstraint("principal_fen >= 0 AND interest_fen >= 0", name="shares_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    holding_id: Mapped[int] = mapped_column(Id, ForeignKey("holdings.id"))
    seq: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))


class RiskAssessment(Base):
    """An investor's suitability questionnaire (风险测评) and the level it gave."""

    __tablename__ = "risk_assessments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    answers: Mapped[Any] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[date] = mapped_column(Date)


class AutoInvestRule(Base):
    """An investor's standing instruction (自动投标)."""

    __tablename__ = "auto_invest_rules"
    __table_args__ = (
        CheckConstraint("amount_per_listing_fen > 0", name="amount_positive"),
        CheckConstraint("cash_reserve_fen >= 0", name="reserve_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    kinds: Mapped[Any] = mapped_column(JSON)
    best_grade: Mapped[str | None] = mapped_column(String(4), nullable=True)
    worst_grade: Mapped[str | None] = mapped_column(String(4), nullable=True)
    min_rate_ppm: Mapped[int] = mapped_column(Integer)
    max_term_months: Mapped[int] = mapped_column(Integer)
    amount_per_listing_fen: Mapped[int] = mapped_column(BigInteger)
    cash_reserve_fen: Mapped[int] = mapped_column(BigInteger)
    total_cap_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: The most this rule keeps invested: its own frozen subscriptions plus the outstanding
    #: principal of their active holdings (total_cap_fen counts all the investor's).
    rule_cap_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: Opted in: a short wallet is topped up by an instant redemption from the cash wallet.
    draw_on_cash_wallet: Mapped[bool] = mapped_column(Boolean, default=False,
                                                      server_default="false")
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Set when the investor deletes the rule: it stops and leaves their list, and stays
    #: only for the allocation log lines that name it.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AutoInvestQueue(Base):
    """The fairness queue: investors are served in order of their last allocation."""

    __tablename__ = "auto_invest_queue"

    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    last_served_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class AutoInvestRun(Base):
    __tablename__ = "auto_invest_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), index=True)
    share_cap_fen: Mapped[int] = mapped_column(BigInteger)
    allocated_fen: Mapped[int] = mapped_column(BigInteger)
    eligible: Mapped[int] = mapped_column(Integer)
    served: Mapped[int] = mapped_column(Integer)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AutoInvestAllocation(Base):
    """One line of the published allocation log: who was considered, in which order, and why
    they got what they got."""

    __tablename__ = "auto_invest_allocations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(Id, ForeignKey("auto_invest_runs.id"), index=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    rule_id: Mapped[int] = mapped_column(Id, ForeignKey("auto_invest_rules.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))  # allocated | skipped
    reason: Mapped[str] = mapped_column(Text, default="")
    investment_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("investments.id"), nullable=True
    )
