"""Tables of the secondary market (债权转让): offers of holdings and the purchases that settle
them. Money columns are BigInteger fen; rates are signed ppm."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id

__all__ = ["Base", "SecondaryPurchase", "SecondarySale"]


class SecondarySale(Base):
    """A holder's offer of all or part of a holding's outstanding principal, priced as a
    premium (or, below zero, a discount) to fair value on the day each part is bought."""

    __tablename__ = "secondary_sales"
    __table_args__ = (
        CheckConstraint("principal_fen > 0", name="principal_positive"),
        CheckConstraint("remaining_fen >= 0 AND remaining_fen <= principal_fen",
                        name="remaining_within_principal"),
        Index("ix_secondary_sales_status_listing", "status", "listing_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    holding_id: Mapped[int] = mapped_column(Id, ForeignKey("holdings.id"), index=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    seller_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    #: Principal offered, and what buyers have not taken yet (the hot row of a rush).
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    remaining_fen: Mapped[int] = mapped_column(BigInteger)
    premium_ppm: Mapped[int] = mapped_column(Integer)
    #: open → sold (all taken) | cancelled (by the seller, or by servicing: see cancel_reason)
    status: Mapped[str] = mapped_column(String(16))
    #: seller | loan_overdue | repaid_early | instalment_due | loan_closed
    cancel_reason: Mapped[str | None] = mapped_column(String(24), nullable=True)
    listed_on: Mapped[date] = mapped_column(Date)
    #: As quoted when offered (a buyer pays the price of the day of purchase).
    fair_value_fen: Mapped[int] = mapped_column(BigInteger)
    asking_price_fen: Mapped[int] = mapped_column(BigInteger)
    yield_ppm: Mapped[int] = mapped_column(Integer)
    expected_loss_ppm: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SecondaryPurchase(Base):
    """One buyer's purchase of part of a sale, settled in one journal entry: the buyer's new
    holding takes its exact share of every future instalment from the seller's."""

    __tablename__ = "secondary_purchases"
    __table_args__ = (
        CheckConstraint("principal_fen > 0 AND price_fen > 0 AND fee_fen >= 0"
                        " AND accrued_interest_fen >= 0", name="amounts_valid"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sale_id: Mapped[int] = mapped_column(Id, ForeignKey("secondary_sales.id"), index=True)
    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"))
    buyer_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    seller_holding_id: Mapped[int] = mapped_column(Id, ForeignKey("holdings.id"))
    buyer_holding_id: Mapped[int] = mapped_column(Id, ForeignKey("holdings.id"), unique=True)
    business_date: Mapped[date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    #: Interest of the current period accrued to the sale date on the part bought: the
    #: seller's, paid to it inside the price.
    accrued_interest_fen: Mapped[int] = mapped_column(BigInteger)
    fair_value_fen: Mapped[int] = mapped_column(BigInteger)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    yield_ppm: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
