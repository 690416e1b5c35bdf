"""Tables of the payment capability (money columns are BigInteger fen)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id


class PaymentOrder(Base):
    """A deposit (充值) or withdrawal (提现) through the gateway."""

    __tablename__ = "payment_orders"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("settled_fen IS NULL OR settled_fen > 0", name="settled_positive"),
        Index("ix_payment_orders_user_day", "user_id", "kind", "business_date"),
        Index("ix_payment_orders_day_channel", "business_date", "channel"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    #: Whose wallet: investor, borrower, guarantor or originator.
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    gateway_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pay_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The gateway transaction that settled the order, and the amount it moved.
    txn_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    settled_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GatewayTransaction(Base):
    """A gateway transaction the platform took into its books. The unique `txn_id`, inserted in
    the same transaction as its ledger effect, is what makes a duplicated callback post once."""

    __tablename__ = "gateway_transactions"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("payment_orders.id"), nullable=True, index=True
    )
    #: deposit, payout or refund; succeeded or failed; the gateway's amount.
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    #: The gateway's business day (China Standard Time) — the statement it belongs to.
    gateway_date: Mapped[date] = mapped_column(Date, index=True)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: callback, statement (applied by reconciliation) or refund (an operator's refund).
    source: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GatewayEntry(Base):
    """The journal entries that account for a gateway transaction; reconciliation sums their
    postings on custody:cash and compares them with the statement."""

    __tablename__ = "gateway_entries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    txn_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("gateway_transactions.txn_id"), index=True
    )
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("journal_entries.id"), unique=True)
    purpose: Mapped[str] = mapped_column(String(24))


class GatewayCallback(Base):
    """Every callback received, raw, with the verdict it got (append-only audit)."""

    __tablename__ = "gateway_callbacks"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    merchant_header: Mapped[str] = mapped_column(String(64), default="")
    timestamp_header: Mapped[str] = mapped_column(String(32), default="")
    signature_header: Mapped[str] = mapped_column(String(160), default="")
    body: Mapped[str] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String(32))
    http_status: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    txn_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    order_no: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)


class PaymentException(Base):
    """A discrepancy an operator resolves through the ledger, with a reason. Amounts are signed
    effects on custody:cash: what the gateway says and what the ledger holds."""

    __tablename__ = "payment_exceptions"
    __table_args__ = (Index("ix_payment_exceptions_status_day", "status", "business_date"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    #: One exception per discrepancy: e.g. "missing_in_ledger:T123", "custody_mismatch:2026-11-28".
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: callback or reconciliation
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    business_date: Mapped[date] = mapped_column(Date)
    txn_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    order_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("payment_orders.id"), nullable=True, index=True
    )
    gateway_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ledger_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    detail: Mapped[Any] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(24), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    entry_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("journal_entries.id"), nullable=True
    )
