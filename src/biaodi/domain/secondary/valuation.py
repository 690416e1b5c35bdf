"""Secondary market (债权转让) rules, free of I/O: fair value, pricing guardrails, the buyer's
yield, and splitting a holding's future shares between seller and buyer exactly.

Fair value = outstanding principal + interest accrued to the sale date, pro rata (by days) in
the current period. The buyer pays a price set as a premium or discount to fair value, so the
interest accrued up to the sale date belongs to the seller (it is in the price) and what
accrues after belongs to the buyer (who receives the whole next payment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, localcontext

from biaodi.domain.investing.holdings import split_interest, split_principal
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money, round_half_up


@dataclass(frozen=True)
class Share:
    """One future instalment share of a holding."""

    seq: int
    due_date: date
    principal: int
    interest: int


@dataclass(frozen=True)
class SaleRules:
    max_premium: Decimal = Decimal("0.05")  # at most 5 % above fair value
    max_discount: Decimal = Decimal("0.20")  # at most 20 % below fair value
    holding_period_days: int = 30  # no sale in the first 30 days after purchase
    transfer_fee_rate: Decimal = Decimal("0.005")  # 0.5 % of the price, paid by the seller


def _check_day(on: date) -> None:
    if isinstance(on, datetime) or not isinstance(on, date):
        raise InvalidInput("the valuation day must be a calendar date", field="on")


def accrued_interest(shares: list[Share], period_start: date, on: date) -> int:
    """Interest of the current period accrued by `on`: the next share's interest × elapsed
    days / days in the period, rounded half-up. `period_start` is the previous due date (or
    the day interest started)."""
    _check_day(on)
    upcoming = [s for s in shares if s.due_date > on]
    if not upcoming:
        return 0
    following = upcoming[0]
    total_days = (following.due_date - period_start).days
    elapsed = max(0, min((on - period_start).days, total_days))
    if total_days <= 0:
        return 0
    return round_half_up(Decimal(following.interest * elapsed) / total_days)


def fair_value(outstanding_principal: int, shares: list[Share], period_start: date,
               on: date) -> int:
    return outstanding_principal + accrued_interest(shares, period_start, on)


def asking_price(fair: int, premium: Decimal, rules: SaleRules) -> int:
    """Fair value × (1 + premium), half-up; premium < 0 is a discount. Guardrails apply."""
    if not isinstance(premium, Decimal) or not premium.is_finite():
        raise InvalidInput("premium must be a decimal fraction", field="premium")
    if premium > rules.max_premium:
        raise InvalidInput(f"premium may be at most {rules.max_premium * 100:.2f} %",
                           field="premium")
    if premium < -rules.max_discount:
        raise InvalidInput(f"discount may be at most {rules.max_discount * 100:.2f} %",
                           field="premium")
    return round_half_up(Decimal(fair) * (1 + premium))


def part_price(price: int, principal_part: int, principal_total: int) -> int:
    """The price of a part of a sale, pro rata by principal, rounded half-up."""
    return round_half_up(Decimal(price) * principal_part / principal_total)


def yield_to_maturity(price: int, on: date, shares: list[Share],
                      expected_loss_rate: Decimal = Decimal(0)) -> Decimal:
    """The annual rate r solving price = Σ cash_k × (1 − loss)^t_k / (1 + r)^t_k, t_k in years
    (ACT/365) — the buyer's yield after the listing's expected annual loss. Newton's method in
    Decimal, kept inside a bisection bracket [-99 %, 1000 %]; returns a fraction (0.1 = 10 % a
    year) to six decimals. A purchase computes it while it holds the sale's row, so it must be
    quick: a few iterations of one logarithm and one exponential per cash flow."""
    _check_day(on)
    flows = [(Decimal((s.due_date - on).days) / 365, Decimal(s.principal + s.interest))
             for s in shares if s.due_date > on and (s.principal or s.interest)]
    if price <= 0 or not flows:
        raise InvalidInput("a yield needs a positive price and future cash flows",
                           field="price")
    if not isinstance(expected_loss_rate, Decimal) or not expected_loss_rate.is_finite() \
            or not 0 <= expected_loss_rate <= 1:
        raise InvalidInput("the expected loss rate must be a decimal fraction from 0 to 1",
                           field="expected_loss_rate")
    survive = 1 - expected_loss_rate
    low, high = Decimal("-0.99"), Decimal("10")
    if survive <= 0:
        return low.quantize(Decimal("0.000001"))
    with localcontext() as ctx:
        ctx.prec = 28
        log_survive = survive.ln()
        target = Decimal(price)

        def value_and_slope(rate: Decimal) -> tuple[Decimal, Decimal]:
            """Present value at `rate` minus the price, and its derivative in the rate."""
            log_growth = (1 + rate).ln()
            value = slope = Decimal(0)
            for years, cash in flows:
                discounted = cash * (years * (log_survive - log_growth)).exp()
                value += discounted
                slope -= years * discounted
            return value - target, slope / (1 + rate)

        rate = Decimal("0.1")
        for _ in range(100):
            gap, slope = value_and_slope(rate)
            if gap > 0:  # present value above the price: the yield is higher
                low = rate
            else:
                high = rate
            step = gap / slope if slope else Decimal(0)
            proposal = rate - step
            if not low < proposal < high:  # Newton left the bracket: bisect instead
                proposal = (low + high) / 2
            if abs(proposal - rate) < Decimal("1e-10") or high - low < Decimal("1e-10"):
                rate = proposal
                break
            rate = proposal
        return rate.quantize(Decimal("0.000001"))


def check_yield(ytm: Decimal) -> None:
    if ytm < 0:
        raise Conflict(
            f"at this price the buyer's yield to maturity would be {ytm * 100:.2f} % after"
            " expected losses; it may not be negative (lower the price)",
            code="negative_yield", field="premium")


def split_shares(shares: list[Share], seller_keeps: int, buyer_takes: int) -> tuple[
        list[Share], list[Share]]:
    """Split the future shares of a holding whose outstanding principal is seller_keeps +
    buyer_takes: principal exactly (each side's parts add up to its principal and each
    instalment still adds up), interest by largest remainder per instalment."""
    if buyer_takes <= 0 or seller_keeps < 0:
        raise InvalidInput("the part sold must be positive and within the holding",
                           field="principal")
    if sum(s.principal for s in shares) != seller_keeps + buyer_takes:
        raise ValueError("future principal shares must add up to the outstanding principal")
    if seller_keeps == 0:
        return [], list(shares)
    weights = [seller_keeps, buyer_takes]
    principal = split_principal([s.principal for s in shares], weights)
    interest = split_interest([s.interest for s in shares], weights)
    sides = []
    for side in range(2):
        sides.append([Share(s.seq, s.due_date, principal[side][k], interest[side][k])
                      for k, s in enumerate(shares)])
    return sides[0], sides[1]


def transfer_fee(price: int, rules: SaleRules) -> int:
    return Money(price).times_rate(rules.transfer_fee_rate).fen
