"""Cash wallet use cases (余额宝-style): move idle wallet money into a money-market fund and back,
through a fund company speaking the fund-sales protocol (`adapters/fundco`).

The fund, not the platform, holds the money. Every order is first recorded, with its money
movement, in one transaction (status pending: the outbox); the relay (`relay_orders`, run by
close of business and beside `biaodi serve`) sends it to the fund afterwards with no transaction
open, under its fixed order_no, retrying with a back-off while the fund is down.

A subscription leaves custody the day it is placed (investor:N:available ↓ / custody:cash ↓:
paid to the fund's settlement account) and the fund confirms its units on T+1; a redemption
comes back into custody when the fund pays it (custody:cash ↑ / investor:N:available ↑): an
ordinary one on T+1 without a cap, an instant one at once up to the dated daily cap. Units and
income are the fund's; this channel keeps its own record of them and reconciles it daily
against the fund's statement (`reconcile`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.clock import CST
from biaodi.adapters.db import audit
from biaodi.adapters.db.fund_tables import (
    FundAccount,
    FundBreak,
    FundIncome,
    FundOrderRow,
    FundReconciliation,
    FundYield,
)
from biaodi.adapters.db.tables import UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.fundco.protocol import (
    Ack,
    FundCompany,
    FundOrder,
    FundRefused,
    FundUnavailable,
    OrderKind,
)
from biaodi.domain.funds.wallet import (
    check_instant_redemption,
    daily_income_exact,
    instant_cap_on,
    parse_per_10k,
    post_income,
    seven_day_yield,
    trade_dates,
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
    """The investor's account for the fund, recorded on first use; the relay opens it at the
    fund company (under the reference `biaodi:<investor id>`) before sending its first order."""
    existing = account_of(uow, investor_id, lock=True)
    if existing is not None:
        return existing
    if not _is_investor(uow, investor_id):
        raise NotFound(f"user {investor_id} is not an investor", field="investor_id")
    account = FundAccount(investor_id=investor_id, fund_code=fund.fund_code, account_no=None,
                          units_fen=0, redeeming_fen=0, income_exact_e8=0, income_posted_fen=0,
                          created_at=uow.clock.now())
    uow.s.add(account)
    uow.s.flush()
    return account


def _record(uow: UnitOfWork, account: FundAccount, kind: OrderKind, amount: Money
            ) -> FundOrderRow:
    """The order as the outbox row, in the transaction of its money movement: pending until
    the relay has it taken by the fund (`relay_orders`). Its dates follow the fund's rules
    from the time it came in; the fund's acknowledgement replaces them."""
    now = _utc_now(uow)
    if kind == "instant_redeem":
        trade = confirm_by = now.astimezone(CST).date()
    else:
        dates = trade_dates(now.astimezone(CST))
        trade, confirm_by = dates.trade_date, dates.confirm_date
    row = FundOrderRow(order_no=f"biaodi-{uuid.uuid4().hex}", account_id=account.id, kind=kind,
                       amount_fen=amount.fen, status="pending", received_at=now,
                       trade_date=trade, confirm_date=confirm_by, attempts=0,
                       next_attempt_at=now, last_error="")
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
    row = _record(uow, account, "subscribe", amount)
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
    return _record(uow, account, "redeem", amount)


def instant_total(uow: UnitOfWork, account_id: int, day: date) -> Money:
    total = uow.s.execute(select(func.coalesce(func.sum(FundOrderRow.amount_fen), 0)).where(
        FundOrderRow.account_id == account_id, FundOrderRow.kind == "instant_redeem",
        FundOrderRow.trade_date == day)).scalar_one()
    return Money(int(total))


def instant_redeem(uow: UnitOfWork, fund: FundCompany, investor_id: int, amount: Money
                   ) -> FundOrderRow:
    """An instant (T+0) redemption, paid into the wallet at once, within the daily cap; the
    relay tells the fund afterwards."""
    return top_up(uow, investor_id, amount)


def instant_redeemable(uow: UnitOfWork, investor_id: int) -> tuple[Money, str | None]:
    """What an instant redemption could pay this investor now: their confirmed units, within
    what today's cap leaves; with the cap's rule id when the cap is what limits it."""
    account = account_of(uow, investor_id)
    if account is None or account.units_fen <= 0:
        return Money(0), None
    today = uow.clock.now().astimezone(CST).date()
    cap = instant_cap_on(today)
    if cap is None:
        return Money(account.units_fen), None
    left = max(cap.cap.fen - instant_total(uow, account.id, today).fen, 0)
    if left < account.units_fen:
        return Money(left), cap.rule.rule_id
    return Money(account.units_fen), None


def top_up(uow: UnitOfWork, investor_id: int, amount: Money) -> FundOrderRow:
    """An instant redemption of the investor's own units into their own wallet (also what
    auto-invest uses when a rule may draw on the cash wallet), in the caller's transaction."""
    _positive(amount)
    account = _existing(uow, investor_id)
    today = uow.clock.now().astimezone(CST).date()
    check_instant_redemption(today, instant_total(uow, account.id, today), amount)
    _take_units(uow, account, amount, redeeming=False)
    row = _record(uow, account, "instant_redeem", amount)
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


# --- the relay: orders to the fund company, outside any transaction ---------------------------
LEASE = timedelta(minutes=2)


def backoff(attempts: int) -> timedelta:
    """The wait before the next try: 30 s, doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class RelayResult:
    opened: int = 0
    placed: int = 0
    refused: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"opened": self.opened, "placed": self.placed, "refused": self.refused,
                "failed": self.failed, "errors": self.errors[:5]}


@dataclass(frozen=True)
class _Claimed:
    id: int
    order: FundOrder  # account_no "" until the account is opened
    account_id: int
    investor_id: int


def _utc_now(uow: UnitOfWork) -> datetime:
    """Times of the outbox are kept in UTC, so that SQLite (which drops the offset) compares
    and reads them back right."""
    return uow.clock.now().astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _claim(uow: UnitOfWork, limit: int) -> list[_Claimed]:
    now = _utc_now(uow)
    query = (select(FundOrderRow, FundAccount)
             .join(FundAccount, FundAccount.id == FundOrderRow.account_id)
             .where(FundOrderRow.status == "pending", FundOrderRow.next_attempt_at <= now)
             .order_by(FundOrderRow.id).limit(limit))
    if uow.s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=FundOrderRow, skip_locked=True)
    claimed = []
    for row, account in uow.s.execute(query).all():
        row.attempts += 1
        row.next_attempt_at = now + LEASE  # a lease: no other relay sends it meanwhile
        order = FundOrder(row.order_no, account.account_no or "", row.kind, row.amount_fen,
                          _aware(row.received_at))
        claimed.append(_Claimed(row.id, order, account.id, account.investor_id))
    uow.s.flush()
    return claimed


def _send(fund: FundCompany, claimed: list[_Claimed], opened: dict[int, str]
          ) -> dict[int, Ack | tuple[str, str]]:
    """Open accounts and place orders, in order; after a failure an account's later orders
    wait for the next pass, so the fund takes them in the order they were made."""
    outcomes: dict[int, Ack | tuple[str, str]] = {}
    stalled: set[int] = set()
    for item in claimed:
        if item.account_id in stalled:
            outcomes[item.id] = ("deferred", "an earlier order of the account is waiting")
            continue
        try:
            account_no = item.order.account_no or opened.get(item.account_id)
            if not account_no:
                account_no = fund.open_account(f"biaodi:{item.investor_id}")
                opened[item.account_id] = account_no
            outcomes[item.id] = fund.place(replace(item.order, account_no=account_no))
        except FundRefused as refused:
            outcomes[item.id] = ("refused", str(refused))
        except FundUnavailable as down:
            outcomes[item.id] = ("failed", str(down))
            stalled.add(item.account_id)
    return outcomes


def _refused(uow: UnitOfWork, row: FundOrderRow, account: FundAccount) -> None:
    """The fund refused: a subscription's money comes back to the wallet, an ordinary
    redemption's units back to the account. An instant redemption was paid already: it stays
    for the reconciliation and an operator."""
    row.status = "refused"
    if row.kind == "subscribe":
        _pay_out(uow, account.investor_id, row.amount_fen, "fund_subscription_refused")
    elif row.kind == "redeem":
        account.units_fen += row.amount_fen
        account.redeeming_fen -= row.amount_fen


def relay_orders(units: Callable[[], UnitOfWork], fund: FundCompany, *, limit: int = 200
                 ) -> RelayResult:
    """One pass: claim due orders (one short transaction), send them with no transaction
    open, record the answers (one transaction): placed, refused, or tried again after a
    back-off. A crash between sending and recording sends again after the lease under the same
    order_no, which the fund answers with its first acknowledgement."""
    result = RelayResult()
    with units() as uow:
        claimed = _claim(uow, limit)
        uow.commit()
    if not claimed:
        return result
    opened: dict[int, str] = {}
    outcomes = _send(fund, claimed, opened)
    with units() as uow:
        now = _utc_now(uow)
        for account_id, account_no in opened.items():
            account = uow.s.get(FundAccount, account_id, with_for_update=True)
            if account is not None and account.account_no is None:
                account.account_no = account_no
                result.opened += 1
        for item in claimed:
            row = uow.s.get(FundOrderRow, item.id, with_for_update=True)
            if row is None or row.status != "pending":
                continue  # confirmed meanwhile (the fund took it and its answer was lost)
            outcome = outcomes[item.id]
            if isinstance(outcome, Ack):
                row.trade_date, row.confirm_date = outcome.trade_date, outcome.confirm_date
                row.status, row.placed_at, row.last_error = "placed", now, ""
                if row.kind == "instant_redeem":
                    row.status, row.confirmed_on = "confirmed", outcome.confirm_date
                result.placed += 1
                continue
            what, error = outcome
            row.last_error = error[:400]
            if what == "refused":
                account = uow.s.get(FundAccount, row.account_id, with_for_update=True)
                assert account is not None
                _refused(uow, row, account)
                result.refused += 1
            elif what == "deferred":
                row.attempts -= 1
                row.next_attempt_at = now
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                result.failed += 1
            result.errors.append(f"{row.order_no}: {error}")
        uow.commit()
    return result


def orders_waiting(uow: UnitOfWork) -> list[dict[str, object]]:
    """Orders the fund has not taken yet, oldest first (operators, `biaodi wallet outbox`)."""
    return [{"order_no": o.order_no, "kind": o.kind, "amount": str(Money(o.amount_fen)),
             "received_at": o.received_at.isoformat(), "attempts": o.attempts,
             "next_attempt_at": o.next_attempt_at.isoformat() if o.next_attempt_at else None,
             "last_error": o.last_error}
            for o in uow.s.scalars(select(FundOrderRow).where(FundOrderRow.status == "pending")
                                   .order_by(FundOrderRow.id).limit(200))]


# --- close of business ----------------------------------------------------------------------
def confirm(uow: UnitOfWork, fund: FundCompany, day: date) -> int:
    """Take the fund's confirmations up to `day`: a subscription's units join the account, an
    ordinary redemption is paid into the wallet (an instant one was paid when it was made).
    Orders already confirmed are skipped."""
    done = 0
    for c in fund.confirmations(day):
        row = uow.s.scalars(select(FundOrderRow).where(FundOrderRow.order_no == c.order_no)
                            .with_for_update()).first()
        if row is None or row.status in ("confirmed", "refused"):
            continue
        account = uow.s.get(FundAccount, row.account_id, with_for_update=True)
        assert account is not None
        if row.kind == "subscribe":
            account.units_fen += c.units_fen
        elif row.kind == "redeem":
            account.redeeming_fen -= c.units_fen
            row.entry_id = _pay_out(uow, account.investor_id, c.units_fen, "fund_redemption")
        row.status, row.confirmed_on = "confirmed", c.confirmed_on
        row.placed_at = row.placed_at or _utc_now(uow)
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
    becomes a break row. Rerunning the day replaces its open breaks; resolved ones stay."""
    uow.s.execute(FundBreak.__table__.delete().where(FundBreak.business_date == day,
                                                     FundBreak.resolution.is_(None)))
    resolved = {(b.account_no, b.kind) for b in uow.s.scalars(
        select(FundBreak).where(FundBreak.business_date == day))}
    statement = fund.statement(day)
    theirs = {line.account_no: line for line in statement}
    ours = {a.account_no: a for a in uow.s.scalars(
        select(FundAccount).where(FundAccount.account_no.is_not(None)))}
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
        if (no, kind) not in resolved:
            uow.s.add(FundBreak(business_date=day, account_no=no, kind=kind, ours_fen=ours_fen,
                                theirs_fen=theirs_fen, created_at=now))
    run = uow.s.get(FundReconciliation, day)
    if run is None:
        run = FundReconciliation(business_date=day)
        uow.s.add(run)
    run.lines, run.breaks, run.reconciled_at = len(statement), len(breaks), now
    return len(breaks)


def _break_view(b: FundBreak) -> dict[str, object]:
    return {"id": b.id, "business_date": b.business_date.isoformat(),
            "account_no": b.account_no, "kind": b.kind, "ours": str(Money(b.ours_fen)),
            "theirs": str(Money(b.theirs_fen)), "resolution": b.resolution,
            "resolved_by": b.resolved_by, "reason": b.reason,
            "cleared_on": b.cleared_on.isoformat() if b.cleared_on else None,
            "entry_id": b.entry_id}


def breaks_on(uow: UnitOfWork, day: date) -> list[dict[str, object]]:
    return [_break_view(b) for b in uow.s.scalars(
        select(FundBreak).where(FundBreak.business_date == day).order_by(FundBreak.id))]


def open_breaks(uow: UnitOfWork, *, limit: int = 200) -> list[dict[str, object]]:
    """Breaks no operator has resolved yet, oldest first."""
    return [_break_view(b) for b in uow.s.scalars(
        select(FundBreak).where(FundBreak.resolution.is_(None))
        .order_by(FundBreak.business_date, FundBreak.id).limit(limit))]


# --- resolving breaks ------------------------------------------------------------------------
RESOLUTIONS = ("adjust", "timing")
ADJUSTABLE = {"units_mismatch": "units_fen", "redeeming_mismatch": "redeeming_fen",
              "missing_at_fund": "units_fen"}


@dataclass(frozen=True)
class ResolveBreak:
    break_id: int
    operator_id: int
    #: adjust: take the fund's figure, posting the difference between suspense:fund and
    #: platform:fund_adjustment; timing: a timing difference, cleared by a later statement.
    resolution: str
    reason: str
    cleared_on: date | None = None


def resolve_break(uow: UnitOfWork, cmd: ResolveBreak) -> dict[str, object]:
    """An operator's resolution of one break, recorded with who, when and why."""
    if cmd.resolution not in RESOLUTIONS:
        raise InvalidInput("resolution is adjust or timing", field="resolution")
    reason = cmd.reason.strip()
    if not 1 <= len(reason) <= 400:
        raise InvalidInput("a resolution needs a reason of 1 to 400 characters", field="reason")
    found = uow.s.get(FundBreak, cmd.break_id, with_for_update=True)
    if found is None:
        raise NotFound(f"no cash-wallet break {cmd.break_id}", field="break_id")
    if found.resolution is not None:
        raise Conflict(f"break {found.id} was resolved already ({found.resolution})",
                       field="break_id", code="already_resolved")
    if cmd.resolution == "adjust":
        found.entry_id = _adjust(uow, found)
    else:
        _check_cleared(uow, found, cmd.cleared_on)
        found.cleared_on = cmd.cleared_on
    found.resolution = "adjusted" if cmd.resolution == "adjust" else "timing"
    found.resolved_by, found.resolved_at, found.reason = cmd.operator_id, uow.clock.now(), reason
    audit.note(uow, "cash_wallet.break_resolved", changes={
        "break_id": found.id, "business_date": found.business_date, "kind": found.kind,
        "account_no": found.account_no, "resolution": found.resolution,
        "ours_fen": found.ours_fen, "theirs_fen": found.theirs_fen,
        "operator_id": cmd.operator_id, "reason": reason})
    uow.s.flush()
    return _break_view(found)


def _adjust(uow: UnitOfWork, found: FundBreak) -> int | None:
    """Take the fund's figure: our record moves by the difference, and the difference is
    posted between suspense:fund and platform:fund_adjustment (fewer units at the fund: an
    adjustment expense held in suspense until recovered or paid; more: the reverse)."""
    column = ADJUSTABLE.get(found.kind)
    account = uow.s.scalars(select(FundAccount).where(
        FundAccount.account_no == found.account_no).with_for_update()).first()
    if column is None or account is None:
        raise Conflict(f"a {found.kind} break has no record here to adjust; mark it a timing"
                       " difference or open the account first", field="resolution",
                       code="cannot_adjust")
    delta = found.theirs_fen - found.ours_fen
    if getattr(account, column) + delta < 0:
        raise Conflict(f"account {account.account_no} no longer holds the {Money(-delta)} the"
                       " fund's figure takes away", field="resolution", code="cannot_adjust")
    setattr(account, column, getattr(account, column) + delta)
    if delta == 0:
        return None
    memo = f"{found.account_no} {found.kind} on {found.business_date}"
    draft = EntryDraft("fund_break_adjustment", memo=memo)
    if delta < 0:
        draft.transfer("platform:fund_adjustment", "suspense:fund", -delta)
    else:
        draft.transfer("suspense:fund", "platform:fund_adjustment", delta)
    return ledger.post(uow, draft).entry_id


def _check_cleared(uow: UnitOfWork, found: FundBreak, cleared_on: date | None) -> None:
    """A timing difference is cleared by a later day's reconciliation that no longer shows
    the same difference for the account."""
    if cleared_on is None or cleared_on <= found.business_date:
        raise InvalidInput("cleared_on must be a later business date whose statement agrees",
                           field="cleared_on")
    if uow.s.get(FundReconciliation, cleared_on) is None:
        raise Conflict(f"the fund's statement of {cleared_on} has not been reconciled",
                       field="cleared_on", code="not_cleared")
    still = uow.s.execute(select(FundBreak.id).where(
        FundBreak.business_date == cleared_on, FundBreak.account_no == found.account_no,
        FundBreak.kind == found.kind)).first()
    if still is not None:
        raise Conflict(f"the statement of {cleared_on} still shows the {found.kind} for"
                       f" {found.account_no}", field="cleared_on", code="not_cleared")


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
