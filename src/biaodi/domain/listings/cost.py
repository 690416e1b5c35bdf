"""A listing's all-in cost and the cost cap it must pass.

Cost cap (the compliance profile's dated table `cost_caps`): the borrower's annualised cost —
contract interest + fees (guarantee fee a year, the service fee spread over the term) + penalty —
may not exceed the cap for the contract date: 24 % a year for contracts made before 2020-08-20
(法释〔2015〕18号 art. 26, 30), then 4 × the one-year LPR in force that day (法释〔2020〕17号
art. 25, 29). A listing whose interest and fees alone break it is refused when it is created;
servicing applies the same cap to penalty interest (`domain.servicing.penalty`). Every refusal
names the rule and the date whose cap it applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import NoReturn

from biaodi.domain.listings.policy import ListingTerms, percent, policy_for
from biaodi.domain.shared.compliance import ComplianceProfile, ComplianceViolation, CostCap

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


def cost_cap(profile: ComplianceProfile, on: date, one_year_lpr_ppm: int | None
             ) -> tuple[CostCap, int] | None:
    """The line of the profile's cost-cap table for a contract made on `on` and its cap on
    the all-in annual rate in ppm; None when there is no cap or it rests on an LPR unknown
    for the date."""
    line = profile.cost_cap_on(on)
    cap = None if line is None else line.rate_ppm(one_year_lpr_ppm)
    return None if line is None or cap is None else (line, cap)


def cap_ppm(profile: ComplianceProfile, on: date, one_year_lpr_ppm: int | None) -> int | None:
    """Only the cap of `cost_cap`, in ppm."""
    found = cost_cap(profile, on, one_year_lpr_ppm)
    return None if found is None else found[1]


def refuse_cost(cost_ppm: int, line: CostCap, cap: int, on: date, what: str,
                field: str) -> NoReturn:
    """Refuse a cost above the cap of `line`, naming its rule and the contract date."""
    raise ComplianceViolation(
        line.rule,
        f"{what} {percent(Decimal(cost_ppm) / PPM)} a year exceeds {percent(Decimal(cap) / PPM)},"
        f" the cap for a contract made on {on.isoformat()} ({line.describe()})", field=field)


def check_listing_cost(cost: Cost, profile: ComplianceProfile, on: date,
                       lpr_ppm: int | None) -> None:
    """Refuse a listing whose contract interest and fees alone break the cap of `on`."""
    found = cost_cap(profile, on, lpr_ppm)
    base = cost.interest_ppm + cost.service_fee_ppm
    if found is not None and base > found[1]:
        refuse_cost(base, *found, on, "all-in cost (interest and fees)", "annual_rate")


def check_listing_cost_cap(kind: str, terms: ListingTerms, security: object,
                           profile: ComplianceProfile, service_fee_rate: Decimal,
                           on: date, one_year_lpr_ppm: int | None) -> None:
    """Refuse a listing whose interest and fees (the type's cost rate, the service fee spread
    over the term) exceed the profile's cap for a contract made on `on` (with the one-year LPR
    in force that day)."""
    policy = policy_for(kind)
    cost = Cost(interest_ppm=to_ppm(policy.cost_rate(terms, security)),  # type: ignore[attr-defined]
                service_fee_ppm=annualised_fee_ppm(service_fee_rate, terms.term,
                                                   terms.term_unit))
    check_listing_cost(cost, profile, on, one_year_lpr_ppm)
