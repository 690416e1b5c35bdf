"""Penalty interest (罚息) and the all-in cost cap.

Penalty: each day past due beyond the grace period, the overdue amount (principal and interest
due and unpaid) × the product's daily rate, rounded half-up to the fen per creditor and day.

Cost cap (法释〔2020〕17号 art. 25, 29; the compliance profile's `cost_cap_lpr_multiple`): the
borrower's annualised cost — contract interest + fees (guarantee fee a year, the service fee
spread over the term) + penalty — may not exceed the multiple × the one-year LPR in force when
the loan is made. A listing whose interest and fees alone break it, or a product whose penalty
alone breaks it, is refused; for each loan the daily penalty rate is lowered to the largest
whole ppm a day that keeps the total within the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from biaodi.domain.listings.policy import percent
from biaodi.domain.shared.compliance import COST_CAP, ComplianceProfile, ComplianceViolation

PPM = 1_000_000
DAYS_A_YEAR = 365
#: 0.03 % a day (万分之三): 10.95 % a year, within 4 × a 3 % LPR together with modest rates.
DEFAULT_DAILY_PPM = 300


def daily_penalty(overdue_fen: int, daily_ppm: int) -> int:
    """One day's penalty on `overdue_fen`, rounded half-up (integer formula shared with SQL)."""
    if overdue_fen <= 0 or daily_ppm <= 0:
        return 0
    return (2 * overdue_fen * daily_ppm + PPM) // (2 * PPM)


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


def _refuse(cost_ppm: int, cap: int, profile: ComplianceProfile, what: str, field: str) -> None:
    raise ComplianceViolation(
        COST_CAP,
        f"{what} {percent(Decimal(cost_ppm) / PPM)} a year exceeds {percent(Decimal(cap) / PPM)}"
        f" ({profile.cost_cap_lpr_multiple}× the one-year LPR)", field=field)


def check_listing_cost(cost: Cost, profile: ComplianceProfile, lpr_ppm: int | None) -> None:
    """Refuse a listing whose contract interest and fees alone break the cap."""
    cap = cap_ppm(profile, lpr_ppm)
    base = cost.interest_ppm + cost.service_fee_ppm
    if cap is not None and base > cap:
        _refuse(base, cap, profile, "all-in cost (interest and fees)", "annual_rate")


def check_product_penalty(daily_ppm: int, profile: ComplianceProfile,
                          lpr_ppm: int | None) -> None:
    """Refuse a servicing product whose penalty rate alone breaks the cap."""
    cap = cap_ppm(profile, lpr_ppm)
    if cap is not None and daily_ppm * DAYS_A_YEAR > cap:
        _refuse(daily_ppm * DAYS_A_YEAR, cap, profile, "penalty rate", "penalty_daily_rate")


def capped_daily_ppm(product_daily_ppm: int, cost: Cost, cap: int | None) -> int:
    """The daily penalty rate a loan accrues: the product's, lowered to the largest whole ppm
    a day for which interest + fees + penalty × 365 stays within the cap."""
    if cap is None:
        return product_daily_ppm
    headroom = max(0, cap - cost.interest_ppm - cost.service_fee_ppm)
    return min(product_daily_ppm, headroom // DAYS_A_YEAR)
