"""A listing's all-in cost and the cost cap it must pass.

Cost cap (法释〔2020〕17号 art. 25, 29; the compliance profile's `cost_cap_lpr_multiple`): the
borrower's annualised cost — contract interest + fees (guarantee fee a year, the service fee
spread over the term) + penalty — may not exceed the multiple × the one-year LPR in force when
the loan is made. A listing whose interest and fees alone break it is refused when it is
created; servicing applies the same cap to penalty interest (`domain.servicing.penalty`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from biaodi.domain.listings.policy import ListingTerms, percent, policy_for
from biaodi.domain.shared.compliance import COST_CAP, ComplianceProfile, ComplianceViolation

PPM = 1_000_000
DAYS_A_YEAR = 365


def to_ppm(rate: Decimal) -> int:
    """A Decimal fraction as whole parts per million, rounded up (a cost is never understated)."""
    return int((rate * PPM).to_integral_value(rounding=ROUND_CEILING))


def annualised_fee_ppm(fee_rate: Decimal, term: int, term_unit: str) -> int:
    """A one-off fee on the amount spread over the term, as a yearly rate in ppm (rounded up)."""
    periods = Decimal(12 if term_unit == "month" else DAYS_A_YEAR)
    return to_ppm(fee_rate * periods / term)


@dataclass(frozen=True)
class Cost:
    """A loan's annual cost parts in ppm."""

    interest_ppm: int  # contract rate plus yearly fees of the type (guarantee fee)
    service_fee_ppm: int  # the one-off service fee, annualised over the term
    penalty_ppm: int = 0  # the daily penalty rate × 365

    @property
    def total_ppm(self) -> int:
        return self.interest_ppm + self.service_fee_ppm + self.penalty_ppm


def cap_ppm(profile: ComplianceProfile, one_year_lpr_ppm: int | None) -> int | None:
    """The profile's cap on the all-in annual rate, in ppm; None when there is no cap or the
    LPR for the date is unknown."""
    if profile.cost_cap_lpr_multiple is None or one_year_lpr_ppm is None:
        return None
    return profile.cost_cap_lpr_multiple * one_year_lpr_ppm


def refuse_cost(cost_ppm: int, cap: int, profile: ComplianceProfile, what: str, field: str) -> None:
    raise ComplianceViolation(
        COST_CAP,
        f"{what} {percent(Decimal(cost_ppm) / PPM)} a year exceeds {percent(Decimal(cap) / PPM)}"
        f" ({profile.cost_cap_lpr_multiple}× the one-year LPR)", field=field)


def check_listing_cost(cost: Cost, profile: ComplianceProfile, lpr_ppm: int | None) -> None:
    """Refuse a listing whose contract interest and fees alone break the cap."""
    cap = cap_ppm(profile, lpr_ppm)
    base = cost.interest_ppm + cost.service_fee_ppm
    if cap is not None and base > cap:
        refuse_cost(base, cap, profile, "all-in cost (interest and fees)", "annual_rate")


def check_listing_cost_cap(kind: str, terms: ListingTerms, security: object,
                           profile: ComplianceProfile, service_fee_rate: Decimal,
                           one_year_lpr_ppm: int | None) -> None:
    """Refuse a listing whose interest and fees (the type's cost rate, the service fee spread
    over the term) exceed the profile's cap at the given one-year LPR."""
    policy = policy_for(kind)
    cost = Cost(interest_ppm=to_ppm(policy.cost_rate(terms, security)),  # type: ignore[attr-defined]
                service_fee_ppm=annualised_fee_ppm(service_fee_rate, terms.term,
                                                   terms.term_unit))
    check_listing_cost(cost, profile, one_year_lpr_ppm)
