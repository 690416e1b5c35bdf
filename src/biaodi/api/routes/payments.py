"""Payments: deposits and withdrawals through the gateway, the gateway's signed callbacks, and
operators' views of orders, raw callbacks and payment exceptions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.gateway import protocol
from biaodi.adapters.gateway.client import Gateway, gateway_from_settings
from biaodi.api.deps import CurrentUser, Operator, PlatformDep, require_role
from biaodi.api.errors import GATEWAY_RESPONSES
from biaodi.api.idempotent import idempotent_response
from biaodi.api.params import RequestBody, Yuan, one_of, query_one_of
from biaodi.bootstrap import Platform
from biaodi.domain.accounts.roles import Role
from biaodi.domain.ledger.rules import ROLE_WALLETS
from biaodi.domain.payments.orders import (
    WITHDRAWAL_CHANNELS,
    Channel,
    ExceptionKind,
    OrderKind,
    OrderStatus,
    WithdrawalLimits,
)
from biaodi.domain.shared.bounds import Limit, PageNo, PageSize, RowId
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.payments import orders as payments
from biaodi.services.payments import reconciliation
from biaodi.services.shared.idempotency import Answer, check_key, run_idempotent
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["payments"])

#: A callback body larger than this is refused unread.
MAX_CALLBACK_BYTES = 64 * 1024
Staff = Annotated[UserView, Depends(require_role(Role.OPERATOR, Role.AUDITOR))]
ChannelName = Annotated[str, one_of(*Channel)]
WalletRole = Annotated[str | None, one_of(*ROLE_WALLETS)]
OrderKindParam = Annotated[str | None, query_one_of(*OrderKind)]
OrderStatusParam = Annotated[str | None, query_one_of(*OrderStatus)]


def get_gateway(request: Request) -> Gateway:
    """The gateway adapter: built from settings; tests may override this dependency."""
    platform: Platform = request.app.state.platform
    return gateway_from_settings(platform.settings, platform.clock)


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


class DepositRequest(RequestBody):
    amount: Yuan = Field(description="yuan, at most two decimals", examples=["1000.00"])
    channel: ChannelName = Field(default=Channel.THIRD_PARTY.value,
                         description="third_party, online_banking, bank_transfer, mobile or pos")
    role: WalletRole = Field(default=None, description="whose wallet; default investor")


class WithdrawalRequest(RequestBody):
    amount: Yuan = Field(description="yuan, at most two decimals", examples=["500.00"])
    channel: Annotated[str, one_of(*sorted(WITHDRAWAL_CHANNELS))] = Field(
        default=Channel.BANK_TRANSFER.value,
                         description="bank_transfer or third_party")
    role: WalletRole = Field(default=None, description="whose wallet; default investor")


class ResolveRequest(RequestBody):
    action: str = Field(description="one of the exception's actions, e.g. credit_wallet")
    reason: str = Field(description="why: kept with the resolution and in the journal memo")


def _limits(platform: Platform) -> WithdrawalLimits:
    s = platform.settings
    return WithdrawalLimits(per_transaction=Money(s.withdrawal_max_per_transaction_fen),
                            per_day=Money(s.withdrawal_max_per_day_fen))


def _start(platform: Platform, gateway: Gateway, user: UserView, route: str, key: str | None,
           body: DepositRequest | WithdrawalRequest,
           start: Callable[[UnitOfWork, payments.StartPayment], payments.OrderView]
           ) -> JSONResponse:
    key = check_key(key)
    platform.rate_limiter.hit("payment", f"user:{user.id}")
    amount = Money.parse(body.amount, field="amount",
                         ceiling_fen=platform.settings.money_ceiling_fen)
    cmd = payments.StartPayment(user_id=user.id, amount=amount, channel=body.channel,
                                role=body.role)
    answer = run_idempotent(
        platform.uow, scope=f"user:{user.id}:POST {route}", key=key,
        payload=body.model_dump(), fn=lambda uow: Answer(201, start(uow, cmd).as_dict()),
    )
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    if answer.status_code >= 300:
        return JSONResponse(answer.body, answer.status_code, headers)
    notify_url = platform.settings.public_base_url.rstrip("/") + payments.CALLBACK_PATH
    view = payments.submit(platform.uow, gateway, answer.body["order_no"], notify_url=notify_url)
    return JSONResponse(view.as_dict(), 201, headers)


@router.post("/payments/deposits", status_code=201, responses=GATEWAY_RESPONSES)
def start_deposit(body: DepositRequest, platform: PlatformDep, gateway: GatewayDep,
                  user: CurrentUser,
                  idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Start a deposit (充值): the answer carries the gateway's pay URL / QR content; the money
    reaches the wallet when the gateway's signed callback confirms it."""
    return _start(platform, gateway, user, "/payments/deposits", idempotency_key, body,
                  payments.start_deposit)


@router.post("/payments/withdrawals", status_code=201, responses=GATEWAY_RESPONSES)
def start_withdrawal(body: WithdrawalRequest, platform: PlatformDep, gateway: GatewayDep,
                     user: CurrentUser,
                     idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Start a withdrawal (提现): the amount is frozen at once and paid out, or released, when
    the gateway calls back. Limits per transaction and per day apply (`GET /payments/limits`)."""
    limits = _limits(platform)
    return _start(platform, gateway, user, "/payments/withdrawals", idempotency_key, body,
                  lambda uow, cmd: payments.start_withdrawal(uow, cmd, limits))


@router.get("/payments/limits")
def my_limits(platform: PlatformDep, user: CurrentUser) -> dict[str, str]:
    """Withdrawal limits and what is left of today's."""
    with platform.reader() as uow:
        return payments.limits_view(uow, user.id, _limits(platform))


def _orders(platform: Platform, *, user_id: RowId | None, kind: str | None, status: str | None,
            page: PageNo, page_size: PageSize) -> dict[str, Any]:
    with platform.reader() as uow:
        items, total = payments.list_orders(uow, user_id=user_id, kind=kind, status=status,
                                            page=page, page_size=page_size)
    return {"items": [o.as_dict() for o in items], "total": total, "page": page,
            "page_size": page_size}


@router.get("/payments/orders")
def my_orders(platform: PlatformDep, user: CurrentUser, kind: OrderKindParam = None,
              status: OrderStatusParam = None, page: PageNo = 1,
              page_size: PageSize = 20) -> dict[str, Any]:
    """My payment orders, newest first."""
    return _orders(platform, user_id=user.id, kind=kind, status=status, page=page,
                   page_size=page_size)


@router.get("/payments/orders/{order_no}")
def my_order(order_no: str, platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    with platform.reader() as uow:
        return payments.order_view(uow, order_no, user_id=user.id).as_dict()


@router.post("/payments/callbacks", summary="Gateway callback (signed, see docs/PAYMENTS.md)")
async def gateway_callback(request: Request, platform: PlatformDep) -> JSONResponse:
    """Called by the gateway only. Signed with HMAC-SHA256 over `timestamp.body`; answered 2xx
    only once the event is committed (or was already)."""
    body = await request.body()
    if len(body) > MAX_CALLBACK_BYTES:
        raise InvalidInput(f"a callback body must be at most {MAX_CALLBACK_BYTES} bytes",
                           field="body")
    names = (protocol.MERCHANT_HEADER, protocol.TIMESTAMP_HEADER, protocol.SIGNATURE_HEADER)
    raw = payments.RawCallback(body, {n: request.headers.get(n, "") for n in names})
    s = platform.settings
    applied = await run_in_threadpool(
        lambda: payments.receive_callback(
            platform.uow, raw, merchant_id=s.gateway_merchant_id, secret=s.gateway_secret,
            tolerance_s=s.callback_tolerance_seconds,
        )
    )
    return JSONResponse(applied.as_dict(), 200)


# --- operators ------------------------------------------------------------------------------
@router.get("/operator/payments/orders", tags=["operator"])
def all_orders(platform: PlatformDep, _staff: Staff, user_id: RowId | None = None,
               kind: OrderKindParam = None, status: OrderStatusParam = None, page: PageNo = 1,
               page_size: PageSize = 20) -> dict[str, Any]:
    return _orders(platform, user_id=user_id, kind=kind, status=status, page=page,
                   page_size=page_size)


@router.get("/operator/payments/callbacks", tags=["operator"])
def raw_callbacks(platform: PlatformDep, _staff: Staff, order_no: str | None = None,
                  verdict: str | None = None, limit: Limit = 100) -> list[dict[str, Any]]:
    """Every callback received, raw, with its verdict (audit)."""
    with platform.reader() as uow:
        return payments.list_callbacks(uow, order_no=order_no, verdict=verdict, limit=limit)


@router.get("/operator/payments/channels", tags=["operator"])
def channel_totals(platform: PlatformDep, _staff: Staff, day: date) -> list[dict[str, Any]]:
    """A business day's orders by payment channel, kind and status."""
    with platform.reader() as uow:
        return payments.channel_totals(uow, day)


@router.get("/operator/payments/exceptions", tags=["operator"])
def exceptions(platform: PlatformDep, _staff: Staff,
               status: Annotated[str | None, query_one_of("open", "resolved")] = "open",
               kind: Annotated[str | None, query_one_of(*ExceptionKind)] = None,
               day: date | None = None) -> list[dict[str, Any]]:
    """Payment exceptions (open by default): amount mismatches held in suspense and
    reconciliation discrepancies, each with the actions that resolve it."""
    with platform.reader() as uow:
        return [e.as_dict() for e in reconciliation.list_exceptions(
            uow, status=status or None, kind=kind, day=day)]


@router.post("/operator/payments/exceptions/{exception_id}/resolve", tags=["operator"])
def resolve_exception(exception_id: RowId, body: ResolveRequest, platform: PlatformDep,
                      gateway: GatewayDep, op: Operator,
                      idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Resolve an exception through the ledger, with a reason. `refund` first asks the gateway
    to pay the suspended money back (idempotent there), then books it."""
    key = check_key(idempotency_key)
    cmd = reconciliation.Resolve(exception_id, body.action, body.reason)
    refund = None
    if body.action == "refund":
        try:
            ask = in_transaction(platform.uow, lambda uow: reconciliation.refund_request(uow, cmd))
        except Conflict:  # already resolved: a replay gets its stored answer below
            ask = None
        if ask is not None:
            refund = gateway.refund(ask.refund_no, ask.original_txn_id, ask.amount)
    merchant = platform.settings.gateway_merchant_id
    return idempotent_response(
        platform, scope=f"user:{op.id}:POST /operator/payments/exceptions/resolve", key=key,
        payload={"exception_id": exception_id, **body.model_dump()},
        fn=lambda uow: Answer(200, reconciliation.resolve(
            uow, cmd, actor_id=op.id, merchant_id=merchant, refund=refund).as_dict()),
    )

