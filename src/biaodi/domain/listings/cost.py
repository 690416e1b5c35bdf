"""A listing's all-in cost and the cost cap it must pass.

Cost cap (the compliance profile's dated table `cost_caps`): the borrower's annualised cost —
contract interest + fees (the service and guarantee fees, yearly rates charged with each
instalment) + penalty — may not exceed the cap for the contract date: 24 % a year for contracts
made before 2020-08-20 (法释〔2015〕18号 art. 26, 30), then 4 × the one-year LPR in force that
day (法释〔2020〕17号 art. 25, 29). Interest and fees are measured together as the IRR of the
borrower's cash flows (`domain.listings.fees`); a listing whose all-in cost breaks the cap is
refused when it is created; servicing applies the same cap to penalty interest
(`domain.servicing.penalty`). Every refusal names the rule and the date whose cap it applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import NoReturn

from biaodi.domain.listings.fees import all_in_cost, fee_schedule
from biaodi.domain.listings.policy import ListingTerms, percent
from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.shared.compliance import ComplianceProfile, ComplianceViolation, CostCap

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


def check_listing_cost_cap(all_in: Decimal, profile: ComplianceProfile, on: date,
                           one_year_lpr_ppm: int | None) -> None:
    """Refuse a listing whose all-in yearly cost (interest and every fee, as an IRR) exceeds
    the profile's cap for a contract made on `on` (with the one-year LPR in force that day)."""
    check_listing_cost(Cost(interest_ppm=to_ppm(all_in), service_fee_ppm=0), profile, on,
                       one_year_lpr_ppm)
