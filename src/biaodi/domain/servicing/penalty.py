"""Penalty interest (罚息) under the all-in cost cap.

Penalty: each day past due beyond the grace period, the overdue amount (principal and interest
due and unpaid) × the product's daily rate, rounded half-up to the fen per creditor and day.

The cost cap (`domain.listings.cost`) counts penalty too: a product whose penalty alone breaks
it is refused, and for each loan the daily penalty rate is lowered to the largest whole ppm a
day that keeps interest + fees + penalty within the cap.
"""

from __future__ import annotations

from datetime import date

from biaodi.domain.listings.cost import DAYS_A_YEAR, PPM, Cost, cost_cap, refuse_cost
from biaodi.domain.shared.compliance import ComplianceProfile

#: 0.03 % a day (万分之三): 10.95 % a year, within 4 × a 3 % LPR together with modest rates.
DEFAULT_DAILY_PPM = 300


def daily_penalty(overdue_fen: int, daily_ppm: int) -> int:
    """One day's penalty on `overdue_fen`, rounded half-up (integer formula shared with SQL)."""
    if overdue_fen <= 0 or daily_ppm <= 0:
        return 0
    return (2 * overdue_fen * daily_ppm + PPM) // (2 * PPM)


def check_product_penalty(daily_ppm: int, profile: ComplianceProfile, on: date,
                          lpr_ppm: int | None) -> None:
    """Refuse a servicing product whose penalty rate alone breaks the cap for a contract made
    on `on` (the day the product is set: the loans it will govern are made from then on)."""
    found = cost_cap(profile, on, lpr_ppm)
    if found is not None and daily_ppm * DAYS_A_YEAR > found[1]:
        refuse_cost(daily_ppm * DAYS_A_YEAR, *found, on, "penalty rate", "penalty_daily_rate")


def capped_daily_ppm(product_daily_ppm: int, cost: Cost, cap: int | None) -> int:
    """The daily penalty rate a loan accrues: the product's, lowered to the largest whole ppm
    a day for which interest + fees + penalty × 365 stays within the cap."""
    if cap is None:
        return product_daily_ppm
    headroom = max(0, cap - cost.interest_ppm - cost.service_fee_ppm)
    return min(product_daily_ppm, headroom // DAYS_A_YEAR)
