"""The tunable numbers of servicing: per-type products (penalty rate, grace, allocation order),
the compliance profile's cost cap, chunk size, collection limits, and the hooks through which
servicing reaches the risk blacklist and the secondary market without importing them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType

from sqlalchemy import select

from biaodi.adapters.db.servicing_tables import ServicingProduct
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.config import Settings
from biaodi.domain.servicing.allocation import AllocationOrder
from biaodi.domain.servicing.buckets import DEFAULT_GRACE_DAYS
from biaodi.domain.servicing.conduct import REMINDER_DAYS_BEFORE, ConductRules
from biaodi.domain.servicing.penalty import DEFAULT_DAILY_PPM
from biaodi.domain.shared.compliance import DEFAULT_PROFILE, ComplianceProfile, profile_named


@dataclass(frozen=True)
class Product:
    """Servicing terms of a listing type; a loan copies them when servicing takes it over."""

    penalty_daily_ppm: int = DEFAULT_DAILY_PPM
    grace_days: int = DEFAULT_GRACE_DAYS
    order: AllocationOrder = field(default_factory=AllocationOrder)
    guarantor_full_at_m3: bool = True


@dataclass(frozen=True)
class ServicingRules:
    default_product: Product = field(default_factory=Product)
    products: Mapping[str, Product] = field(default_factory=lambda: MappingProxyType({}))
    profile: ComplianceProfile = DEFAULT_PROFILE
    chunk_size: int = 50_000
    chunk_pause_ms: int = 0
    conduct: ConductRules = field(default_factory=ConductRules)
    reminder_days: int = REMINDER_DAYS_BEFORE
    #: Lists a borrower more than 90 days past due on the risk blacklist: (unit of work,
    #: borrower id, days past due, reference). None: no blacklist (close of business still
    #: records the day the loan passed M3).
    list_defaulter: Callable[[UnitOfWork, int, int, str], None] | None = None
    #: Ends the open secondary-market offers of the loans in listing ids lo..hi that changed
    #: on the business date (arrears, an instalment fell due, closed): (unit of work, date,
    #: lo, hi) → offers ended. Wired by the platform to the secondary market; None: no market.
    end_offers_of_changed_loans: Callable[[UnitOfWork, date, int, int], int] | None = None
    #: Ends the open offers of one loan's holdings at once: (unit of work, listing id, reason).
    end_offers_of_loan: Callable[[UnitOfWork, int, str], int] | None = None

    def product_for(self, kind: str) -> Product:
        return self.products.get(kind, self.default_product)

    @classmethod
    def from_settings(cls, settings: Settings,
                      list_defaulter: Callable[[UnitOfWork, int, int, str], None] | None = None,
                      end_offers_of_changed_loans: Callable[[UnitOfWork, date, int, int], int]
                      | None = None,
                      end_offers_of_loan: Callable[[UnitOfWork, int, str], int] | None = None,
                      ) -> ServicingRules:
        product = Product(
            penalty_daily_ppm=settings.servicing_penalty_daily_ppm,
            grace_days=settings.servicing_grace_days,
            order=AllocationOrder.parse(settings.servicing_allocation_order),
            guarantor_full_at_m3=settings.servicing_guarantor_full_at_m3,
        )
        return cls(
            default_product=product,
            profile=profile_named(settings.compliance_profile),
            list_defaulter=list_defaulter,
            end_offers_of_changed_loans=end_offers_of_changed_loans,
            end_offers_of_loan=end_offers_of_loan,
            chunk_size=settings.servicing_chunk_size,
            chunk_pause_ms=settings.servicing_chunk_pause_ms,
            conduct=ConductRules(
                window=ConductRules.parse_window(settings.servicing_contact_window),
                daily_limit=settings.servicing_contacts_per_day,
            ),
        )

    def with_products(self, uow: UnitOfWork) -> ServicingRules:
        """These rules with the products operators configured (table `servicing_products`)."""
        stored = {
            row.kind: Product(row.penalty_daily_ppm, row.grace_days,
                              AllocationOrder.parse(row.allocation_order),
                              row.guarantor_full_at_m3)
            for row in uow.s.scalars(select(ServicingProduct))
        }
        return replace(self, products=MappingProxyType({**self.products, **stored}))
