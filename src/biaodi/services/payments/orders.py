"""Payment use cases: deposits (充值) and withdrawals (提现) through the gateway, the
gateway's signed callbacks, and the queries behind the API.

A deposit order is stored, then sent to the gateway; the money reaches the wallet only when a
signed callback says so. A withdrawal freezes the money in the transaction that stores the
order; the callback pays it out of custody or releases it. Every callback is verified (HMAC,
timestamp within tolerance of the platform's clock), stored raw with its verdict, and booked
at most once: the gateway's transaction id is unique and inserted in the same transaction as
its ledger effect. Events and postings: docs/PAYMENTS.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters import faults
from biaodi.adapters.db.payment_tables import (
    GatewayCallback,
    GatewayEntry,
    GatewayTransaction,
    PaymentException,
    PaymentOrder,
)
from biaodi.adapters.db.tables import User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.gateway import protocol
from biaodi.adapters.gateway.client import Gateway, GatewayRefused, OrderAccepted, OrderRequest
from biaodi.adapters.gateway.protocol import GatewayEvent
from biaodi.domain.ledger.rules import EntryDraft
from biaodi.domain.payments import orders as rules
from biaodi.domain.payments.orders import (
    ExceptionKind,
    GatewayStatus,
    OrderKind,
    OrderStatus,
    WithdrawalLimits,
)
from biaodi.domain.shared.errors import (
    BiaodiError,
    Conflict,
    InsufficientBalance,
    InvalidInput,
    NotFound,
)
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import roles_of
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared import audit
from biaodi.services.shared.tx import in_transaction

CALLBACK_PATH = "/api/v1/payments/callbacks"
#: Withdrawals that count against the daily limit: all but those that moved no money.
_COUNTED = (OrderStatus.CREATED, OrderStatus.PENDING, OrderStatus.SUCCEEDED,
            OrderStatus.SUSPENDED)


@dataclass(frozen=True)
class StartPayment:
    user_id: int
    amount: Money
    channel: str
    role: str | None = None


@dataclass(frozen=True)
class OrderView:
    order_no: str
    user_id: int
    role: str
    kind: str
    channel: str
    amount: Money
    status: str
    pay_url: str | None
    gateway_ref: str | None
    txn_id: str | None
    settled_amount: Money | None
    failure_reason: str
    business_date: date
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_no": self.order_no, "user_id": self.user_id, "role": self.role,
            "kind": self.kind, "channel": self.channel, "amount": str(self.amount),
            "status": self.status, "pay_url": self.pay_url, "qr_content": self.pay_url,
            "gateway_ref": self.gateway_ref, "txn_id": self.txn_id,
            "settled_amount": str(self.settled_amount) if self.settled_amount else None,
            "failure_reason": self.failure_reason,
            "business_date": self.business_date.isoformat(),
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }


def _view(order: PaymentOrder) -> OrderView:
    return OrderView(
        order_no=order.order_no, user_id=order.user_id, role=order.role, kind=order.kind,
        channel=order.channel, amount=Money(order.amount_fen), status=order.status,
        pay_url=order.pay_url, gateway_ref=order.gateway_ref, txn_id=order.txn_id,
        settled_amount=Money(order.settled_fen) if order.settled_fen is not None else None,
        failure_reason=order.failure_reason, business_date=order.business_date,
        created_at=order.created_at, updated_at=order.updated_at,
    )


def get_order(uow: UnitOfWork, order_no: str, *, user_id: int | None = None,
              for_update: bool = False) -> PaymentOrder:
    """An order by number; with `user_id`, only that user's (others' look like missing)."""
    query = select(PaymentOrder).where(PaymentOrder.order_no == order_no)
    if for_update:
        query = query.with_for_update()
    order = uow.s.execute(query).scalar_one_or_none()
    if order is None or (user_id is not None and order.user_id != user_id):
        raise NotFound(f"no payment order {order_no}", field="order_no", code="unknown_order")
    return order


def order_view(uow: UnitOfWork, order_no: str, *, user_id: int | None = None) -> OrderView:
    return _view(get_order(uow, order_no, user_id=user_id))


def _create(uow: UnitOfWork, cmd: StartPayment, kind: OrderKind) -> PaymentOrder:
    if cmd.amount.fen <= 0:
        raise InvalidInput("amount must be positive", field="amount")
    channel = rules.parse_channel(cmd.channel, kind)
    role = rules.wallet_role(roles_of(uow, cmd.user_id), cmd.role)
    today, now = uow.clock.today(), uow.clock.now()
    prefix = "D" if kind is OrderKind.DEPOSIT else "W"
    order = PaymentOrder(
        order_no=f"{prefix}{today:%Y%m%d}{uuid.uuid4().hex[:12].upper()}",
        user_id=cmd.user_id, role=role, kind=kind.value, channel=channel.value,
        amount_fen=cmd.amount.fen, status=OrderStatus.CREATED.value, failure_reason="",
        business_date=today, created_at=now, updated_at=now,
    )
    uow.s.add(order)
    uow.s.flush()
    audit.note(uow, "payment_order.created", subjects=_subjects(order), changes={
        "order_no": order.order_no, "kind": order.kind, "channel": order.channel,
        "role": order.role, "amount_fen": order.amount_fen, "status": order.status})
    return order


def _subjects(order: PaymentOrder) -> list[tuple[str, int]]:
    return [("payment_order", order.id), ("user", order.user_id)]


def move_status(uow: UnitOfWork, order: PaymentOrder, status: str) -> None:
    """Set an order's status (already checked by `rules.move_order` where it must be) and
    note the change for the audit trail."""
    before, order.status = order.status, status
    if before != status:
        audit.note(uow, "payment_order.status", subjects=_subjects(order), changes={
            "order_no": order.order_no, "status": [before, status]})


def start_deposit(uow: UnitOfWork, cmd: StartPayment) -> OrderView:
    """Store a deposit order (created); `submit` then sends it to the gateway. Posts nothing:
    the money arrives with the gateway's callback."""
    return _view(_create(uow, cmd, OrderKind.DEPOSIT))


def withdrawn_today(uow: UnitOfWork, user_id: int) -> Money:
    total = uow.s.execute(
        select(func.coalesce(func.sum(PaymentOrder.amount_fen), 0)).where(
            PaymentOrder.user_id == user_id,
            PaymentOrder.kind == OrderKind.WITHDRAWAL.value,
            PaymentOrder.business_date == uow.clock.today(),
            PaymentOrder.status.in_([s.value for s in _COUNTED]),
        )
    ).scalar()
    return Money(int(total or 0))


def start_withdrawal(uow: UnitOfWork, cmd: StartPayment, limits: WithdrawalLimits) -> OrderView:
    """Check the limits, store the order and freeze the money in one transaction.

    Postings (withdrawal_requested): <role>:N:available ↓ (debit), <role>:N:frozen ↑ (credit).
    """
    # Lock the user first so that two withdrawals at once see each other in the daily total.
    uow.s.execute(select(User.id).where(User.id == cmd.user_id).with_for_update())
    rules.check_withdrawal(cmd.amount, withdrawn_today(uow, cmd.user_id), limits)
    order = _create(uow, cmd, OrderKind.WITHDRAWAL)
    source = rules.available(order.role, order.user_id)
    have = Money(ledger.balance(uow, source))
    if have < cmd.amount:
        raise InsufficientBalance(
            f"amount {cmd.amount} yuan is more than the {have} yuan available in your "
            f"{order.role} wallet", field="amount",
        )
    ledger.post(
        uow,
        rules.withdrawal_requested(order.role, order.user_id, cmd.amount.fen,
                                   f"withdrawal {order.order_no} requested"),
        idempotency_key=f"payment:{order.order_no}:freeze",
        actor_id=cmd.user_id,
    )
    return _view(order)


# --- sending an order to the gateway ------------------------------------------------------------
def submit(uow_factory: Callable[[], UnitOfWork], gateway: Gateway, order_no: str, *,
           notify_url: str, return_url: str | None = None) -> OrderView:
    """Send a created order to the gateway (idempotent there on the order number) and mark it
    pending. If the gateway does not answer the order stays created — its money, for a
    withdrawal, stays frozen — and a retry sends it again. A definite refusal fails the order
    and releases a withdrawal's money."""
    view = in_transaction(uow_factory, lambda uow: order_view(uow, order_no))
    if view.status != OrderStatus.CREATED:
        return view
    request = OrderRequest(order_no=order_no,
                           type=rules.TXN_TYPE_OF_ORDER[OrderKind(view.kind)],
                           amount=view.amount, channel=view.channel, notify_url=notify_url,
                           return_url=return_url)
    try:
        accepted = gateway.create_order(request)
    except GatewayRefused as refusal:
        message = refusal.message
        return in_transaction(uow_factory, lambda uow: _refused(uow, order_no, message))
    return in_transaction(uow_factory, lambda uow: _accepted(uow, order_no, accepted))


def _accepted(uow: UnitOfWork, order_no: str, accepted: OrderAccepted) -> OrderView:
    order = get_order(uow, order_no, for_update=True)
    order.gateway_ref, order.pay_url = accepted.gateway_ref, accepted.pay_url
    if order.status == OrderStatus.CREATED:  # a fast callback may have settled it already
        move_status(uow, order, OrderStatus.PENDING.value)
    order.updated_at = uow.clock.now()
    return _view(order)


def _refused(uow: UnitOfWork, order_no: str, message: str) -> OrderView:
    """Postings for a withdrawal (withdrawal_released): frozen ↓, available ↑."""
    order = get_order(uow, order_no, for_update=True)
    if order.status != OrderStatus.CREATED:
        return _view(order)
    move_status(uow, order, rules.move_order(order.status, OrderStatus.FAILED).value)
    order.failure_reason = message[:500]
    order.updated_at = uow.clock.now()
    if order.kind == OrderKind.WITHDRAWAL:
        ledger.post(uow, rules.withdrawal_released(
            order.role, order.user_id, order.amount_fen,
            f"withdrawal {order_no} refused by the gateway"),
            idempotency_key=f"payment:{order_no}:release")
    return _view(order)


# --- callbacks ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RawCallback:
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Applied:
    """What a gateway event did: accepted, suspended (amount differs) or duplicate."""

    verdict: str
    order_no: str
    order_status: str
    txn_id: str
    entry_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "order_no": self.order_no,
                "order_status": self.order_status, "txn_id": self.txn_id}


def link_entry(uow: UnitOfWork, txn_id: str, posted: ledger.Posted, purpose: str) -> None:
    if not posted.replayed:
        uow.s.add(GatewayEntry(txn_id=txn_id, entry_id=posted.entry_id, purpose=purpose))


def record_txn(uow: UnitOfWork, event: GatewayEvent, order_id: int | None,
               source: str) -> GatewayTransaction:
    txn = GatewayTransaction(
        txn_id=event.txn_id, order_id=order_id, type=event.type.value,
        status=event.status.value, amount_fen=event.amount.fen, gateway_date=event.gateway_date,
        completed_at=event.completed_at, source=source, recorded_at=uow.clock.now(),
    )
    uow.s.add(txn)
    uow.s.flush()  # the unique txn_id: a concurrent duplicate fails here and is retried
    return txn


def _same(txn: GatewayTransaction, event: GatewayEvent, order: PaymentOrder | None) -> bool:
    return (txn.order_id == (order.id if order else None) and txn.type == event.type
            and txn.status == event.status and txn.amount_fen == event.amount.fen)


def apply_event(uow: UnitOfWork, event: GatewayEvent, *, source: str) -> Applied:
    """Book the gateway's final word on an order, once per transaction id.

    Deposit succeeded, amount as ordered (deposit_received): custody:cash ↑, available ↑.
    Withdrawal succeeded (withdrawal_paid): frozen ↓, custody:cash ↓.
    Withdrawal failed (withdrawal_released): frozen ↓, available ↑. Deposit failed: nothing.
    Amount differs from the order: deposit (deposit_suspended) custody:cash ↑,
    suspense:gateway ↑; withdrawal (withdrawal_suspended) suspense:gateway ↓, custody:cash ↓;
    the order is suspended with an exception for an operator; the wallet is not touched.
    """
    # Lock the order before looking for the transaction: a concurrent duplicate then waits
    # here and afterwards sees the first one's committed row.
    order = uow.s.execute(
        select(PaymentOrder).where(PaymentOrder.order_no == event.order_no).with_for_update()
    ).scalar_one_or_none()
    existing = uow.s.execute(
        select(GatewayTransaction).where(GatewayTransaction.txn_id == event.txn_id)
    ).scalar_one_or_none()
    if existing is not None:
        if not _same(existing, event, order):
            raise Conflict(f"transaction {event.txn_id} was already booked with other details",
                           field="txn_id", code="txn_conflict")
        status = order.status if order is not None else "unknown"
        return Applied("duplicate", event.order_no, status, event.txn_id)
    if order is None:
        raise NotFound(f"no payment order {event.order_no}", field="order_no",
                       code="unknown_order")
    kind = OrderKind(order.kind)
    if event.type is not rules.TXN_TYPE_OF_ORDER[kind]:
        raise InvalidInput(f"order {order.order_no} is a {kind.value}; a {event.type.value} "
                           "cannot settle it", field="type")
    if order.status not in rules.OPEN_STATUSES:
        raise Conflict(f"order {order.order_no} is already {order.status} by transaction "
                       f"{order.txn_id}", field="order_no", code="order_already_settled")
    record_txn(uow, event, order.id, source)

    fen, role, user = event.amount.fen, order.role, order.user_id
    memo = f"{kind.value} {order.order_no} via {order.channel}, gateway txn {event.txn_id}"
    deposit = kind is OrderKind.DEPOSIT
    draft: EntryDraft | None
    if event.status is GatewayStatus.FAILED:
        target, verdict = OrderStatus.FAILED, "accepted"
        draft = (None if deposit else
                 rules.withdrawal_released(role, user, order.amount_fen, memo))
        order.failure_reason = event.reason or "declined by the gateway"
    elif fen == order.amount_fen:
        target, verdict = OrderStatus.SUCCEEDED, "accepted"
        draft = (rules.deposit_received(rules.available(role, user), fen, memo) if deposit
                 else rules.withdrawal_paid(role, user, fen, memo))
    else:
        target, verdict = OrderStatus.SUSPENDED, "suspended"
        draft = (rules.received_into_suspense(fen, memo) if deposit
                 else rules.paid_out_from_suspense(fen, memo))
    entry_id = None
    if draft is not None:
        posted = ledger.post(uow, draft, idempotency_key=f"gateway:{event.txn_id}")
        link_entry(uow, event.txn_id, posted, source)
        entry_id = posted.entry_id
    if target is OrderStatus.SUSPENDED:
        effect = event.type.custody_effect
        uow.s.add(PaymentException(
            key=f"{ExceptionKind.CALLBACK_AMOUNT.value}:{event.txn_id}",
            kind=ExceptionKind.CALLBACK_AMOUNT.value, source=source, status="open",
            business_date=event.gateway_date, txn_id=event.txn_id, order_id=order.id,
            gateway_fen=effect(fen), ledger_fen=effect(order.amount_fen),
            detail={"order_no": order.order_no, "ordered": str(Money(order.amount_fen)),
                    "gateway_amount": str(event.amount)},
            created_at=uow.clock.now(), reason="",
        ))
    move_status(uow, order, rules.move_order(order.status, target).value)
    order.txn_id = event.txn_id
    order.settled_fen = fen if event.status is GatewayStatus.SUCCEEDED else None
    order.updated_at = uow.clock.now()
    uow.s.flush()
    return Applied(verdict, order.order_no, order.status, event.txn_id, entry_id)


def _audit(uow: UnitOfWork, raw: RawCallback, verdict: str, status: int, detail: str = "",
           event: GatewayEvent | None = None) -> None:
    text = raw.body.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    uow.s.add(GatewayCallback(
        received_at=uow.clock.now(),
        merchant_header=raw.headers.get(protocol.MERCHANT_HEADER, "")[:64],
        timestamp_header=raw.headers.get(protocol.TIMESTAMP_HEADER, "")[:32],
        signature_header=raw.headers.get(protocol.SIGNATURE_HEADER, "")[:160],
        body=text, verdict=verdict, http_status=status, detail=detail[:2000],
        txn_id=event.txn_id if event else None,
        order_no=event.order_no[:32] if event else None,
    ))


def receive_callback(uow_factory: Callable[[], UnitOfWork], raw: RawCallback, *,
                     merchant_id: str, secret: str, tolerance_s: int) -> Applied:
    """Verify, book and audit one callback. A refusal (bad signature, stale timestamp,
    malformed, unknown order, conflict) books nothing and is audited in its own transaction,
    then raised for the edge to answer with its 4xx."""
    parsed: list[GatewayEvent] = []

    def attempt(uow: UnitOfWork) -> Applied:
        parsed.clear()
        protocol.verify(secret, raw.headers, raw.body, now=uow.clock.now(),
                        tolerance_s=tolerance_s)
        event = GatewayEvent.parse(raw.body)
        parsed.append(event)
        if event.merchant_id != merchant_id:
            raise InvalidInput(f"merchant_id {event.merchant_id!r} is not this platform's",
                               field="merchant_id")
        applied = apply_event(uow, event, source="callback")
        faults.point("callback.booked")
        _audit(uow, raw, applied.verdict, 200, event=event)
        return applied

    try:
        return in_transaction(uow_factory, attempt, retry_on_integrity=True)
    except BiaodiError as refusal:
        event = parsed[0] if parsed else None
        code, status, message = refusal.code, refusal.status, refusal.message
        in_transaction(uow_factory, lambda uow: _audit(uow, raw, code, status, message, event))
        raise


# --- queries --------------------------------------------------------------------------------
MAX_PAGE_SIZE = 100


def _page(page: int, page_size: int) -> tuple[int, int]:
    if page < 1:
        raise InvalidInput("page starts at 1", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be 1 to {MAX_PAGE_SIZE}", field="page_size")
    return (page - 1) * page_size, page_size


def list_orders(uow: UnitOfWork, *, user_id: int | None = None, kind: str | None = None,
                status: str | None = None, page: int = 1,
                page_size: int = 20) -> tuple[list[OrderView], int]:
    """Orders newest first, with the total count for paging."""
    offset, limit = _page(page, page_size)
    query = select(PaymentOrder)
    if user_id is not None:
        query = query.where(PaymentOrder.user_id == user_id)
    if kind is not None:
        query = query.where(PaymentOrder.kind == _known(kind, OrderKind, "kind"))
    if status is not None:
        query = query.where(PaymentOrder.status == _known(status, OrderStatus, "status"))
    total = uow.s.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
    rows = uow.s.scalars(query.order_by(PaymentOrder.id.desc()).offset(offset).limit(limit))
    return [_view(o) for o in rows], int(total)


def _known(value: str, enum: Any, field: str) -> str:
    allowed = [e.value for e in enum]
    if value not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)}", field=field)
    return value


def list_callbacks(uow: UnitOfWork, *, order_no: str | None = None, verdict: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
    query = select(GatewayCallback).order_by(GatewayCallback.id.desc()).limit(min(limit, 500))
    if order_no is not None:
        query = query.where(GatewayCallback.order_no == order_no)
    if verdict is not None:
        query = query.where(GatewayCallback.verdict == verdict)
    return [
        {"id": c.id, "received_at": c.received_at.isoformat(), "verdict": c.verdict,
         "http_status": c.http_status, "detail": c.detail, "txn_id": c.txn_id,
         "order_no": c.order_no, "timestamp": c.timestamp_header,
         "signature": c.signature_header, "body": c.body}
        for c in uow.s.scalars(query)
    ]


def channel_totals(uow: UnitOfWork, day: date) -> list[dict[str, Any]]:
    """Orders of a business day by channel, kind and status: counts and amounts (metrics)."""
    rows = uow.s.execute(
        select(PaymentOrder.channel, PaymentOrder.kind, PaymentOrder.status,
               func.count(), func.coalesce(func.sum(PaymentOrder.amount_fen), 0))
        .where(PaymentOrder.business_date == day)
        .group_by(PaymentOrder.channel, PaymentOrder.kind, PaymentOrder.status)
        .order_by(PaymentOrder.channel, PaymentOrder.kind, PaymentOrder.status)
    )
    return [{"channel": c, "kind": k, "status": s, "count": int(n), "amount": str(Money(int(a)))}
            for c, k, s, n, a in rows]


def limits_view(uow: UnitOfWork, user_id: int, limits: WithdrawalLimits) -> dict[str, str]:
    used = withdrawn_today(uow, user_id)
    return {"per_transaction": str(limits.per_transaction), "per_day": str(limits.per_day),
            "used_today": str(used),
            "left_today": str(max(limits.per_day - used, Money.zero())),
            "business_date": uow.clock.today().isoformat()}
