"""Listing types (标的类型): one policy module per type, found through `policy_for(kind)`."""

from biaodi.domain.listings.policy import (
    DefaultAction,
    FundingRules,
    FundingSettings,
    Gap,
    InterestStart,
    ListingConfig,
    ListingContext,
    ListingKind,
    ListingPolicy,
    ListingTerms,
    NotPublishable,
    RiskLabel,
    Severity,
    all_policies,
    policy_for,
)

__all__ = [
    "DefaultAction",
    "FundingRules",
    "FundingSettings",
    "Gap",
    "InterestStart",
    "ListingConfig",
    "ListingContext",
    "ListingKind",
    "ListingPolicy",
    "ListingTerms",
    "NotPublishable",
    "RiskLabel",
    "Severity",
    "all_policies",
    "policy_for",
]
