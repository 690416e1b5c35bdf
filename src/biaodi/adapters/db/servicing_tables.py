"""Tables of the servicing capability (close of business, repayments, defaults, collections).

Money columns are BigInteger fen. Close of business changes these tables with set-based SQL
in chunks of listing ids; each loan's state here is the sum of its creditor positions.
"""

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
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id

__all__ = [
    "Base",
    "BorrowerContact",
    "CloseDayRun",
    "CloseDayStep",
    "CollateralDisposal",
    "CollectionContact",
    "CollectionNotice",
    "DueMark",
    "LoanServicing",
    "LprRate",
    "Repayment",
    "RepaymentShare",
    "ScheduleRevision",
    "ServicingPosition",
    "ServicingProduct",
]


class ServicingProduct(Base):
    """Servicing terms per listing type; a loan copies them when servicing takes it over, so a
    later change never alters a contract already made."""

    __tablename__ = "servicing_products"
    __table_args__ = (
        CheckConstraint("penalty_daily_ppm >= 0", name="penalty_not_negative"),
        CheckConstraint("grace_days >= 0", name="grace_not_negative"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    penalty_daily_ppm: Mapped[int] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer)
    allocation_order: Mapped[str] = mapped_column(String(64))
    #: 担保标 at M3+: the guarantor pays the whole remaining principal (else only arrears).
    guarantor_full_at_m3: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LprRate(Base):
    """The loan prime rate (贷款市场报价利率) published by the National Interbank Funding
    Center, from its effective date; the cost cap uses the one in force on the contract date."""

    __tablename__ = "lpr_rates"
    __table_args__ = (CheckConstraint("one_year_ppm > 0", name="rate_positive"),)

    effective_on: Mapped[date] = mapped_column(Date, primary_key=True)
    one_year_ppm: Mapped[int] = mapped_column(Integer)
    five_year_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(120), default="")


#: A loan with arrears, or that had some until its last refresh: the rows the daily arrears
#: steps work on (`services.servicing.delinquency`).
IN_ARREARS = "oldest_due_date IS NOT NULL OR holders_oldest_due_date IS NOT NULL"
#: Loans owing their creditors something fallen due (the auto-debit's loans) and loans owing
#: fees (the fee collection's): a few thousand of a million on a typical day. The predicates
#: are the steps' own, verbatim (`services.servicing.collect`, `fees`).
OWING = "due_principal_fen + due_interest_fen + penalty_fen > 0"
FEES_OWED = "due_service_fee_fen + due_guarantee_fee_fen > 0"
#: Loans with nothing left to fall due and not closed yet: the only ones settling may close.
FINISHING = "next_seq IS NULL AND status <> 'closed'"


class LoanServicing(Base):
    """One funded loan's servicing state. Arrears and penalty are the sums over its creditor
    positions; `accrued_interest_fen` is the current period's interest earned to the last
    closed date."""

    __tablename__ = "loan_servicing"
    __table_args__ = (
        CheckConstraint(
            "outstanding_principal_fen >= 0 AND due_principal_fen >= 0 AND due_interest_fen >= 0"
            " AND penalty_fen >= 0 AND accrued_interest_fen >= 0 AND penalty_waived_fen >= 0",
            name="amounts_not_negative",
        ),
        Index("ix_loan_servicing_status_bucket", "status", "bucket"),
        # close of business finds the loans falling due, and those in arrears, without
        # reading every loan of a chunk (the arrears predicate is the steps' own, verbatim)
        Index("ix_loan_servicing_next_due", "next_due_date"),
        Index("ix_loan_servicing_in_arrears", "listing_id",
              postgresql_where=text(IN_ARREARS), sqlite_where=text(IN_ARREARS)),
        Index("ix_loan_servicing_owing", "listing_id",
              postgresql_where=text(OWING), sqlite_where=text(OWING)),
        Index("ix_loan_servicing_fees_owed", "listing_id",
              postgresql_where=text(FEES_OWED), sqlite_where=text(FEES_OWED)),
        Index("ix_loan_servicing_finishing", "listing_id",
              postgresql_where=text(FINISHING), sqlite_where=text(FINISHING)),
    )

    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), primary_key=True)
    #: The listing policy's default action, copied so that close of business selects loans
    #: per action without asking for the type.
    default_action: Mapped[str] = mapped_column(String(32))
    payer_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    principal_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    interest_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    #: performing | overdue | defaulted | disposal | written_off | closed
    status: Mapped[str] = mapped_column(String(16))
    outstanding_principal_fen: Mapped[int] = mapped_column(BigInteger)
    due_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    due_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_waived_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    accrued_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The next instalment not yet due (None once every instalment fell due).
    next_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_interest_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: The next instalment's principal, kept beside its interest so that the reminder of it
    #: needs no read of the instalments.
    next_principal_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: Oldest instalment not covered by what the borrower paid (FIFO), and by what holders
    #: received (the guarantor's deadline counts from this one).
    oldest_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    holders_oldest_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="current")
    penalty_daily_ppm: Mapped[int] = mapped_column(Integer)
    cost_cap_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grace_days: Mapped[int] = mapped_column(Integer)
    #: Allocation order: rank 1–3 of each component.
    order_penalty: Mapped[int] = mapped_column(Integer)
    order_interest: Mapped[int] = mapped_column(Integer)
    order_principal: Mapped[int] = mapped_column(Integer)
    guarantor_full_at_m3: Mapped[bool] = mapped_column(Boolean)
    penalty_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    accelerated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    defaulted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: The day the loan passed M3 (over 90 days past due) and its borrower was put on the
    #: risk blacklist; once per loan, so that an operator's removal of the entry stands.
    blacklisted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: Fees of instalments fallen due and not yet paid (service → the platform, guarantee →
    #: the guarantor), and fees paid.
    due_service_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    due_guarantee_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    paid_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: compensated | disposal | bought_back | written_off | recovered
    default_stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    onboarded_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class ServicingPosition(Base):
    """A creditor's claim on a loan: a holding (tier 0), or a guarantor's subrogated claim for
    what it paid holders (tier 1, recovered after holders are whole). Money received goes to
    `wallet_account_id`; the claim accounts are credited as the claim is paid (after a
    write-off they point at the loan's loss account, so recoveries reduce the loss)."""

    __tablename__ = "servicing_positions"
    __table_args__ = (
        CheckConstraint(
            "outstanding_principal_fen >= 0 AND due_principal_fen >= 0 AND due_interest_fen >= 0"
            " AND penalty_fen >= 0",
            name="amounts_not_negative",
        ),
        UniqueConstraint("listing_id", "creditor_kind", "creditor_id", name="listing_creditor"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), index=True)
    holding_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("holdings.id"), nullable=True, unique=True
    )
    creditor_kind: Mapped[str] = mapped_column(String(16))  # holding | guarantor
    creditor_id: Mapped[int] = mapped_column(BigInteger)  # holding id or guarantor user id
    tier: Mapped[int] = mapped_column(Integer)
    wallet_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    principal_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    interest_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    outstanding_principal_fen: Mapped[int] = mapped_column(BigInteger)
    due_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    due_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    received_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    received_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    received_penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    written_off_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="current")
    #: active | written_off | closed
    status: Mapped[str] = mapped_column(String(16))


class DueMark(Base):
    """Instalments a close of business (or a repayment) marked due for a loan on a date, and
    the journal entry recognising their interest."""

    __tablename__ = "servicing_due_marks"
    __table_args__ = (UniqueConstraint("listing_id", "business_date", name="listing_date"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    business_date: Mapped[date] = mapped_column(Date)
    batch: Mapped[str] = mapped_column(String(64), index=True)
    seq_from: Mapped[int] = mapped_column(Integer)
    seq_to: Mapped[int] = mapped_column(Integer)
    first_due_date: Mapped[date] = mapped_column(Date)
    last_due_date: Mapped[date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("journal_entries.id"), nullable=True
    )


class Repayment(Base):
    """Money paid towards a loan and distributed to its creditors: an auto-debit at close of
    business, a borrower's (early) repayment, a buy-back, disposal proceeds or a recovery."""

    __tablename__ = "repayments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_repayments_listing_date", "listing_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    #: Unique per repayment: `auto:<date>:<listing>` for close of business, `manual:…` with
    #: the caller's idempotency key, and so on.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    batch: Mapped[str] = mapped_column(String(64), index=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    business_date: Mapped[date] = mapped_column(Date)
    #: auto_debit | manual | early_full | early_partial | buyback | disposal | recovery
    source: Mapped[str] = mapped_column(String(24))
    payer_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("journal_entries.id"), nullable=True
    )
    #: A recovery's reference (the agency's or the court's document), as the operator gave it.
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeePayment(Base):
    """Fees a loan's payer paid on one business date (`services/servicing/fees.py`): the
    guarantee fee to the guarantor, the service fee to the platform."""

    __tablename__ = "fee_payments"
    __table_args__ = (
        CheckConstraint("guarantee_fen >= 0 AND service_fen >= 0"
                        " AND guarantee_fen + service_fen > 0", name="amounts_valid"),
        Index("ix_fee_payments_listing_date", "listing_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    batch: Mapped[str] = mapped_column(String(64), index=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    business_date: Mapped[date] = mapped_column(Date)
    payer_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    guarantor_account_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("accounts.id"), nullable=True)
    guarantee_fen: Mapped[int] = mapped_column(BigInteger)
    service_fen: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("journal_entries.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RepaymentShare(Base):
    """One creditor's exact share of a repayment (its cash flow)."""

    __tablename__ = "repayment_shares"
    __table_args__ = (
        CheckConstraint("penalty_fen >= 0 AND interest_fen >= 0 AND principal_fen >= 0",
                        name="shares_not_negative"),
        UniqueConstraint("repayment_id", "position_id", name="repayment_position"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    repayment_id: Mapped[int] = mapped_column(Id, ForeignKey("repayments.id"))
    position_id: Mapped[int] = mapped_column(Id, ForeignKey("servicing_positions.id"),
                                             index=True)
    penalty_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    principal_fen: Mapped[int] = mapped_column(BigInteger)


class ScheduleRevision(Base):
    """A change to a loan's remaining schedule (part prepayment, payoff, acceleration), with
    the instalments before and after, so the original contract stays on record."""

    __tablename__ = "schedule_revisions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), index=True)
    business_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(32))
    before: Mapped[Any] = mapped_column(JSON)
    after: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CloseDayRun(Base):
    """One close of business (日终) per business date; the listing-id range and chunk size are
    fixed when the run starts so that a resumed run works through the same chunks."""

    __tablename__ = "close_day_runs"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # running | done
    first_listing_id: Mapped[int] = mapped_column(BigInteger)
    last_listing_id: Mapped[int] = mapped_column(BigInteger)
    chunk_size: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[Any] = mapped_column(JSON, default=dict)


class CloseDayStep(Base):
    """A finished chunk of a step, committed in the chunk's own transaction: a resumed run
    skips it."""

    __tablename__ = "close_day_steps"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CollateralDisposal(Base):
    """抵押物处置: opened at M3+, settled when an operator records the sale."""

    __tablename__ = "collateral_disposals"
    __table_args__ = (
        CheckConstraint("proceeds_fen >= 0 AND costs_fen >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | settled | cancelled
    opened_on: Mapped[date] = mapped_column(Date)
    proceeds_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    costs_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    surplus_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    shortfall_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str] = mapped_column(String(120), default="")
    recorded_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class BorrowerContact(Base):
    """A person the borrower authorised collectors to contact (nobody else may be)."""

    __tablename__ = "borrower_contacts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    #: The contact's mobile, encrypted like the users' (personal data of a third party).
    mobile_enc: Mapped[str] = mapped_column(Text)
    mobile_masked: Mapped[str] = mapped_column(String(16))
    relation: Mapped[str] = mapped_column(String(32))
    authorised: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CollectionNotice(Base):
    """A reminder before a due date or a notice after it, queued by close of business and
    sent within the rules of conduct."""

    __tablename__ = "collection_notices"
    __table_args__ = (Index("ix_collection_notices_status", "status", "send_on"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    borrower_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # reminder | overdue_notice
    send_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # queued | sent
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CollectionContact(Base):
    """The collection log: every contact attempted, made or refused with the rule it broke."""

    __tablename__ = "collection_contacts"
    __table_args__ = (Index("ix_collection_contacts_borrower_date", "borrower_id", "local_date"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int | None] = mapped_column(Id, ForeignKey("listings.id"), nullable=True)
    borrower_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("borrower_contacts.id"), nullable=True
    )
    notice_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("collection_notices.id"), nullable=True
    )
    collector_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(16))  # borrower | contact
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))  # made | refused
    rule_id: Mapped[str | None] = mapped_column(String(48), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
