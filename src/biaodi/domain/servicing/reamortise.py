"""Re-amortising the rest of a loan after a part prepayment (提前部分还款).

The borrower pays the interest accrued in the current period and some principal now; the due
dates stay. The current period's interest becomes the scheduled interest for the days left
(on the lower balance); later periods follow the method on the new balance:

* ``lower_instalment`` (减少月供): the same number of instalments, a lower payment;
* ``shorter_term`` (缩短期限): the same payment (等额本息) or principal part (等额本金), fewer
  instalments. Methods that repay principal at maturity (先息后本, 到期还本付息) only lower
  their interest.

Every result is exact: the principal parts add up to the new balance, amounts are never
negative, and each interest is rounded half-up once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum

from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money, round_half_up

LEVEL_METHODS = frozenset({"equal_installment", "equal_principal"})


class Reamortise(StrEnum):
    SHORTER_TERM = "shorter_term"
    LOWER_INSTALMENT = "lower_instalment"


@dataclass(frozen=True)
class Row:
    seq: int
    due_date: date
    principal: int
    interest: int


def _exact(value: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 80
        return round_half_up(+value)


def first_period_interest(scheduled: int, old_balance: int, new_balance: int,
                          period_start: date, today: date, due: date) -> int:
    """The rest of the current period's interest on the new balance: scheduled interest ×
    new/old balance × days left ÷ days in the period."""
    span = (due - period_start).days
    left = max(0, (due - max(today, period_start)).days)
    if span <= 0 or old_balance <= 0:
        return 0
    with localcontext() as ctx:
        ctx.prec = 80
        return _exact(Decimal(scheduled) * new_balance * left / (Decimal(old_balance) * span))


def reamortise(remaining: list[Row], prepaid: int, annual_rate: Decimal, method: str,
               mode: Reamortise | str, period_start: date, today: date) -> list[Row]:
    """New amounts for the instalments not yet due (`remaining`, in order); rows past a
    shortened term come back with zero amounts (the caller cancels them)."""
    if not remaining:
        raise InvalidInput("nothing is left to re-amortise", field="principal")
    try:
        how = Reamortise(mode)
    except ValueError:
        raise InvalidInput("reamortise must be shorter_term or lower_instalment",
                           field="reamortise") from None
    balance = sum(r.principal for r in remaining)
    new_balance = balance - prepaid
    if prepaid <= 0 or new_balance <= 0:
        raise InvalidInput("a part prepayment must be above zero and below the outstanding"
                           f" principal {Money(balance)}", field="principal")
    if how is Reamortise.SHORTER_TERM and method not in LEVEL_METHODS:
        raise InvalidInput(f"{method} repays principal at maturity: only lower_instalment"
                           " applies", field="reamortise")
    first = first_period_interest(remaining[0].interest, balance, new_balance, period_start,
                                  today, remaining[0].due_date)
    count = len(remaining)
    if how is Reamortise.LOWER_INSTALMENT:
        principals = _lower(new_balance, count, annual_rate, method)
        return _rows(remaining, principals, first, annual_rate)
    level = remaining[0].principal + (remaining[0].interest if method == "equal_installment"
                                      else 0)
    return _shorter(remaining, new_balance, level, first, annual_rate, method)


def _monthly(balance: int, annual_rate: Decimal) -> int:
    return _exact(Decimal(balance) * annual_rate / 12)


def _lower(new_balance: int, count: int, annual_rate: Decimal, method: str) -> list[int]:
    if count == 1 or method not in LEVEL_METHODS:
        return [0] * (count - 1) + [new_balance]
    rows = build_schedule(Money(new_balance), annual_rate, count, "month", method,
                          date(2000, 1, 1))
    return [r.principal.fen for r in rows]


def _rows(remaining: list[Row], principals: list[int], first: int,
          annual_rate: Decimal) -> list[Row]:
    out, balance = [], sum(principals)
    for index, (row, principal) in enumerate(zip(remaining, principals, strict=True)):
        interest = first if index == 0 else (_monthly(balance, annual_rate) if balance else 0)
        out.append(Row(row.seq, row.due_date, principal, interest))
        balance -= principal
    return out


def _shorter(remaining: list[Row], new_balance: int, level: int, first: int,
             annual_rate: Decimal, method: str) -> list[Row]:
    out, balance = [], new_balance
    for index, row in enumerate(remaining):
        if balance == 0:
            out.append(Row(row.seq, row.due_date, 0, 0))
            continue
        interest = first if index == 0 else _monthly(balance, annual_rate)
        part = level - interest if method == "equal_installment" else level
        principal = balance if index == len(remaining) - 1 else min(balance, max(part, 0))
        out.append(Row(row.seq, row.due_date, principal, interest))
        balance -= principal
    return out
