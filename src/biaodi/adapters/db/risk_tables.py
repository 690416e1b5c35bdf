"""Tables of the risk capability (money columns are BigInteger fen, rates parts per million).

Personal values that identify a person (ID number, phone, bank card, device) are stored as
keyed digests (`PersonalDataCipher.digest`) for matching across identities, plus a masked form
to show; the clear values stay in the encrypted user record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id


class RiskApplication(Base):
    """A borrower's application as submitted: the data every check and the model read."""

    __tablename__ = "risk_applications"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("term_months > 0", name="term_positive"),
        CheckConstraint("monthly_income_fen >= 0", name="income_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    borrower_type: Mapped[str] = mapped_column(String(8))
    listing_kind: Mapped[str] = mapped_column(String(16))
    listing_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    monthly_income_fen: Mapped[int] = mapped_column(BigInteger)
    id_digest: Mapped[str] = mapped_column(String(64), index=True)
    mobile_digest: Mapped[str] = mapped_column(String(64), index=True)
    card_digest: Mapped[str] = mapped_column(String(64), index=True)
    card_masked: Mapped[str] = mapped_column(String(24))
    device_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    #: The remaining declared fields (employment, housing, debts …), none of them identifying.
    data: Mapped[Any] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RiskDecision(Base):
    """The decision on one application: outcome, score, grade, terms, rules and reasons."""

    __tablename__ = "risk_decisions"
    __table_args__ = (
        CheckConstraint("outcome IN ('approved', 'referred', 'refused')", name="outcome_known"),
        CheckConstraint("limit_fen >= 0", name="limit_not_negative"),
        Index("ix_risk_decisions_user_decided", "user_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        Id, ForeignKey("risk_applications.id"), unique=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    #: The engine's outcome; `outcome` changes only when a risk officer decides a referral.
    auto_outcome: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(12))
    score: Mapped[int] = mapped_column(Integer)
    pd_ppm: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(4))
    expected_default_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_min_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_max_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    limit_fen: Mapped[int] = mapped_column(BigInteger)
    limit_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_bump: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    challenger_pd_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pack_name: Mapped[str] = mapped_column(String(32))
    pack_version: Mapped[str] = mapped_column(String(32))
    fired_rules: Mapped[Any] = mapped_column(JSON, default=list)
    reasons: Mapped[Any] = mapped_column(JSON, default=list)
    #: The model inputs as scored (for PSI monitoring); no identifying values.
    inputs: Mapped[Any] = mapped_column(JSON, default=dict)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    review_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class BlacklistEntry(Base):
    """One listed value (动态黑名单). Active while not removed and not expired."""

    __tablename__ = "blacklist_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('id_number', 'mobile', 'bank_card', 'device')",
                        name="kind_known"),
        Index("ix_blacklist_entries_lookup", "kind", "value_digest"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value_digest: Mapped[str] = mapped_column(String(64))
    value_masked: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    #: Where it came from: "servicing", "fraud", "linked", "operator", "bureau".
    source: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    linked_entry_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("blacklist_entries.id"), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    removal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class BlacklistAudit(Base):
    """Every change to the blacklist, append-only."""

    __tablename__ = "blacklist_audit"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("blacklist_entries.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # added | removed
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RiskModelRow(Base):
    """Model registry: each model version that made a decision, with its model card."""

    __tablename__ = "risk_models"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    card: Mapped[Any] = mapped_column(JSON)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PsiSnapshot(Base):
    """A recorded PSI check of the score and every input against the training baseline."""

    __tablename__ = "risk_psi_snapshots"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    applications: Mapped[int] = mapped_column(Integer)
    score_psi: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(8))
    result: Mapped[Any] = mapped_column(JSON)
