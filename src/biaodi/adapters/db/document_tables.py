"""E-contracts and customer service (issue #19): the issued contract files with their SHA-256
and signing events; support tickets, their conversation, canned answers and the FAQ."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id

__all__ = [
    "Base",
    "CannedAnswer",
    "ContractDocument",
    "ContractSignature",
    "FaqEntry",
    "SupportMessage",
    "SupportTicket",
]


class ContractDocument(Base):
    """One party's copy of a contract, as issued: the PDF bytes and their SHA-256 (the other
    parties are masked in it, so every party has its own copy and hash)."""

    __tablename__ = "contract_documents"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "party_id", name="kind_subject_party"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    #: loan_agreement | transfer_agreement | guarantee_letter
    kind: Mapped[str] = mapped_column(String(24))
    #: What the contract is about: "listing:<id>" or "purchase:<id>".
    subject: Mapped[str] = mapped_column(String(32))
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), index=True)
    party_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    #: borrower | investor | guarantor | seller | buyer
    party_role: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    template_version: Mapped[str] = mapped_column(String(16))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContractSignature(Base):
    """A party's acceptance of a contract: who, in which role, by which act, when."""

    __tablename__ = "contract_signatures"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    document_id: Mapped[int] = mapped_column(Id, ForeignKey("contract_documents.id"),
                                             index=True)
    #: None for the platform itself (it signs as the intermediary).
    user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"), nullable=True)
    party_role: Mapped[str] = mapped_column(String(16))
    #: The act that accepted it, e.g. "investment 12", "listing 5 published".
    act: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupportTicket(Base):
    """A user's question or complaint (客服工单), optionally about one of their objects."""

    __tablename__ = "support_tickets"
    __table_args__ = (
        Index("ix_support_tickets_status_due", "status", "respond_by"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    priority: Mapped[str] = mapped_column(String(8))
    #: A complaint (投诉) counts in the public complaints figures.
    complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str] = mapped_column(String(120))
    #: listing | loan | payment_order | holding, and its id (checked to be the user's).
    reference_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reference_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: open → answered ⇄ open → resolved
    status: Mapped[str] = mapped_column(String(12))
    assignee_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"), nullable=True,
                                                    index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The category's response-time target from `opened_at`.
    respond_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                               nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")


class SupportMessage(Base):
    """One message of a ticket's conversation, from the user or from staff."""

    __tablename__ = "support_messages"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("support_tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    from_staff: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)
    canned_answer_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("support_canned_answers.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CannedAnswer(Base):
    """A prepared reply operators pick from (常用回复)."""

    __tablename__ = "support_canned_answers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    title: Mapped[str] = mapped_column(String(120), unique=True)
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(24), nullable=True)
    updated_by: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FaqEntry(Base):
    """A question and answer of the public FAQ, maintained by operators."""

    __tablename__ = "support_faq"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
