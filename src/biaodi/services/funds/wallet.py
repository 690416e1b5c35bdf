"""Cash wallet use cases (余额宝-style): move idle wallet money into a money-market fund and back,
through a fund company speaking the fund-sales protocol (`adapters/fundco`).

The fund, not the platform, holds the money. A subscription leaves custody the day it is placed
(investor:N:available ↓ / custody:cash ↓: paid to the fund's settlement account) and the fund
confirms its units on T+1; a redemption comes back into custody when the fund pays it
(custody:cash ↑ / investor:N:available ↑): an ordinary one on T+1 without a cap, an instant one
at once up to the dated daily cap. Units and income are the fund's; this channel keeps its own
record of them and reconciles it daily against the fund's statement (`reconcile`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.clock import CST
from biaodi.adapters.db.fund_tables import (
    FundAccount,
    FundBreak,
    FundIncome,
    FundOrderRow,
    FundYield,
)
from biaodi.adapters.db.tables import UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.fundco.protocol import FundCompany, FundOrder, FundRefused, OrderKind
from biaodi.domain.funds.wallet import (
    check_instant_redemption,
    daily_income_exact,
    instant_cap_on,
    parse_per_10k,
    post_income,
    seven_day_yield,
)
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger

E8 = 10**8


def _is_investor(uow: UnitOfWork, user_id: int) -> bool:
    return uow.s.execute(select(UserRole.user_id).where(
        UserRole.user_id == user_id, UserRole.role == "investor")).first() is not None


def account_of(uow: UnitOfWork, investor_id: int, *, lock: bool = False) -> FundAccount | None:
    query = select(FundAccount).where(FundAccount.investor_id == investor_id)
    return uow.s.scalars(query.with_for_update() if lock else query).first()


def open_account(uow: UnitOfWork, fund: FundCompany, investor_id: int) -> FundAccount:
    """The investor's account at the fund company, opened on first use."""
    existing = account_of(uow, investor_id, lock=True)
    if existing is not None:
        return existing
    if not _is_investor(uow, investor_id):
        raise NotFound(f"user {investor_id} is not an investor", field="investor_id")
    account = FundAccount(investor_id=investor_id, fund_code=fund.fund_code,
                          account_no=fund.open_account(f"biaodi:{investor_id}"), units_fen=0,
                          redeeming_fen=0, income_exact_e8=0, income_posted_fen=0,
                          created_at=uow.clock.now())
    uow.s.add(account)
    uow.s.flush()
    return account


def _place(uow: UnitOfWork, fund: FundCompany, account: FundAccount, kind: OrderKind,
           amount: Money) -> FundOrderRow:
    order = FundOrder(f"biaodi-{uuid.uuid4().hex}", account.account_no, kind, amount.fen,
                      uow.clock.now())
    try:
        ack = fund.place(order)
    except FundRefused as refused:
        raise Conflict(f"the fund company refused the order: {refused}", field="amount",
                       code="fund_refused") from None
    row = FundOrderRow(order_no=order.order_no, account_id=account.id, kind=kind,
                       amount_fen=amount.fen, status="pending", received_at=order.received_at,
                       trade_date=ack.trade_date, confirm_date=ack.confirm_date)
    uow.s.add(row)
    uow.s.flush()
    return row


def _positive(amount: Money) -> None:
    if amount.fen <= 0:
        raise InvalidInput("amount must be positive", field="amount")


def subscribe(uow: UnitOfWork, fund: FundCompany, investor_id: int, amount: Money
              ) -> FundOrderRow:
    """Buy fund units with wallet money: paid to the fund now, units confirmed on T+1."""
    _positive(amount)
    account = open_account(uow, fund, investor_id)
    investor = wallet(OwnerKind.INVESTOR, investor_id).code
    posted = ledger.post(uow, EntryDraft("fund_subscription", memo=f"{fund.fund_code}")
                         .transfer(investor, "custody:cash", amount.fen))
    row = _place(uow, fund, account, "subscribe", amount)
    row.entry_id = posted.entry_id
    return row


def _take_units(uow: UnitOfWork, account: FundAccount, amount: Money, *, redeeming: bool) -> None:
    if account.units_fen < amount.fen:
        raise Conflict(f"the wallet holds {Money(account.units_fen)} of fund units, less than the"
                       f" {amount} asked", field="amount", code="insufficient_units")
    account.units_fen -= amount.fen
    if redeeming:
        account.redeeming_fen += amount.fen


def redeem(uow: UnitOfWork, fund: FundCompany, investor_id: int, amount: Money
           ) -> FundOrderRow:
    """An ordinary redemption: the units stop earning now, the money is paid on T+1; no cap."""
    _positive(amount)
    account = _existing(uow, investor_id)
    _take_units(uow, account, amount, redeeming=True)
    return _place(uow, fund, account, "redeem", amount)


def instant_total(uow: UnitOfWork, account_id: int, day: date) -> Money:
    total = uow.s.execute(select(func.coalesce(func.sum(FundOrderRow.amount_fen), 0)).where(
        FundOrderRow.account_id == account_id, FundOrderRow.kind == "instant_redeem",
        FundOrderRow.trade_date == day)).scalar_one()
    return Money(int(total))


def instant_redeem(uow: UnitOfWork, fund: FundCompany, investor_id: int, amount: Money
                   ) -> FundOrderRow:
    """An instant (T+0) redemption, paid into the wallet at once, within the daily cap."""
    _positive(amount)
    account = _existing(uow, investor_id)
    today = uow.clock.now().astimezone(CST).date()
    check_instant_redemption(today, instant_total(uow, account.id, today), amount)
    _take_units(uow, account, amount, redeeming=False)
    row = _place(uow, fund, account, "instant_redeem", amount)
    row.status, row.confirmed_on = "confirmed", today
    row.entry_id = _pay_out(uow, investor_id, amount.fen, "fund_instant_redemption")
    return row


def _existing(uow: UnitOfWork, investor_id: int) -> FundAccount:
    account = account_of(uow, investor_id, lock=True)
    if account is None:
        raise NotFound(f"investor {investor_id} has no cash-wallet fund account yet",
                       field="investor_id")
    return account


def _pay_out(uow: UnitOfWork, investor_id: int, fen: int, kind: str) -> int:
    investor = wallet(OwnerKind.INVESTOR, investor_id).code
    return ledger.post(uow, EntryDraft(kind).transfer("custody:cash", investor, fen)).entry_id


# --- close of business ----------------------------------------------------------------------
def confirm(uow: UnitOfWork, fund: FundCompany, day: date) -> int:
    """Take the fund's confirmations up to `day`: a subscription's units join the account, an
    ordinary redemption is paid into the wallet. Orders already confirmed are skipped."""
    done = 0
    for c in fund.confirmations(day):
        row = uow.s.scalars(select(FundOrderRow).where(FundOrderRow.order_no == c.order_no)
                            .with_for_update()).first()
        if row is None or row.status == "confirmed":
            continue
        account = uow.s.get(FundAccount, row.account_id, with_for_update=True)
        assert account is not None
        if row.kind == "subscribe":
            account.units_fen += c.units_fen
        else:
            account.redeeming_fen -= c.units_fen
            row.entry_id = _pay_out(uow, account.investor_id, c.units_fen, "fund_redemption")
        row.status, row.confirmed_on = "confirmed", c.confirmed_on
        done += 1
    return done


def record_yield(uow: UnitOfWork, fund: FundCompany, day: date) -> Decimal:
    """The fund's 万份收益 for `day`, stored once."""
    stored = uow.s.get(FundYield, day)
    if stored is not None:
        return Decimal(stored.per_10k_e4) / 10_000
    rate = parse_per_10k(fund.per_10k_income(day))
    if rate != rate.quantize(Decimal("0.0001")):
        raise InvalidInput(f"万份收益 is published to four decimals, got {rate}", field="per_10k")
    uow.s.add(FundYield(day=day, fund_code=fund.fund_code, per_10k_e4=int(rate * 10_000)))
    uow.s.flush()
    return rate


def pay_income(uow: UnitOfWork, fund: FundCompany, day: date) -> int:
    """The day's income on every account holding units: exact income accrued, the whole fen
    posted as new units. One row per account and day, so a rerun pays nothing twice."""
    rate = record_yield(uow, fund, day)
    paid_today = select(FundIncome.account_id).where(FundIncome.day == day)
    accounts = uow.s.scalars(select(FundAccount).where(
        FundAccount.units_fen > 0, FundAccount.id.not_in(paid_today))
        .order_by(FundAccount.id).with_for_update()).all()
    for account in accounts:
        exact_today = daily_income_exact(account.units_fen, rate)
        total, fen = post_income(Decimal(account.income_exact_e8) / E8,
                                 account.income_posted_fen, exact_today)
        uow.s.add(FundIncome(account_id=account.id, day=day, units_fen=account.units_fen,
                             exact_e8=int(exact_today * E8), posted_fen=fen))
        account.income_exact_e8 = int(total * E8)
        account.income_posted_fen += fen
        account.units_fen += fen
    return len(accounts)


def reconcile(uow: UnitOfWork, fund: FundCompany, day: date) -> int:
    """Compare every account with the fund's statement at the end of `day`; each difference
    becomes a break row (rerunning the day replaces that day's breaks)."""
    uow.s.execute(FundBreak.__table__.delete().where(FundBreak.business_date == day))
    theirs = {line.account_no: line for line in fund.statement(day)}
    ours = {a.account_no: a for a in uow.s.scalars(select(FundAccount))}
    now = uow.clock.now()
    breaks = []
    for no in sorted(set(theirs) | set(ours)):
        mine, line = ours.get(no), theirs.get(no)
        if mine is None:
            assert line is not None
            breaks.append((no, "missing_here", 0, line.units_fen))
        elif line is None:
            breaks.append((no, "missing_at_fund", mine.units_fen, 0))
        else:
            if mine.units_fen != line.units_fen:
                breaks.append((no, "units_mismatch", mine.units_fen, line.units_fen))
            if mine.redeeming_fen != line.redeeming_fen:
                breaks.append((no, "redeeming_mismatch", mine.redeeming_fen, line.redeeming_fen))
    for no, kind, ours_fen, theirs_fen in breaks:
        uow.s.add(FundBreak(business_date=day, account_no=no, kind=kind, ours_fen=ours_fen,
                            theirs_fen=theirs_fen, created_at=now))
    return len(breaks)


def breaks_on(uow: UnitOfWork, day: date) -> list[dict[str, object]]:
    return [{"account_no": b.account_no, "kind": b.kind, "ours": str(Money(b.ours_fen)),
             "theirs": str(Money(b.theirs_fen))}
            for b in uow.s.scalars(select(FundBreak).where(FundBreak.business_date == day)
                                   .order_by(FundBreak.id))]


def day_steps(fund: FundCompany) -> list[tuple[str, Callable[[UnitOfWork, date], int]]]:
    """The wallet's close-of-business steps, in order, as (name, fn(uow, day)) pairs for
    servicing's `DayStep` (wired in `bootstrap.Platform.day_steps`)."""
    return [
        ("fund_confirm", lambda uow, day: confirm(uow, fund, day)),
        ("fund_income", lambda uow, day: pay_income(uow, fund, day)),
        ("fund_reconcile", lambda uow, day: reconcile(uow, fund, day)),
    ]


# --- queries --------------------------------------------------------------------------------
def seven_day_yield_on(uow: UnitOfWork, day: date) -> Decimal | None:
    """The 7-day annualised yield (percent) over the seven days ending `day`, or None while
    fewer than seven days of 万份收益 are recorded."""
    rows = uow.s.scalars(select(FundYield.per_10k_e4).where(
        FundYield.day <= day, FundYield.day > day - timedelta(days=7))).all()
    if len(rows) < 7:
        return None
    return seven_day_yield([Decimal(r) / 10_000 for r in rows])


def overview(uow: UnitOfWork, investor_id: int) -> dict[str, Any]:
    """An investor's cash wallet: units, income, pending orders, today's instant allowance."""
    today = uow.clock.today()
    account = account_of(uow, investor_id)
    latest = uow.s.execute(select(FundYield).order_by(FundYield.day.desc()).limit(1)).scalar()
    seven = seven_day_yield_on(uow, latest.day) if latest is not None else None
    cap = instant_cap_on(today)
    used = instant_total(uow, account.id, today) if account is not None else Money(0)
    orders = [] if account is None else [
        {"order_no": o.order_no, "kind": o.kind, "amount": str(Money(o.amount_fen)),
         "status": o.status, "trade_date": o.trade_date.isoformat(),
         "confirm_date": o.confirm_date.isoformat(),
         "confirmed_on": o.confirmed_on.isoformat() if o.confirmed_on else None}
        for o in uow.s.scalars(select(FundOrderRow).where(FundOrderRow.account_id == account.id)
                               .order_by(FundOrderRow.id.desc()).limit(50))]
    return {
        "account_no": account.account_no if account else None,
        "fund_code": account.fund_code if account else None,
        "units": str(Money(account.units_fen if account else 0)),
        "redeeming": str(Money(account.redeeming_fen if account else 0)),
        "income_total": str(Money(account.income_posted_fen if account else 0)),
        "latest_per_10k": (f"{Decimal(latest.per_10k_e4) / 10_000:.4f}"
                           if latest is not None else None),
        "seven_day_yield_percent": f"{seven:.4f}" if seven is not None else None,
        "instant_cap_today": str(cap.cap) if cap else None,
        "instant_left_today": str(Money(max(cap.cap.fen - used.fen, 0))) if cap else None,
        "instant_cap_rule": cap.rule.rule_id if cap else None,
        "orders": orders,
    }
