"""流转标 transfer listing: an originator sells shares of a claim it holds and buys it back at
maturity; each share earns interest from the day it is subscribed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from biaodi.domain.listings.policy import (
    BasePolicy,
    DefaultAction,
    FundingRules,
    FundingSettings,
    Gap,
    InterestStart,
    ListingConfig,
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


@dataclass(frozen=True)
class TransferSecurity:
    """The claim being sold and the originator's buy-back reserve balance right now."""

    originator_id: int
    claim_principal: Money
    claim_rate: Decimal
    claim_maturity: date
    reserve_balance: Money


def required_reserve(amount: Money, config: ListingConfig) -> Money:
    return amount.times_rate(config.buyback_reserve_ratio)


class TransferPolicy(BasePolicy):
    kind = ListingKind.TRANSFER
    name_zh = "流转标"
    name_en = "Transfer listing"
    security_type = TransferSecurity
    applicant_role = "originator"  # 债权出让方: the creditor selling shares of its claim
    # The originator buys the claim back at maturity, so principal returns in one sum.
    repayment_methods = frozenset({"bullet", "interest_first"})
    default_action = DefaultAction.ORIGINATOR_BUYBACK
    # Unsold shares simply stay with the originator, so partial funding is harmless here.
    default_funding = FundingSettings(partial_allowed=True)
    interest_start = InterestStart.ON_SUBSCRIPTION

    def funding_rules(self, config: ListingConfig) -> FundingRules:
        share = config.transfer_share_size
        return replace(super().funding_rules(config), min_ticket=share, step=share)

    def _validate(
        self, terms: ListingTerms, security: TransferSecurity, ctx: ListingContext
    ) -> None:
        if security.claim_principal.fen <= 0:
            raise InvalidInput("claim principal must be positive", field="claim_principal")
        rate = security.claim_rate
        if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 < rate < 1:
            raise InvalidInput("claim rate must be a Decimal fraction between 0 and 1",
                               field="claim_rate")
        if security.claim_maturity <= ctx.today:
            raise InvalidInput(f"the claim matured on {security.claim_maturity}",
                               field="claim_maturity")
        if security.reserve_balance.fen < 0:
            raise InvalidInput("reserve balance must not be negative", field="reserve_balance")
        share = ctx.config.transfer_share_size
        if terms.amount.fen % share.fen:
            raise InvalidInput(f"amount must be a whole number of {share}-yuan shares",
                               field="amount")
        if terms.amount > security.claim_principal:
            raise InvalidInput(
                f"amount {terms.amount} exceeds the claim principal {security.claim_principal}",
                field="amount")
        maturity = terms.maturity(ctx.today)
        if maturity > security.claim_maturity:
            raise InvalidInput(
                f"the listing would mature on {maturity}, after the claim matures on"
                f" {security.claim_maturity}", field="term")

    def _gaps(
        self, terms: ListingTerms, security: TransferSecurity, ctx: ListingContext
    ) -> list[Gap]:
        needed = required_reserve(terms.amount, ctx.config)
        if security.reserve_balance >= needed:
            return []
        ratio = percent(ctx.config.buyback_reserve_ratio)
        return [Gap("reserve_balance",
                    f"buy-back reserve {security.reserve_balance} is short by"
                    f" {needed - security.reserve_balance} of the {needed} required"
                    f" ({ratio} of the amount)")]

    def risk_labels(
        self, terms: ListingTerms, security: TransferSecurity, profile: ComplianceProfile
    ) -> list[RiskLabel]:
        return [
            RiskLabel("buyback_promise", Severity.INFO,
                      f"原债权人承诺到期回购；底层债权本金 {security.claim_principal.formatted()}"
                      f" 元，年利率 {percent(security.claim_rate)}，{security.claim_maturity} 到期",
                      "The originator promises to buy the claim back at maturity; underlying"
                      f" claim {security.claim_principal.formatted()} yuan at"
                      f" {percent(security.claim_rate)}, maturing {security.claim_maturity}"),
            RiskLabel("interest_from_subscription", Severity.INFO,
                      "认购当日起息", "Interest accrues from the day you subscribe"),
        ]

    def base_risk_level(self, security: TransferSecurity) -> int:
        return 3


POLICY = TransferPolicy()
