"""Cash wallet and reward crowdfunding (issue #20). Money and fund units are BigInteger fen (a
money-market fund's unit is worth ¥1); a holder's exact income is kept in 10⁻⁸ fen, which is
exact for a 万份收益 published to four decimals."""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id

__all__ = ["Base", "CrowdPledge", "CrowdProject", "CrowdTier", "FundAccount", "FundBreak",
           "FundIncome", "FundOrderRow", "FundReconciliation", "FundYield"]


class FundAccount(Base):
    """An investor's account at the fund company, as the sales channel records it."""

    __tablename__ = "fund_accounts"
    __table_args__ = (
        CheckConstraint("units_fen >= 0", name="units_non_negative"),
        CheckConstraint("redeeming_fen >= 0", name="redeeming_non_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    investor_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), unique=True)
    fund_code: Mapped[str] = mapped_column(String(16))
    #: Given by the fund company when the relay opens the account (None until then).
    account_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    #: Confirmed units (income included), and units of ordinary redemptions not yet paid.
    units_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    redeeming_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Income at full precision (10⁻⁸ fen) and the whole fen posted from it so far.
    income_exact_e8: Mapped[int] = mapped_column(BigInteger, default=0)
    income_posted_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FundOrderRow(Base):
    """A subscription or redemption: recorded with its money movement (the outbox row), then
    sent to the fund company by the relay outside any transaction, under its fixed order_no."""

    __tablename__ = "fund_orders"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_fund_orders_status_confirm", "status", "confirm_date"),
        Index("ix_fund_orders_account_kind_trade", "account_id", "kind", "trade_date"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("fund_accounts.id"))
    #: subscribe | redeem | instant_redeem
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    #: pending (recorded, not yet taken by the fund) → placed → confirmed; or refused
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Computed by the fund's rules when recorded; replaced by the fund's own acknowledgement.
    trade_date: Mapped[date] = mapped_column(Date)
    confirm_date: Mapped[date] = mapped_column(Date)
    confirmed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: The relay's tries: how many, when the next is due (a lease while one is under way).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    placed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(String(400), default="", server_default="")


class FundYield(Base):
    """The fund's published 万份收益 for a day, in 10⁻⁴ yuan per 10,000 units."""

    __tablename__ = "fund_yields"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    fund_code: Mapped[str] = mapped_column(String(16))
    per_10k_e4: Mapped[int] = mapped_column(Integer)


class FundIncome(Base):
    """One holder's income for one day: exact, and the whole fen posted."""

    __tablename__ = "fund_income"
    __table_args__ = (UniqueConstraint("account_id", "day", name="uq_fund_income_account_day"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("fund_accounts.id"))
    day: Mapped[date] = mapped_column(Date)
    units_fen: Mapped[int] = mapped_column(BigInteger)
    exact_e8: Mapped[int] = mapped_column(BigInteger)
    posted_fen: Mapped[int] = mapped_column(BigInteger)


class FundBreak(Base):
    """A difference between our record of an account and the fund's statement for a day."""

    __tablename__ = "fund_breaks"
    __table_args__ = (
        UniqueConstraint("business_date", "account_no", "kind", name="uq_fund_breaks_day_acct"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    account_no: Mapped[str] = mapped_column(String(32))
    #: units_mismatch | redeeming_mismatch | missing_at_fund | missing_here
    kind: Mapped[str] = mapped_column(String(24))
    ours_fen: Mapped[int] = mapped_column(BigInteger)
    theirs_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: An operator's resolution: adjusted (the fund's figure taken, an adjusting entry posted)
    #: or timing (a timing difference, cleared by the statement of `cleared_on`).
    resolution: Mapped[str | None] = mapped_column(String(16), nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str] = mapped_column(String(400), default="", server_default="")
    cleared_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class FundReconciliation(Base):
    """One day's reconciliation against the fund's statement: how many lines, how many breaks."""

    __tablename__ = "fund_reconciliations"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    lines: Mapped[int] = mapped_column(Integer)
    breaks: Mapped[int] = mapped_column(Integer)
    reconciled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- reward crowdfunding (众筹): a product line of its own, outside the lending rules ----------
class CrowdProject(Base):
    """A reward-crowdfunding project: review → live → succeeded | failed (all-or-nothing)."""

    __tablename__ = "crowd_projects"
    __table_args__ = (
        CheckConstraint("goal_fen > 0", name="goal_positive"),
        CheckConstraint("raised_fen >= 0", name="raised_non_negative"),
        CheckConstraint("days BETWEEN 1 AND 60", name="days_in_range"),
        Index("ix_crowd_projects_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    goal_fen: Mapped[int] = mapped_column(BigInteger)
    raised_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    days: Mapped[int] = mapped_column(Integer)
    #: review → live | rejected; live → succeeded | failed (at the deadline's close of business)
    status: Mapped[str] = mapped_column(String(16))
    review_note: Mapped[str] = mapped_column(String(400), default="")
    live_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    settled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The 70 % released after success (due within 3 days) and the 30 % held for delivery.
    first_release_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    first_release_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    first_released_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    held_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    held_released_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: An operator's settlement of complaints on the held 30 %: released (to the owner) or
    #: refunded (to the complaining backers, pro rata), by whom and why.
    settlement: Mapped[str | None] = mapped_column(String(16), nullable=True)
    settled_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"), nullable=True)
    settlement_reason: Mapped[str] = mapped_column(String(400), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CrowdTier(Base):
    """A reward tier: its price, how many may take it, and when it is estimated to ship."""

    __tablename__ = "crowd_tiers"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("quota > 0", name="quota_positive"),
        CheckConstraint("taken >= 0 AND taken <= quota", name="taken_within_quota"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(Id, ForeignKey("crowd_projects.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    quota: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    ship_date: Mapped[date] = mapped_column(Date)


class CrowdPledge(Base):
    """One backer's support: a reward tier or none (no-reward support), and its delivery."""

    __tablename__ = "crowd_pledges"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(Id, ForeignKey("crowd_projects.id"), index=True)
    backer_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    tier_id: Mapped[int | None] = mapped_column(Id, ForeignKey("crowd_tiers.id"), nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    #: pledged → settled (the project succeeded) | refunded (it failed)
    status: Mapped[str] = mapped_column(String(16))
    #: none (no reward) | awaiting → shipped → confirmed | complained (→ confirmed, or
    #: resolved by an operator's settlement)
    delivery: Mapped[str] = mapped_column(String(16))
    tracking_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    shipped_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    confirmed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    complaint: Mapped[str | None] = mapped_column(String(400), nullable=True)
    #: What an operator's settlement of the complaints refunded to this backer from the held 30 %.
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
