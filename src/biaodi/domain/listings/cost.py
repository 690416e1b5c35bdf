"""A listing's all-in cost and the cost cap it must pass.

Cost cap (法释〔2020〕17号 art. 25, 29; the compliance profile's `cost_cap_lpr_multiple`): the
borrower's annualised cost — contract interest + fees (the service and guarantee fees, yearly
rates charged with each instalment) + penalty — may not exceed the multiple × the one-year LPR
in force when the loan is made. Interest and fees are measured together as the IRR of the
borrower's cash flows (`domain.listings.fees`); a listing whose all-in cost breaks the cap is
refused when it is created; servicing applies the same cap to penalty interest
(`domain.servicing.penalty`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from biaodi.domain.listings.fees import all_in_cost, fee_schedule
from biaodi.domain.listings.policy import ListingTerms, percent
from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.shared.compliance import COST_CAP, ComplianceProfile, ComplianceViolation

PPM = 1_000_000
DAYS_A_YEAR = 365


def to_ppm(rate: Decimal) -> int:
    """A Decimal fraction as whole parts per million, rounded up (a cost is never understated)."""
    return int((rate * PPM).to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True)
class Cost:
    """A loan's annual cost parts in ppm."""

    interest_ppm: int  # the contract's all-in yearly cost: interest and fees, as an IRR
    service_fee_ppm: int  # any other yearly cost outside the contract's schedule
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


def listing_all_in_cost(terms: ListingTerms, service_fee_rate: Decimal,
                        guarantee_fee_rate: Decimal, start: date) -> Decimal:
    """The all-in yearly cost of a listing's contract: the IRR of the full principal received
    and every instalment paid with its fees (`domain.listings.fees`)."""
    schedule = build_schedule(terms.amount, terms.annual_rate, terms.term, terms.term_unit,
                              terms.repayment_method, start)
    fees = fee_schedule(schedule, terms.amount, service_fee_rate, guarantee_fee_rate,
                        terms.term, terms.term_unit, terms.repayment_method)
    return all_in_cost(terms.amount, schedule, fees, terms.term, terms.term_unit,
                       terms.repayment_method)


def check_listing_cost_cap(all_in: Decimal, profile: ComplianceProfile,
                           one_year_lpr_ppm: int | None) -> None:
    """Refuse a listing whose all-in yearly cost (interest and every fee, as an IRR) exceeds
    the profile's cap at the given one-year LPR."""
    check_listing_cost(Cost(interest_ppm=to_ppm(all_in), service_fee_ppm=0), profile,
                       one_year_lpr_ppm)
