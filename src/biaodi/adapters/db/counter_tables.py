"""Maintained counters on money paths (issue #15): figures a check needs on every request,
kept in the same transaction as the movements they sum, instead of a SUM over history.

Triggers installed by migration 0017 keep them (statement-level with transition tables on
PostgreSQL, row-level on SQLite), so every writer of `investments` and `holdings` — the
investment, a failed listing's refund, funding, collection, a secondary purchase, a write-off
— moves them without knowing they exist. `services/investing/counters.mismatches` recomputes
them from history (`biaodi ledger verify` runs it). No CHECK (>= 0) on the values: an upsert's
proposed row carries the delta, which is negative for a decrease, and both databases check a
proposed row before they find the conflict."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id

__all__ = ["Base", "InvestorExposure", "ListingStake"]


class InvestorExposure(Base):
    """One investor's money at risk: frozen subscriptions plus the outstanding principal of
    active holdings (what suitability's total-outstanding limit counts)."""

    __tablename__ = "investor_exposure"

    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True,
                                             autoincrement=False)
    outstanding_fen: Mapped[int] = mapped_column(BigInteger)


class ListingStake(Base):
    """What one investor has taken of one listing: frozen and settled subscriptions (what the
    per-investor cap counts)."""

    __tablename__ = "listing_stakes"

    listing_id: Mapped[int] = mapped_column(Id, ForeignKey("listings.id"), primary_key=True,
                                            autoincrement=False)
    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True,
                                             autoincrement=False)
    stake_fen: Mapped[int] = mapped_column(BigInteger)
