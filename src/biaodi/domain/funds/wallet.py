"""Rules of the cash wallet, free of I/O: trade and confirmation dates, daily income, the
7-day annualised yield and the instant-redemption cap.

A money-market fund's unit is worth ¥1, so units are counted in fen like money. The fund, not
the platform, holds the money: these rules only say when the fund confirms and what it pays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, localcontext

from biaodi.domain.shared.calendar import CN_CALENDAR, WorkingDayCalendar
from biaodi.domain.shared.compliance import ComplianceRule, ComplianceViolation
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money, round_half_up

#: Orders received at or after 15:00 Beijing time belong to the next working day (T).
CUT_OFF = time(15, 0)
TEN_THOUSAND = Decimal(10_000)

INSTANT_REDEMPTION_CAP = ComplianceRule(
    "csrc2018.mmf_instant_redemption_cap",
    "中国证监会 中国人民银行《关于进一步规范货币市场基金互联网销售、赎回相关服务的指导意见》"
    "（2018年6月1日发布施行）",
    "单个投资者在单个销售渠道持有的单只货币市场基金，单个自然日T+0赎回提现金额上限为1万元",
    "instant (T+0) redemption of one money-market fund through one sales channel is capped at"
    " ¥10,000 per investor per calendar day",
)


@dataclass(frozen=True)
class DatedCap:
    """A per-day amount cap in force from `effective_from`, with the rule it comes from."""

    effective_from: date
    cap: Money
    rule: ComplianceRule


#: The dated caps on instant redemption; the latest one in force on a day applies.
INSTANT_CAPS: tuple[DatedCap, ...] = (
    DatedCap(date(2018, 6, 1), Money.yuan(10_000), INSTANT_REDEMPTION_CAP),
)


def instant_cap_on(day: date, caps: Sequence[DatedCap] = INSTANT_CAPS) -> DatedCap | None:
    in_force = [c for c in caps if c.effective_from <= day]
    return max(in_force, key=lambda c: c.effective_from) if in_force else None


def check_instant_redemption(day: date, already_today: Money, amount: Money,
                             caps: Sequence[DatedCap] = INSTANT_CAPS) -> None:
    """Refuse an instant redemption that would take the day's instant total over the cap."""
    cap = instant_cap_on(day, caps)
    if cap is None:
        return
    if already_today.fen + amount.fen > cap.cap.fen:
        left = Money(max(cap.cap.fen - already_today.fen, 0))
        raise ComplianceViolation(
            cap.rule,
            f"instant redemption of {amount} would exceed the {cap.cap} daily cap: {left} left"
            f" today ({day.isoformat()}); an ordinary redemption (T+1) has no cap",
            field="amount")


@dataclass(frozen=True)
class TradeDates:
    """T (the fund's trade date) and the day the fund confirms the order (T+1)."""

    trade_date: date
    confirm_date: date


def trade_dates(received_cst: datetime, calendar: WorkingDayCalendar = CN_CALENDAR) -> TradeDates:
    """An order received on a working day before 15:00 trades that day; otherwise on the next
    working day. It is confirmed on the working day after its trade date."""
    if received_cst.tzinfo is None:
        raise InvalidInput("the time an order was received must carry its time zone",
                           field="submitted_at")
    day = received_cst.date()
    if calendar.is_working_day(day) and received_cst.time() < CUT_OFF:
        trade = day
    else:
        trade = calendar.next_working_day(day)
    return TradeDates(trade, calendar.next_working_day(trade))


def parse_per_10k(value: str | Decimal) -> Decimal:
    """万份收益: yuan earned per 10,000 units on a day, published to four decimals."""
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise InvalidInput(f"万份收益 must be a decimal number, got {value!r}",
                           field="per_10k") from None
    if not number.is_finite() or number < 0 or number > 100:
        raise InvalidInput(f"万份收益 must lie between 0 and 100, got {value}", field="per_10k")
    return number


def daily_income_exact(units_fen: int, per_10k: Decimal) -> Decimal:
    """A holder's income for one day in fen, at full precision (units × R / 10,000)."""
    return Decimal(units_fen) * per_10k / TEN_THOUSAND


def post_income(exact_so_far: Decimal, posted_so_far: int, exact_today: Decimal
                ) -> tuple[Decimal, int]:
    """(the new exact total, the fen to post today): the holder's income is kept at full
    precision and posted rounded, so that what is posted in total is the exact total rounded
    by Biaodi's one rule and no fraction is lost or paid twice."""
    total = exact_so_far + exact_today
    return total, round_half_up(total) - posted_so_far


def seven_day_yield(per_10k: Sequence[Decimal]) -> Decimal:
    """7-day annualised yield (七日年化收益率) in percent, compounding daily:
    ((∏ (1 + Rᵢ / 10,000))^(365/7) − 1) × 100, for the last seven days' 万份收益 Rᵢ."""
    if len(per_10k) != 7:
        raise InvalidInput(f"the 7-day yield needs seven days of 万份收益, got {len(per_10k)}",
                           field="per_10k")
    with localcontext() as ctx:
        ctx.prec = 40
        product = Decimal(1)
        for r in per_10k:
            product *= 1 + r / TEN_THOUSAND
        growth = (product.ln() * Decimal(365) / Decimal(7)).exp()
        return (growth - 1) * 100
