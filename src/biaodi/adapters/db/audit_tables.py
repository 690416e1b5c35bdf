"""Tables of the audit trail: one record per committed transaction that changed state or moved
money, chained by hash, and an index of the listings, loans, users and payment orders each
record is about.

Append-only: nothing in Biaodi updates or deletes these rows (on PostgreSQL a trigger refuses
it). `biaodi audit verify` recomputes the chain and names the first record changed, deleted
or out of order (docs/RELIABILITY.md, "Audit trail")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base

__all__ = ["AuditHead", "AuditRecord", "AuditSubject", "Base"]

#: The hash the first record chains to.
GENESIS_HASH = "0" * 64


class AuditRecord(Base):
    """One transaction's record. `payload` is canonical JSON text (sorted keys, no floats,
    money in integer fen) listing the transaction's events; `hash` is the SHA-256 (hex) of
    `prev_hash` followed by `payload`, `prev_hash` the previous record's hash."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    business_date: Mapped[date] = mapped_column(Date)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    request_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditSubject(Base):
    """What a record is about: (kind, id) with kind listing, loan, user, payment_order, sale."""

    __tablename__ = "audit_subjects"
    __table_args__ = (
        Index("ix_audit_subjects_subject", "subject_kind", "subject_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subject_kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    subject_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditHead(Base):
    """The chain's head, one row (id 1): the last record's number and hash. Every writer takes
    it last in its transaction, so records are numbered in commit order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
