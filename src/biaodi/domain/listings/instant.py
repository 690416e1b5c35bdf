"""秒标 instant listing: repaid in full as soon as it is fully funded.

A promotional device the seed warns is a common disguise for fraud (fictitious listings,
self-financing, inflated yields). `cn-2016` bans it; `permissive` allows it only capped, with a
red flag, and counted in the platform's integrity metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from biaodi.domain.listings.policy import (
    BasePolicy,
    DefaultAction,
    FundingSettings,
    ListingContext,
    ListingKind,
    ListingTerms,
    RiskLabel,
    Severity,
)
from biaodi.domain.shared.compliance import (
    INSTANT_AMOUNT_CAP,
    INSTANT_LISTING_BAN,
    ComplianceProfile,
    ComplianceViolation,
)


@dataclass(frozen=True)
class InstantSecurity:
    """An instant listing has no security: it is repaid out of hand."""


class InstantPolicy(BasePolicy):
    kind = ListingKind.INSTANT
    name_zh = "秒标"
    name_en = "Instant listing"
    security_type = InstantSecurity
    repayment_methods = frozenset({"bullet"})  # repaid in one sum right after funding
    # Repayment is the publisher's bare promise: if it fails there is nothing to enforce.
    default_action = DefaultAction.WRITE_OFF
    default_funding = FundingSettings(window_days=1)
    settles_on_funding = True  # lifecycle: funded → settled directly
    counts_in_integrity_metrics = True
    transferable = False  # repaid the day it funds: nothing to sell on

    def _validate(
        self, terms: ListingTerms, security: InstantSecurity, ctx: ListingContext
    ) -> None:
        profile = ctx.profile
        if not profile.instant_allowed:
            raise ComplianceViolation(
                INSTANT_LISTING_BAN,
                f"instant listings (秒标) are not allowed under compliance profile"
                f" {profile.name}: they are a common cover for self-financing and fictitious"
                " listings",
                field="kind",
            )
        cap = profile.instant_amount_cap
        if cap is not None and terms.amount > cap:
            raise ComplianceViolation(
                INSTANT_AMOUNT_CAP,
                f"amount {terms.amount} exceeds the instant-listing cap {cap}",
                field="amount",
            )

    def risk_labels(
        self, terms: ListingTerms, security: InstantSecurity, profile: ComplianceProfile
    ) -> list[RiskLabel]:
        labels = [RiskLabel(
            "instant_listing", Severity.RED_FLAG,
            "秒标：满标即还的推广标，常被用作虚假标、自融的伪装，收益虚高，请高度警惕",
            "RED FLAG: an instant listing, repaid as soon as funded; often a disguise for"
            " fictitious listings or self-financing with inflated yields")]
        if not profile.instant_allowed:
            labels.append(RiskLabel(
                "prohibited_by_profile", Severity.RED_FLAG,
                f"合规规则 {INSTANT_LISTING_BAN.rule_id} 禁止此类标的",
                f"Forbidden by compliance rule {INSTANT_LISTING_BAN.rule_id}"))
        return labels

    def base_risk_level(self, security: InstantSecurity) -> int:
        return 5


POLICY = InstantPolicy()
