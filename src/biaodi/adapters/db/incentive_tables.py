"""Incentives (issue #20): marketing campaigns, coupon templates, the coupons issued to
investors (红包 cash coupons and 加息券 rate boosts), trial principal (体验金), referrals and
points. Money columns are BigInteger fen; rates are ppm a year; a boost's accrual is kept in
micro-fen (millionths of a fen) so that whole fen are paid and nothing is lost to rounding."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from biaodi.adapters.db.tables import Base, Id

__all__ = ["Base", "CouponTemplate", "IncentiveCampaign", "IncentiveCoupon", "PointsEntry",
           "Referral", "TrialPrincipal"]


class IncentiveCampaign(Base):
    """A marketing campaign: a budget, a fixed end date and the rule text shown to the public.
    `spent_fen` is what its coupons, boosts and trials have paid out (kept in the payout's own
    transaction)."""

    __tablename__ = "incentive_campaigns"
    __table_args__ = (
        CheckConstraint("budget_fen > 0", name="budget_positive"),
        CheckConstraint("spent_fen >= 0", name="spent_not_negative"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    rule_text: Mapped[str] = mapped_column(Text)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    spent_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CouponTemplate(Base):
    """What a coupon of a campaign gives and when it may be used. `kind`: cash (红包, a fixed
    amount paid when used), boost (加息券, `rate_ppm` a year on the holding for `days`), trial
    (体验金, `amount_fen` of notional principal earning `rate_ppm` for `days`)."""

    __tablename__ = "coupon_templates"
    __table_args__ = (
        CheckConstraint("kind IN ('cash', 'boost', 'trial')", name="kind_known"),
        CheckConstraint("validity_days > 0", name="validity_positive"),
        CheckConstraint("min_invest_fen >= 0", name="min_invest_not_negative"),
        CheckConstraint("per_user_count > 0", name="per_user_positive"),
        CheckConstraint("issued_count >= 0", name="issued_not_negative"),
        CheckConstraint("expected_use_ppm >= 0 AND expected_use_ppm <= 1000000",
                        name="expected_use_share"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Id, ForeignKey("incentive_campaigns.id"),
                                             index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rate_ppm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    validity_days: Mapped[int] = mapped_column(Integer)
    min_invest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    max_invest_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: Listing types allowed (empty: every type) and terms allowed ("12m", "30d"; empty: any).
    listing_kinds: Mapped[Any] = mapped_column(JSON, default=list)
    terms: Mapped[Any] = mapped_column(JSON, default=list)
    total_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    per_user_count: Mapped[int] = mapped_column(Integer, default=1)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)
    stackable: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_invest: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The share of issued coupons expected to be used (for the campaign's exposure).
    expected_use_ppm: Mapped[int] = mapped_column(Integer, default=1_000_000)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IncentiveCoupon(Base):
    """A coupon issued to one investor. issued → used (with the investment) | expired | void;
    a used boost then accrues on the investment's holding until it ends or is lost (the
    holding sold)."""

    __tablename__ = "incentive_coupons"
    __table_args__ = (
        CheckConstraint("face_fen >= 0", name="face_not_negative"),
        CheckConstraint("paid_fen >= 0", name="paid_not_negative"),
        Index("ix_incentive_coupons_user_status", "user_id", "status"),
        Index("ix_incentive_coupons_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    template_id: Mapped[int] = mapped_column(Id, ForeignKey("coupon_templates.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(Id, ForeignKey("incentive_campaigns.id"))
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))
    #: issued | used | expired | void; a boost after use: accruing → ended | lost
    status: Mapped[str] = mapped_column(String(16))
    face_fen: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    investment_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("investments.id"), nullable=True, index=True)
    used_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    accrued_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    accrued_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrialPrincipal(Base):
    """体验金: notional principal that earns real interest, paid in cash at maturity unless a
    withdrawal happened during the trial. One per real-name identity, device and mobile."""

    __tablename__ = "trial_principals"
    __table_args__ = (
        CheckConstraint("principal_fen > 0", name="principal_positive"),
        UniqueConstraint("identity_digest", name="uq_trial_principals_identity"),
        UniqueConstraint("device_digest", name="uq_trial_principals_device"),
        UniqueConstraint("mobile_digest", name="uq_trial_principals_mobile"),
        Index("ix_trial_principals_status_matures", "status", "matures_on"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    template_id: Mapped[int] = mapped_column(Id, ForeignKey("coupon_templates.id"))
    campaign_id: Mapped[int] = mapped_column(Id, ForeignKey("incentive_campaigns.id"))
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    rate_ppm: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    matures_on: Mapped[date] = mapped_column(Date)
    #: running → paid | void (a withdrawal during the trial)
    status: Mapped[str] = mapped_column(String(8))
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    identity_digest: Mapped[str] = mapped_column(String(64))
    device_digest: Mapped[str] = mapped_column(String(64))
    mobile_digest: Mapped[str] = mapped_column(String(64))
    settled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Referral(Base):
    """Who brought whom; the referrer's reward is paid once the referee has invested enough."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("referrer_id <> referee_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    referee_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), unique=True)
    reward_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rewarded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PointsEntry(Base):
    """Points earned (or spent, below zero) for one reason, once per (user, reason, ref)."""

    __tablename__ = "points_entries"
    __table_args__ = (UniqueConstraint("user_id", "reason", "ref", name="uq_points_entries_once"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(24))
    ref: Mapped[str] = mapped_column(String(48))
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
