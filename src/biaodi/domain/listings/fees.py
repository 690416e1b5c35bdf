"""Fees as the borrower sees them, and the all-in annual cost they add up to.

The platform's service fee and a guarantor's fee are yearly rates on the principal still owed,
charged with each instalment — never taken off the principal at disbursement (砍头息 is
forbidden by the 2017 notice on cash loans, 关于规范整顿“现金贷”业务的通知, 整治办函〔2017〕141号
第二条（二）, and courts treat the amount actually paid out as the principal). Each instalment's
fee is the opening balance × the yearly rate × the period's share of a year, rounded half-up,
exactly like its interest.

The all-in annual cost is the internal rate of return of the borrower's real cash flows (the
full principal received; every instalment's principal, interest and fees paid), as a nominal
yearly rate — the way 综合年化成本 is compared with the 4 × LPR line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext

from biaodi.domain.listings.schedule import Instalment, RepaymentMethod, TermUnit
from biaodi.domain.shared.money import Money, round_half_up

PPM = 1_000_000
DAYS_A_YEAR = 365


@dataclass(frozen=True)
class InstalmentFees:
    service: Money
    guarantee: Money

    @property
    def total(self) -> Money:
        return self.service + self.guarantee


def period_fraction(term: int, term_unit: str, method: str) -> tuple[int, int]:
    """One period of a schedule as numerator ÷ denominator of a year: a term in days is one
    period of `term` days, a bullet one period of `term` months, anything else a month."""
    if term_unit == TermUnit.DAY.value:
        return term, DAYS_A_YEAR
    if method == RepaymentMethod.BULLET.value:
        return term, 12
    return 1, 12


def fees_on(principals: Sequence[int], owed: int, service_rate: Decimal,
            guarantee_rate: Decimal, term: int, term_unit: str, method: str
            ) -> list[InstalmentFees]:
    """The fees of instalments repaying `principals` in turn out of `owed` fen: each on the
    balance still owed during its period."""
    numerator, denominator = period_fraction(term, term_unit, method)
    fees = []
    for principal in principals:
        fees.append(InstalmentFees(_fee(owed, service_rate, numerator, denominator),
                                   _fee(owed, guarantee_rate, numerator, denominator)))
        owed -= principal
    return fees


def fee_schedule(schedule: Sequence[Instalment], amount: Money, service_rate: Decimal,
                 guarantee_rate: Decimal, term: int, term_unit: str, method: str
                 ) -> list[InstalmentFees]:
    """Each instalment's service and guarantee fee on the balance owed during its period."""
    return fees_on([row.principal.fen for row in schedule], amount.fen, service_rate,
                   guarantee_rate, term, term_unit, method)


def _fee(balance_fen: int, rate: Decimal, numerator: int, denominator: int) -> Money:
    with localcontext() as ctx:
        ctx.prec = 60
        return Money(round_half_up(Decimal(balance_fen) * rate * numerator / denominator))


def all_in_cost(amount: Money, schedule: Sequence[Instalment], fees: Sequence[InstalmentFees],
                term: int, term_unit: str, method: str) -> Decimal:
    """The nominal yearly IRR of receiving `amount` and paying every instalment with its fees,
    rounded up to a whole ppm (a cost is never understated)."""
    numerator, denominator = period_fraction(term, term_unit, method)
    flows = [Decimal(row.payment.fen + f.total.fen) for row, f in zip(schedule, fees, strict=True)]
    with localcontext() as ctx:
        ctx.prec = 40
        principal = Decimal(amount.fen)
        single = len(flows) == 1
        rate = flows[0] / principal - 1 if single else _per_period_irr(principal, flows)
        yearly = rate * denominator / numerator
        return (yearly * PPM).to_integral_value(rounding=ROUND_CEILING) / PPM


def _per_period_irr(principal: Decimal, flows: list[Decimal]) -> Decimal:
    """The rate r ≥ 0 at which the flows, one period apart, are worth `principal` today.
    Present value falls as r rises, so bisection on [0, 1] a period converges."""
    def value(r: Decimal) -> Decimal:
        total, factor, step = Decimal(0), Decimal(1), 1 / (1 + r)
        for flow in flows:
            factor *= step
            total += flow * factor
        return total

    if value(Decimal(0)) <= principal:
        return Decimal(0)
    low, high = Decimal(0), Decimal(1)
    for _ in range(70):  # 2⁻⁷⁰ of a period's rate: far below one ppm a year
        middle = (low + high) / 2
        if value(middle) > principal:
            low = middle
        else:
            high = middle
    return high

