"""Information disclosure and analytics history (issue #17): tables with migration 0018.

- `bucket_history`: each live loan's overdue bucket as close of business left it, one row per
  loan and business date (the roll rates compare two dates);
- `disclosure_reports`: the monthly operating reports, stored once when published and never
  changed (on PostgreSQL a trigger refuses UPDATE and DELETE; the digest is checked on read);
- `disclosure_events`: major events (重大事项) an operator recorded, public at once, append-only;
- `related_parties`: users an operator recorded as related to the platform (关联方), each
  from `since` to `until` (both included; open while `until` is empty), with migration 0023;
- `post_loan_updates`: what an operator reported about a funded loan after funding (借后信息).
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id

__all__ = ["BucketHistory", "DisclosureEvent", "DisclosureReport", "PostLoanUpdate",
           "RelatedParty"]


class BucketHistory(Base):
    """A loan's bucket and what it owes at the close of one business date."""

    __tablename__ = "bucket_history"
    __table_args__ = (Index("ix_bucket_history_listing", "listing_id", "business_date"),)

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    listing_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    bucket: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    outstanding_principal_fen: Mapped[int] = mapped_column(BigInteger)
    #: Scheduled interest not yet repaid (any payer), and what has fallen due and is unpaid.
    outstanding_interest_fen: Mapped[int] = mapped_column(BigInteger)
    overdue_fen: Mapped[int] = mapped_column(BigInteger)


class DisclosureReport(Base):
    """One month's operating report as published: its figures as canonical JSON text and the
    SHA-256 of that text."""

    __tablename__ = "disclosure_reports"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # 'YYYY-MM'
    as_of: Mapped[date] = mapped_column(Date)  # the month's last day
    due_on: Mapped[date] = mapped_column(Date)  # the 5th working day of the next month
    published_on: Mapped[date] = mapped_column(Date)  # business date of publication
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean)
    published_by: Mapped[str] = mapped_column(String(32))  # 'close-of-business' | user id
    content: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))


class DisclosureEvent(Base):
    """A major event (重大事项), public from the moment it is recorded."""

    __tablename__ = "disclosure_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    recorded_by: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    late: Mapped[bool] = mapped_column(Boolean)  # recorded more than 48 hours after


class RelatedParty(Base):
    """A user related to the platform (shareholder, officer, their relatives, affiliates)
    from `since` to `until`, both days included; one user's periods never overlap."""

    __tablename__ = "related_parties"
    __table_args__ = (
        CheckConstraint("until IS NULL OR until >= since", name="until_not_before_since"),
        Index("ix_related_parties_user", "user_id", "since"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    relation: Mapped[str] = mapped_column(String(64))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_by: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PostLoanUpdate(Base):
    """One post-loan report on a funded loan, for the period ending `period_end`."""

    __tablename__ = "post_loan_updates"
    __table_args__ = (UniqueConstraint("listing_id", "period_end", name="update_period"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), index=True)
    period_end: Mapped[date] = mapped_column(Date)
    items: Mapped[Any] = mapped_column(JSON)
    recorded_on: Mapped[date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
