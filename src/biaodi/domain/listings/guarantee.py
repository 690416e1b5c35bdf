"""担保标 guarantee listing: a guarantor pays investors when the borrower is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from biaodi.domain.listings.policy import (
    BasePolicy,
    DefaultAction,
    Gap,
    ListingContext,
    ListingKind,
    ListingTerms,
    RiskLabel,
    Severity,
    percent,
)
from biaodi.domain.shared.compliance import ComplianceProfile
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

MAX_COMPENSATION_DAYS = 90
#: From this share of its capacity on, a guarantor is flagged as stretched to investors.
STRETCHED_UTILISATION = Decimal("0.80")


@dataclass(frozen=True)
class GuaranteeSecurity:
    """The guarantor as it stands now. `fee_rate` is a yearly rate on the principal, paid by
    the borrower; `compensation_days` is how many days past due the guarantor must pay."""

    guarantor_id: int
    guarantor_name: str
    capacity: Money  # most it may guarantee outstanding at once
    outstanding: Money  # what it already guarantees
    fee_rate: Decimal
    compensation_days: int = 3

    def headroom(self) -> Money:
        return self.capacity - self.outstanding


class GuaranteePolicy(BasePolicy):
    kind = ListingKind.GUARANTEE
    name_zh = "担保标"
    name_en = "Guarantee listing"
    security_type = GuaranteeSecurity
    default_action = DefaultAction.GUARANTOR_COMPENSATION

    def guarantee_fee_rate(self, security: GuaranteeSecurity) -> Decimal:
        return security.fee_rate

    def _validate(
        self, terms: ListingTerms, security: GuaranteeSecurity, ctx: ListingContext
    ) -> None:
        if not isinstance(security.guarantor_name, str) or not security.guarantor_name.strip():
            raise InvalidInput("the guarantor must be named", field="guarantor_name")
        if security.capacity.fen <= 0:
            raise InvalidInput("guarantor capacity must be positive", field="guarantor_capacity")
        if security.outstanding.fen < 0:
            raise InvalidInput("guarantor outstanding must not be negative",
                               field="guarantor_outstanding")
        fee = security.fee_rate
        if not isinstance(fee, Decimal) or not fee.is_finite() or not 0 <= fee < 1:
            raise InvalidInput("guarantee fee rate must be a Decimal fraction from 0 to 1",
                               field="guarantee_fee_rate")
        days = security.compensation_days
        if isinstance(days, bool) or not isinstance(days, int) or \
                not 1 <= days <= MAX_COMPENSATION_DAYS:
            raise InvalidInput(
                f"compensation deadline must be 1 to {MAX_COMPENSATION_DAYS} days past due",
                field="compensation_days")
        if terms.amount > security.capacity:
            raise InvalidInput(
                f"amount {terms.amount} exceeds the guarantor capacity {security.capacity}",
                field="amount")

    def _gaps(
        self, terms: ListingTerms, security: GuaranteeSecurity, ctx: ListingContext
    ) -> list[Gap]:
        after = security.outstanding + terms.amount
        if after <= security.capacity:
            return []
        return [Gap("guarantor_capacity",
                    f"guarantor capacity {security.capacity} of {security.guarantor_name} is"
                    f" exceeded: outstanding {security.outstanding} + amount {terms.amount}"
                    f" = {after}, short by {after - security.capacity}")]

    def risk_labels(
        self, terms: ListingTerms, security: GuaranteeSecurity, profile: ComplianceProfile
    ) -> list[RiskLabel]:
        days = security.compensation_days
        labels = [RiskLabel(
            "guaranteed", Severity.INFO,
            f"由{security.guarantor_name}提供本息担保，逾期{days}天后代偿",
            f"Guaranteed by {security.guarantor_name}, who pays principal and interest once"
            f" {days} days past due")]
        if security.capacity.fen <= 0:
            return labels
        used = Decimal((security.outstanding + terms.amount).fen) / security.capacity.fen
        if used >= STRETCHED_UTILISATION:
            share = percent(used.quantize(Decimal("0.001")))
            labels.append(RiskLabel(
                "guarantor_stretched", Severity.WARNING,
                f"担保方已使用其担保额度的 {share}，集中逾期时代偿能力有限",
                f"The guarantor has used {share} of its capacity; mass overdue loans could"
                " exhaust it"))
        return labels

    def base_risk_level(self, security: GuaranteeSecurity) -> int:
        return 3


POLICY = GuaranteePolicy()
