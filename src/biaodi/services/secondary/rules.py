"""The tunable numbers of the secondary market, with the investing and servicing rules a sale
and a purchase also answer to (minimum ticket, suitability, taking a loan into servicing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from biaodi.config import Settings
from biaodi.domain.secondary.valuation import SaleRules
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.servicing.rules import ServicingRules


@dataclass(frozen=True)
class SecondaryRules:
    sale: SaleRules = field(default_factory=SaleRules)
    investing: InvestingRules = field(default_factory=InvestingRules)
    servicing: ServicingRules = field(default_factory=ServicingRules)

    @classmethod
    def from_settings(cls, settings: Settings, investing: InvestingRules,
                      servicing: ServicingRules) -> SecondaryRules:
        return cls(
            sale=SaleRules(max_premium=settings.secondary_max_premium,
                           max_discount=settings.secondary_max_discount,
                           holding_period_days=settings.secondary_holding_days,
                           transfer_fee_rate=settings.secondary_transfer_fee),
            investing=investing, servicing=servicing)
