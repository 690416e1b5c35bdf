"""Reconciliation (对账) and the payment exception queue.

`reconcile` matches a day's gateway statement against the ledger three ways:

1. statement ↔ ledger, per gateway transaction: each line's signed amount against the sum of
   the postings on custody:cash of the entries booked for that transaction id
   (`missing_in_ledger`, `missing_at_gateway`, `amount_mismatch`);
2. ledger custody ↔ wallets: custody:cash at the end of the day equals what users are owed —
   every wallet (available, frozen, buy-back reserve) plus suspense:gateway
   (`custody_mismatch`: the platform's own money is in custody, or users' money is missing);
3. both through (1), since custody:cash only changes with gateway transactions and with
   entries that move money between the platform and custody on purpose (bonuses).

Each discrepancy becomes an exception row; an operator resolves it with a reason, through the
ledger (`resolve`). A discrepancy that is no longer found on a rerun is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from biaodi.adapters import faults
from biaodi.adapters.db.payment_tables import (
    GatewayEntry,
    GatewayTransaction,
    PaymentException,
    PaymentOrder,
)
from biaodi.adapters.db.tables import Account, JournalEntry, PostingRow
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.gateway.client import RefundDone
from biaodi.adapters.gateway.protocol import GatewayEvent, StatementLine
from biaodi.domain.ledger.rules import ROLE_WALLETS, EntryDraft
from biaodi.domain.payments import orders as rules
from biaodi.domain.payments.orders import (
    CUSTODY,
    SUSPENSE,
    ExceptionKind,
    GatewayStatus,
    OrderKind,
    OrderStatus,
    TxnType,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.payments.orders import apply_event, link_entry, move_status, record_txn

_CHUNK = 500


def _signed(fen: int | None) -> str | None:
    if fen is None:
        return None
    return ("+" if fen > 0 else "") + str(Money(fen))


@dataclass(frozen=True)
class Discrepancy:
    kind: ExceptionKind
    txn_id: str | None
    order_no: str | None
    gateway_fen: int | None
    ledger_fen: int | None
    detail: dict[str, Any] = field(default_factory=dict)

    def base_key(self, day: date) -> str:
        return f"{self.kind.value}:{self.txn_id or day.isoformat()}"

    def describe(self) -> str:
        what = f"txn {self.txn_id} (order {self.order_no})" if self.txn_id else "custody"
        return (f"{self.kind.value}: {what}: gateway {_signed(self.gateway_fen) or '—'}, "
                f"ledger {_signed(self.ledger_fen) or '—'}")


@dataclass(frozen=True)
class ExceptionView:
    id: int
    kind: str
    source: str
    status: str
    business_date: date
    txn_id: str | None
    order_no: str | None
    gateway_fen: int | None
    ledger_fen: int | None
    detail: dict[str, Any]
    resolution: str | None
    reason: str
    resolved_by: int | None
    resolved_at: datetime | None
    entry_id: int | None

    def as_dict(self) -> dict[str, Any]:
        actions = sorted(rules.RESOLUTIONS[ExceptionKind(self.kind)])
        return {
            "id": self.id, "kind": self.kind, "source": self.source, "status": self.status,
            "business_date": self.business_date.isoformat(), "txn_id": self.txn_id,
            "order_no": self.order_no, "gateway_amount": _signed(self.gateway_fen),
            "ledger_amount": _signed(self.ledger_fen), "detail": self.detail,
            "actions": actions if self.status == "open" else [],
            "resolution": self.resolution, "reason": self.reason,
            "resolved_by": self.resolved_by,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "entry_id": self.entry_id,
        }


def _view(e: PaymentException, order_no: str | None) -> ExceptionView:
    if order_no is None and isinstance(e.detail, dict):
        order_no = e.detail.get("order_no")
    return ExceptionView(
        id=e.id, kind=e.kind, source=e.source, status=e.status,
        business_date=e.business_date, txn_id=e.txn_id, order_no=order_no,
        gateway_fen=e.gateway_fen, ledger_fen=e.ledger_fen, detail=dict(e.detail or {}),
        resolution=e.resolution, reason=e.reason, resolved_by=e.resolved_by,
        resolved_at=e.resolved_at, entry_id=e.entry_id,
    )


def list_exceptions(uow: UnitOfWork, *, status: str | None = None, kind: str | None = None,
                    day: date | None = None, limit: int = 200) -> list[ExceptionView]:
    query = (select(PaymentException, PaymentOrder.order_no)
             .outerjoin(PaymentOrder, PaymentOrder.id == PaymentException.order_id)
             .order_by(PaymentException.id).limit(min(limit, 1000)))
    if status is not None:
        if status not in ("open", "resolved"):
            raise InvalidInput("status must be open or resolved", field="status")
        query = query.where(PaymentException.status == status)
    if kind is not None:
        if kind not in {k.value for k in ExceptionKind}:
            raise InvalidInput(f"kind must be one of {', '.join(k.value for k in ExceptionKind)}",
                               field="kind")
        query = query.where(PaymentException.kind == kind)
    if day is not None:
        query = query.where(PaymentException.business_date == day)
    return [_view(e, order_no) for e, order_no in uow.s.execute(query)]


# --- the ledger's side ------------------------------------------------------------------------
def _custody_id(uow: UnitOfWork) -> int:
    found = uow.s.execute(select(Account.id).where(Account.code == CUSTODY)).scalar()
    if found is None:
        raise NotFound("custody:cash is missing: run `biaodi db upgrade`", field="account")
    return int(found)


def _ledger_by_txn(uow: UnitOfWork, condition: Any) -> dict[str, tuple[int, str | None, date]]:
    """txn_id → (signed custody:cash effect of its entries, order number, gateway date)."""
    custody = _custody_id(uow)
    rows = uow.s.execute(
        select(GatewayTransaction.txn_id, GatewayTransaction.gateway_date, PaymentOrder.order_no,
               func.coalesce(func.sum(PostingRow.amount), 0))
        .select_from(GatewayTransaction)
        .outerjoin(PaymentOrder, PaymentOrder.id == GatewayTransaction.order_id)
        .outerjoin(GatewayEntry, GatewayEntry.txn_id == GatewayTransaction.txn_id)
        .outerjoin(PostingRow, and_(PostingRow.entry_id == GatewayEntry.entry_id,
                                    PostingRow.account_id == custody))
        .where(condition)
        .group_by(GatewayTransaction.txn_id, GatewayTransaction.gateway_date,
                  PaymentOrder.order_no)
    )
    return {txn: (int(total), order_no, day) for txn, day, order_no, total in rows}


def custody_of_txn(uow: UnitOfWork, txn_id: str) -> int:
    found = _ledger_by_txn(uow, GatewayTransaction.txn_id == txn_id)
    if txn_id not in found:
        raise NotFound(f"transaction {txn_id} is not in the ledger", field="txn_id")
    return found[txn_id][0]


def custody_position(uow: UnitOfWork, day: date) -> tuple[int, int]:
    """(custody:cash, wallets + suspense:gateway) at the end of `day`, from the postings."""
    purposes = sorted({p for ps in ROLE_WALLETS.values() for p in ps})
    is_custody = Account.code == CUSTODY
    row = uow.s.execute(
        select(func.coalesce(func.sum(case((is_custody, PostingRow.amount), else_=0)), 0),
               func.coalesce(func.sum(case((is_custody, 0), else_=-PostingRow.amount)), 0))
        .select_from(PostingRow)
        .join(JournalEntry, JournalEntry.id == PostingRow.entry_id)
        .join(Account, Account.id == PostingRow.account_id)
        .where(JournalEntry.business_date <= day)
        .where(or_(Account.code.in_([CUSTODY, SUSPENSE]),
                   and_(Account.owner_kind.in_(sorted(ROLE_WALLETS)),
                        Account.purpose.in_(purposes))))
    ).one()
    return int(row[0]), int(row[1])


# --- reconcile ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    day: date
    lines: int
    findings: Findings
    cleared: int
    open: list[ExceptionView]


@dataclass(frozen=True)
class Findings:
    matched: int
    found: list[Discrepancy]
    custody_fen: int
    owed_fen: int


def find_discrepancies(uow: UnitOfWork, day: date, lines: list[StatementLine]) -> Findings:
    """Compare the statement with the ledger, and custody with what users are owed."""
    booked = _ledger_by_txn(uow, GatewayTransaction.gateway_date == day)
    strays = [line.txn_id for line in lines if line.txn_id not in booked]
    for start in range(0, len(strays), _CHUNK):  # lines booked under another date
        booked |= _ledger_by_txn(uow, GatewayTransaction.txn_id.in_(strays[start:start + _CHUNK]))
    matched, found = 0, []
    for line in lines:
        if line.txn_id not in booked:
            found.append(Discrepancy(ExceptionKind.MISSING_IN_LEDGER, line.txn_id,
                                     line.order_no, line.custody_fen, None,
                                     {"line": line.as_row(), "order_no": line.order_no}))
            continue
        in_ledger, order_no, _ = booked[line.txn_id]
        if in_ledger != line.custody_fen:
            found.append(Discrepancy(ExceptionKind.AMOUNT_MISMATCH, line.txn_id, order_no,
                                     line.custody_fen, in_ledger, {"line": line.as_row()}))
        else:
            matched += 1
    on_statement = {line.txn_id for line in lines}
    for txn_id, (in_ledger, order_no, booked_day) in sorted(booked.items()):
        if txn_id not in on_statement and booked_day == day and in_ledger != 0:
            found.append(Discrepancy(ExceptionKind.MISSING_AT_GATEWAY, txn_id, order_no,
                                     None, in_ledger))
    custody, owed = custody_position(uow, day)
    if custody != owed:
        found.append(Discrepancy(ExceptionKind.CUSTODY_MISMATCH, None, None, None, custody,
                                 {"owed_fen": owed, "difference_fen": custody - owed}))
    return Findings(matched, found, custody, owed)


def reconcile(uow: UnitOfWork, day: date, lines: list[StatementLine]) -> Report:
    """Match, record new discrepancies as open exceptions (once each), clear those that are
    gone, and report what is still open for the day."""
    if day > uow.clock.today():
        raise InvalidInput("cannot reconcile a day that has not begun", field="date")
    findings = find_discrepancies(uow, day, lines)
    current = {_record(uow, day, d) for d in findings.found}
    faults.point("reconcile.recorded")
    cleared = 0
    for e in uow.s.scalars(select(PaymentException).where(
            PaymentException.source == "reconciliation", PaymentException.status == "open",
            PaymentException.business_date == day).with_for_update()):
        if e.key not in current:
            _close(uow, e, "cleared", "no longer found by reconciliation", None, None)
            cleared += 1
    uow.s.flush()
    return Report(day, len(lines), findings, cleared, list_exceptions(uow, status="open", day=day))


def _record(uow: UnitOfWork, day: date, d: Discrepancy) -> str:
    base = d.base_key(day)
    earlier = list(uow.s.scalars(
        select(PaymentException)
        .where(or_(PaymentException.key == base, PaymentException.key.like(base + "/%")))
        .order_by(PaymentException.id.desc())
    ))
    if earlier and earlier[0].status == "open":
        return earlier[0].key
    order_id = None
    if d.order_no is not None:
        order_id = uow.s.execute(
            select(PaymentOrder.id).where(PaymentOrder.order_no == d.order_no)
        ).scalar()
    key = base if not earlier else f"{base}/{len(earlier) + 1}"
    uow.s.add(PaymentException(
        key=key, kind=d.kind.value, source="reconciliation", status="open", business_date=day,
        txn_id=d.txn_id, order_id=order_id, gateway_fen=d.gateway_fen, ledger_fen=d.ledger_fen,
        detail=d.detail, created_at=uow.clock.now(), reason="",
    ))
    uow.s.flush()
    return key


def _close(uow: UnitOfWork, e: PaymentException, action: str, reason: str,
           actor_id: int | None, entry_id: int | None) -> None:
    e.status, e.resolution, e.reason = "resolved", action, reason
    e.resolved_by, e.resolved_at, e.entry_id = actor_id, uow.clock.now(), entry_id


# --- resolution -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Resolve:
    exception_id: int
    action: str
    reason: str


@dataclass(frozen=True)
class RefundRequest:
    refund_no: str
    original_txn_id: str
    amount: Money


def _open_exception(uow: UnitOfWork, exception_id: int, *,
                    for_update: bool = False) -> PaymentException:
    query = select(PaymentException).where(PaymentException.id == exception_id)
    if for_update:
        query = query.with_for_update()
    e = uow.s.execute(query).scalar_one_or_none()
    if e is None:
        raise NotFound(f"no payment exception {exception_id}", field="exception_id")
    if e.status != "open":
        raise Conflict(f"exception {exception_id} is already {e.status} ({e.resolution})",
                       field="exception_id", code="already_resolved")
    return e


def _suspended_order(uow: UnitOfWork, e: PaymentException, action: str,
                     kind: OrderKind) -> PaymentOrder:
    order = (uow.s.execute(select(PaymentOrder).where(PaymentOrder.id == e.order_id)
                           .with_for_update()).scalar_one_or_none()
             if e.order_id is not None else None)
    if order is None or order.kind != kind or order.status != OrderStatus.SUSPENDED:
        raise InvalidInput(f"{action} applies to a suspended {kind.value}", field="action")
    return order


def refund_request(uow: UnitOfWork, cmd: Resolve) -> RefundRequest:
    """Check a refund resolution before the gateway is asked to pay the money back."""
    e = _open_exception(uow, cmd.exception_id)
    rules.check_resolution(e.kind, cmd.action, cmd.reason)
    order = _suspended_order(uow, e, cmd.action, OrderKind.DEPOSIT)
    assert e.txn_id is not None and e.gateway_fen is not None
    return RefundRequest(f"R{order.order_no}", e.txn_id, Money(e.gateway_fen))


def _counter(order: PaymentOrder | None) -> str:
    """Where custody corrections for a transaction land: its order's wallet, else suspense."""
    return rules.available(order.role, order.user_id) if order is not None else SUSPENSE


def resolve(uow: UnitOfWork, cmd: Resolve, *, actor_id: int, merchant_id: str,
            refund: RefundDone | None = None) -> ExceptionView:
    """Resolve an open exception through the ledger, with a reason. Postings per action:

    credit_wallet (suspense_credited): suspense:gateway ↓, the depositor's available ↑;
    refund (suspense_refunded): suspense:gateway ↓, custody:cash ↓ — paid back by the gateway;
    settle (suspended_withdrawal_settled): frozen ↓, suspense ↑, the difference to available;
    apply: book the statement line as its callback would have been booked (see apply_event);
      a line for no known order goes custody:cash ↔ suspense:gateway (statement_applied);
    reverse (gateway_txn_reversed) and adjust (gateway_amount_adjusted): custody:cash moves to
      the gateway's figure against the order's available wallet (suspense if no order);
    sweep (custody_swept): custody:cash ↔ platform:cash by the difference found.
    """
    e = _open_exception(uow, cmd.exception_id, for_update=True)
    reason = rules.check_resolution(e.kind, cmd.action, cmd.reason)
    memo = f"{e.kind} #{e.id} resolved by {cmd.action}: {reason}"
    draft: EntryDraft | None = None
    txn_id = e.txn_id
    entry_id = None
    if cmd.action == "credit_wallet":
        order = _suspended_order(uow, e, cmd.action, OrderKind.DEPOSIT)
        fen = int(e.gateway_fen or 0)
        draft = rules.suspense_to_wallet(rules.available(order.role, order.user_id), fen, memo)
        move_status(uow, order, rules.move_order(order.status, OrderStatus.SUCCEEDED).value)
        order.updated_at = uow.clock.now()
    elif cmd.action == "settle":
        order = _suspended_order(uow, e, cmd.action, OrderKind.WITHDRAWAL)
        draft = rules.suspended_withdrawal_settled(order.role, order.user_id, order.amount_fen,
                                                   -int(e.gateway_fen or 0), memo)
        move_status(uow, order, rules.move_order(order.status, OrderStatus.SUCCEEDED).value)
        order.updated_at = uow.clock.now()
    elif cmd.action == "refund":
        order = _suspended_order(uow, e, cmd.action, OrderKind.DEPOSIT)
        if refund is None:
            raise InvalidInput("a refund needs the gateway's refund first", field="action")
        event = GatewayEvent(merchant_id, refund.txn_id, order.order_no, TxnType.REFUND,
                             GatewayStatus.SUCCEEDED, refund.amount, order.channel,
                             refund.completed_at, reason)
        record_txn(uow, event, order.id, "refund")
        txn_id = refund.txn_id
        draft = rules.suspense_refunded(refund.amount.fen, memo)
        move_status(uow, order, rules.move_order(order.status, OrderStatus.FAILED).value)
        order.failure_reason = f"refunded: {reason}"
        order.updated_at = uow.clock.now()
    elif cmd.action == "apply":
        line = _line(e)
        known = uow.s.execute(
            select(PaymentOrder.id).where(PaymentOrder.order_no == line.order_no)
        ).scalar()
        if known is not None:
            entry_id = apply_event(uow, line.as_event(merchant_id), source="statement").entry_id
        else:
            record_txn(uow, line.as_event(merchant_id), None, "statement")
            draft = rules.custody_adjusted(SUSPENSE, line.custody_fen, "statement_applied", memo)
    elif cmd.action in ("reverse", "adjust"):
        assert txn_id is not None
        order = _order_of_txn(uow, txn_id)
        target = 0 if cmd.action == "reverse" else int(e.gateway_fen or 0)
        delta = target - custody_of_txn(uow, txn_id)
        kind = "gateway_txn_reversed" if cmd.action == "reverse" else "gateway_amount_adjusted"
        if delta:
            draft = rules.custody_adjusted(_counter(order), delta, kind, memo)
        if cmd.action == "reverse" and order is not None and order.status == "succeeded":
            move_status(uow, order, rules.move_order(order.status, OrderStatus.REVERSED).value)
            order.updated_at = uow.clock.now()
    elif cmd.action == "sweep":
        delta = int((e.detail or {}).get("difference_fen", 0))
        if delta:
            draft = rules.custody_swept(delta, memo)
    if draft is not None:
        posted = ledger.post(uow, draft, idempotency_key=f"payment-exception:{e.id}",
                             actor_id=actor_id)
        entry_id = posted.entry_id
        if txn_id is not None:
            link_entry(uow, txn_id, posted, cmd.action)
    _close(uow, e, cmd.action, reason, actor_id, entry_id)
    uow.s.flush()
    order_no = uow.s.execute(
        select(PaymentOrder.order_no).where(PaymentOrder.id == e.order_id)
    ).scalar() if e.order_id is not None else None
    return _view(e, order_no)


def _line(e: PaymentException) -> StatementLine:
    row = (e.detail or {}).get("line") or {}
    return StatementLine(
        txn_id=row["txn_id"], order_no=row["order_no"], type=TxnType(row["type"]),
        amount=Money.parse(row["amount"], ceiling_fen=None), channel=row["channel"],
        completed_at=datetime.fromisoformat(row["completed_at"]),
    )


def _order_of_txn(uow: UnitOfWork, txn_id: str) -> PaymentOrder | None:
    return uow.s.execute(
        select(PaymentOrder).join(GatewayTransaction,
                                  GatewayTransaction.order_id == PaymentOrder.id)
        .where(GatewayTransaction.txn_id == txn_id).with_for_update(of=PaymentOrder)
    ).scalar_one_or_none()


# --- the latest results, for the console ------------------------------------------------------
def recent_results(uow: UnitOfWork, today: date, days: int = 10) -> dict[str, Any]:
    """What reconciliation last found: per business date (newest first) the discrepancies
    recorded, still open, resolved by an operator and cleared by a rerun; and custody against
    what users are owed at the end of today, as the ledger has it now."""
    rows = uow.s.execute(
        select(PaymentException.business_date, PaymentException.status,
               PaymentException.resolution, func.count())
        .where(PaymentException.source == "reconciliation")
        .group_by(PaymentException.business_date, PaymentException.status,
                  PaymentException.resolution)).all()
    by_day: dict[date, dict[str, Any]] = {}
    for day, status, resolution, count in rows:
        item = by_day.setdefault(day, {"business_date": day, "found": 0, "open": 0,
                                       "resolved": 0, "cleared": 0})
        item["found"] += int(count)
        key = "open" if status == "open" else ("cleared" if resolution == "cleared"
                                               else "resolved")
        item[key] += int(count)
    custody, owed = custody_position(uow, today)
    return {"days": [by_day[d] for d in sorted(by_day, reverse=True)[:days]],
            "custody": Money(custody), "owed": Money(owed), "difference": Money(custody - owed),
            "balanced": custody == owed, "as_of": today}
