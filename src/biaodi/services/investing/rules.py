"""The tunable numbers of investing, with their documented defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import DEFAULT_LIMITS, InvestorLevel, LevelLimits
from biaodi.services.listings.lifecycle import ListingRules


@dataclass(frozen=True)
class InvestingRules:
    listing: ListingRules = field(default_factory=ListingRules)
    #: Most of one listing a single investor may take (rounded down to the step).
    per_investor_share: Decimal = Decimal("0.50")
    #: Most of a new listing that auto-invest may take before manual investing opens.
    auto_invest_share: Decimal = Decimal("0.70")
    level_limits: dict[InvestorLevel, LevelLimits] = field(
        default_factory=lambda: dict(DEFAULT_LIMITS)
    )
    #: Checks the applicant again right before money goes out (the risk blacklist); raises a
    #: BiaodiError to stop the disbursement. None: no screening.
    screen_applicant: Callable[[UnitOfWork, int], None] | None = None
