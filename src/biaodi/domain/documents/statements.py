"""An investor's statement for a month or a year: the period, and the totals it adds up.

Tax-relevant totals follow the Individual Income Tax Law's categories: interest
(利息、股息、红利所得, art. 2 item 6) and gains from transferring property (财产转让所得,
art. 2 item 8). The platform withholds nothing; the figures are for the investor's own return."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from biaodi.domain.shared.errors import InvalidInput

#: Ledger entry kinds that pay an investor something besides a loan's cash flows.
OTHER_INCOME_KINDS = ("marketing_bonus", "referral_reward", "coupon_payout", "boost_interest",
                      "trial_interest")


@dataclass(frozen=True)
class Period:
    year: int
    month: int | None  # None: the whole year

    @property
    def start(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def end(self) -> date:
        """The last day, included."""
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)


def period(year: int, month: int | None, today: date) -> Period:
    """A month or a year that has begun (a statement of the future is refused)."""
    if month is not None and not 1 <= month <= 12:
        raise InvalidInput("month must be from 1 to 12", field="month")
    if not 2000 <= year <= today.year:
        raise InvalidInput(f"year must be from 2000 to {today.year}", field="year")
    chosen = Period(year, month)
    if chosen.start > today:
        raise InvalidInput(f"{chosen.label} has not begun", field="month")
    return chosen


@dataclass
class Totals:
    """In fen. Interest income is what the loans paid, plus the accrued interest buyers paid
    this investor inside the price of claims it sold, less what it paid sellers so."""

    principal_received: int = 0
    interest_received: int = 0
    penalty_interest_received: int = 0
    accrued_interest_sold: int = 0
    accrued_interest_bought: int = 0
    transfer_fees: int = 0
    transfer_gains: int = 0
    transfer_losses: int = 0
    other_income: dict[str, int] = field(default_factory=dict)

    @property
    def interest_income(self) -> int:
        return (self.interest_received + self.penalty_interest_received
                + self.accrued_interest_sold - self.accrued_interest_bought)

    @property
    def net_transfer_result(self) -> int:
        return self.transfer_gains - self.transfer_losses

    def add_sale(self, price: int, fee: int, fair_value: int, accrued: int) -> None:
        """The seller's side of a purchase: gain or loss = price − fee − fair value."""
        self.accrued_interest_sold += accrued
        self.transfer_fees += fee
        result = price - fee - fair_value
        if result >= 0:
            self.transfer_gains += result
        else:
            self.transfer_losses -= result
