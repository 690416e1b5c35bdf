"""Listing types (标的类型): one policy module per type, found through `policy_for(kind)`."""

from biaodi.domain.listings import collateral, credit, guarantee, instant, transfer
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
    register,
)

# The types, registered in the order they are shown; a new type is one more module here.
for _module in (credit, collateral, guarantee, transfer, instant):
    register(_module.POLICY)

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
    "register",
]
