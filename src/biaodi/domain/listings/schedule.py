"""Repayment schedules, exact to the fen, free of I/O.

Four methods:

* ``equal_installment`` (等额本息): the same payment every month; the interest part is the
  balance times the monthly rate, the rest repays principal.
* ``equal_principal`` (等额本金): the same principal part every month plus the month's interest.
* ``interest_first`` (先息后本): the month's interest every month, all principal at maturity.
* ``bullet`` (到期还本付息): principal and interest in one payment at maturity. The only method
  for a term in days; allowed for a term in months too.

Rules every schedule keeps, exactly:

* A month term's periodic rate is the annual rate ÷ 12, whatever the month's length; a term in
  days (and any broken period, see `accrued_interest`) uses a day-count convention: ACT/365 by
  default, 30/360 on request.
* Each instalment's interest is the outstanding balance × the periodic rate, rounded half-up to
  the fen once (`round_half_up`); its payment is principal + interest.
* The principal parts sum to the amount and the balance after the last instalment is zero: the
  last instalment repays whatever is left, so it alone absorbs the rounding residue.
* The level amount (the payment of ``equal_installment``, the principal part of
  ``equal_principal``) is the exact value rounded half-up. Where the fen roundings, repeated
  over many months, would repay the loan before its last instalment (small amounts over long
  terms), it is the largest smaller amount that does not: every balance before the last
  instalment stays positive and no part is ever negative. (At the extreme, e.g. 187.12 at
  35.11 % over 241 months, that is the monthly interest itself: nothing amortises until the
  last instalment.)
* Due dates keep the start's day of month, clamped to the month's end, each counted from the
  start (Jan 31 → Feb 28/29 → Mar 31). A term of N days is due N days after the start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import TypeVar

from biaodi.domain.listings.daycount import DayCount, accrual_days, add_months
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money, round_half_up

__all__ = [
    "MAX_TERM",
    "DayCount",
    "Instalment",
    "RepaymentMethod",
    "TermUnit",
    "accrued_interest",
    "build_schedule",
    "first_level_payment",
]


class RepaymentMethod(StrEnum):
    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_FIRST = "interest_first"  # 先息后本
    BULLET = "bullet"  # 到期还本付息


class TermUnit(StrEnum):
    MONTH = "month"
    DAY = "day"


#: Longest term accepted per unit: 30 years of months, 10 years of days.
MAX_TERM = {TermUnit.MONTH: 360, TermUnit.DAY: 3650}

_E = TypeVar("_E", bound=StrEnum)
_PRECISION = 80  # significant digits for the one inexact step, the annuity factor


@dataclass(frozen=True, slots=True)
class Instalment:
    """One scheduled repayment; `balance` is the principal still owed after it is paid."""

    seq: int
    due_date: date
    principal: Money
    interest: Money
    payment: Money
    balance: Money


def build_schedule(
    amount: Money,
    annual_rate: Decimal,
    term: int,
    term_unit: TermUnit,
    method: RepaymentMethod,
    start: date,
    day_count: DayCount = DayCount.ACT_365,
) -> list[Instalment]:
    """The schedule for lending `amount` from `start` at `annual_rate` (a fraction: 0.12 = 12 %).

    Raises `InvalidInput` naming the field at fault: ``amount`` (not above zero),
    ``annual_rate`` (not 0 ≤ rate < 1), ``term`` (outside 1–360 months or 1–3650 days),
    ``term_unit``, ``method`` (unknown, or not ``bullet`` for a term in days), ``day_count``,
    ``start`` (not a date, or maturity past the calendar's end).
    """
    _check_amount(amount, "amount", allow_zero=False)
    _check_rate(annual_rate)
    unit = _member(TermUnit, term_unit, "term_unit")
    how = _member(RepaymentMethod, method, "method")
    convention = _member(DayCount, day_count, "day_count")
    _check_term(term, unit)
    if unit is TermUnit.DAY and how is not RepaymentMethod.BULLET:
        raise InvalidInput(
            f"method {how.value} needs a term in months; a term in days is repaid as a bullet",
            field="method",
        )
    due_dates = _due_dates(start, term, unit)
    fen = amount.fen

    if unit is TermUnit.DAY:
        days = accrual_days(start, due_dates[0], convention)
        return _rows(due_dates, [(fen, _interest(fen, annual_rate, days, convention.basis))])
    if how is RepaymentMethod.BULLET:
        return _rows(due_dates[-1:], [(fen, _interest(fen, annual_rate, term, 12))])

    def monthly(balance: int) -> int:
        return _interest(balance, annual_rate, 1, 12)

    if how is RepaymentMethod.INTEREST_FIRST:
        interest = monthly(fen)
        return _rows(due_dates, [(0, interest)] * (term - 1) + [(fen, interest)])
    if how is RepaymentMethod.EQUAL_PRINCIPAL:
        exact_part = Decimal(fen) / term
        return _level_schedule(fen, due_dates, exact_part, 0, monthly, lambda part, _: part)
    exact_payment = _annuity(fen, annual_rate, term)
    return _level_schedule(
        fen, due_dates, exact_payment, monthly(fen), monthly, lambda payment, i: payment - i
    )


def first_level_payment(amount: Money, annual_rate: Decimal, months: int, start: date) -> Money:
    """The first payment of the equal-instalment (等额本息) schedule of `amount` over `months`
    — `build_schedule(…)[0].payment` — without building the rows or their dates when the
    half-up level amortises (it almost always does): a risk decision needs only this."""
    _check_amount(amount, "amount", allow_zero=False)
    _check_rate(annual_rate)
    _check_term(months, TermUnit.MONTH)
    fen = amount.fen

    def monthly(balance: int) -> int:
        return _interest(balance, annual_rate, 1, 12)

    level = round_half_up(_annuity(fen, annual_rate, months))
    parts = _amortise(fen, months, level, monthly, lambda payment, i: payment - i)
    if parts is None:  # the level needs lowering: the schedule's own search decides it
        return build_schedule(amount, annual_rate, months, TermUnit.MONTH,
                              RepaymentMethod.EQUAL_INSTALLMENT, start)[0].payment
    principal, interest = parts[0]
    return Money(principal + interest)


def accrued_interest(
    principal: Money,
    annual_rate: Decimal,
    start: date,
    end: date,
    day_count: DayCount = DayCount.ACT_365,
) -> Money:
    """Interest on `principal` from `start` to `end` under `day_count`, rounded half-up.

    For broken periods: early repayment, transfers between due dates, late interest.
    """
    _check_amount(principal, "principal", allow_zero=True)
    _check_rate(annual_rate)
    convention = _member(DayCount, day_count, "day_count")
    _check_date(start, "start")
    _check_date(end, "end")
    if end < start:
        raise InvalidInput("end must not be before start", field="end")
    days = accrual_days(start, end, convention)
    return Money(_interest(principal.fen, annual_rate, days, convention.basis))


# --- arithmetic ---------------------------------------------------------------------------


def _interest(balance_fen: int, annual_rate: Decimal, numerator: int, denominator: int) -> int:
    """round_half_up(balance × rate × numerator ÷ denominator), decided exactly.

    The product is exact at this precision and the one division is by a small integer, so a
    result that is not exact lies far from any half fen: the rounding is always the true one.
    """
    with localcontext() as ctx:
        ctx.prec = _PRECISION + len(annual_rate.as_tuple().digits)
        return round_half_up(Decimal(balance_fen) * annual_rate * numerator / denominator)


def _annuity(fen: int, annual_rate: Decimal, months: int) -> Decimal:
    """The level payment (in fen, unrounded, to 80 digits) that repays `fen` over `months`."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if annual_rate == 0:
            return Decimal(fen) / months
        rate = annual_rate / 12
        growth = (1 + rate) ** months
        if growth == 1:  # a rate too small to move 80 digits (1E-999999): as good as zero
            return Decimal(fen) / months
        return Decimal(fen) * rate * growth / (growth - 1)


def _level_schedule(
    fen: int,
    due_dates: list[date],
    exact_level: Decimal,
    lowest: int,
    interest_on: Callable[[int], int],
    principal_of: Callable[[int, int], int],
) -> list[Instalment]:
    """Amortise with the largest level amount, at most the exact one rounded half-up, that
    keeps every balance before the last instalment positive.

    `lowest` is a level known to be sound (it repays no principal until maturity). Soundness
    is monotone in the level (a smaller level leaves every balance at least as large), so a
    bisection between `lowest` and the half-up level finds the largest sound one.
    """
    count = len(due_dates)
    level = round_half_up(exact_level)
    parts = _amortise(fen, count, level, interest_on, principal_of)
    if parts is None:
        sound, unsound = lowest, level
        while unsound - sound > 1:
            middle = (sound + unsound) // 2
            if _amortise(fen, count, middle, interest_on, principal_of) is None:
                unsound = middle
            else:
                sound = middle
        parts = _amortise(fen, count, sound, interest_on, principal_of)
        assert parts is not None, "the lowest level always amortises"
    return _rows(due_dates, parts)


def _amortise(
    fen: int,
    count: int,
    level: int,
    interest_on: Callable[[int], int],
    principal_of: Callable[[int, int], int],
) -> list[tuple[int, int]] | None:
    """(principal, interest) per instalment, or None if some part would be negative or the
    balance would reach zero before the last instalment."""
    parts = []
    balance = fen
    for _ in range(count - 1):
        interest = interest_on(balance)
        principal = principal_of(level, interest)
        if principal < 0 or principal >= balance:
            return None
        parts.append((principal, interest))
        balance -= principal
    parts.append((balance, interest_on(balance)))
    return parts


def _rows(due_dates: list[date], parts: list[tuple[int, int]]) -> list[Instalment]:
    balance = sum(principal for principal, _ in parts)
    rows = []
    for seq, (due, (principal, interest)) in enumerate(zip(due_dates, parts, strict=True), 1):
        balance -= principal
        rows.append(
            Instalment(
                seq=seq,
                due_date=due,
                principal=Money(principal),
                interest=Money(interest),
                payment=Money(principal + interest),
                balance=Money(balance),
            )
        )
    return rows


# --- validation ---------------------------------------------------------------------------


def _due_dates(start: date, term: int, unit: TermUnit) -> list[date]:
    _check_date(start, "start")
    try:
        if unit is TermUnit.DAY:
            return [start + timedelta(days=term)]
        return [add_months(start, k) for k in range(1, term + 1)]
    except (OverflowError, ValueError):
        raise InvalidInput(
            "start is too late: maturity falls past year 9999", field="start"
        ) from None


def _check_amount(value: Money, field: str, *, allow_zero: bool) -> None:
    if not isinstance(value, Money):
        raise InvalidInput(f"{field} must be Money", field=field)
    if value.fen < 0 or (value.fen == 0 and not allow_zero):
        raise InvalidInput(f"{field} must be greater than zero", field=field)


def _check_rate(rate: Decimal) -> None:
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise InvalidInput("annual_rate must be a finite Decimal fraction", field="annual_rate")
    if not 0 <= rate < 1:
        raise InvalidInput(
            "annual_rate must be at least 0 and below 1 (100 %)", field="annual_rate"
        )


def _check_term(term: int, unit: TermUnit) -> None:
    limit = MAX_TERM[unit]
    if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= limit:
        raise InvalidInput(
            f"term must be a whole number of {unit.value}s from 1 to {limit}", field="term"
        )


def _check_date(value: date, field: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"{field} must be a calendar date", field=field)


def _member(enum: type[_E], value: object, field: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise InvalidInput(
            f"{field} must be one of {choices} (got {_shown(value)})", field=field
        ) from None


def _shown(value: object) -> str:
    """A refused value as the message quotes it: its repr, cut to 40 characters; an integer
    too long for Python to write in decimal is named by its type."""
    try:
        text = repr(value)
    except ValueError:  # an int of more than 4,300 digits (sys.get_int_max_str_digits)
        return f"an {type(value).__name__} too long to show"
    return text if len(text) <= 40 else text[:37] + "..."
