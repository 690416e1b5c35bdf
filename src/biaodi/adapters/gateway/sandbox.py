"""The sandbox gateway: a stand-in for the real payment gateway, run as its own process
(`biaodi gateway-sandbox --port 8100`). It is the "bank", not the platform: it keeps its own
state in memory and speaks the same signed protocol as the real gateway.

- `/v1/…` is the merchant API the platform calls (signed requests, signed answers): create a
  payment order, refund, fetch a day's statement as CSV.
- `/sandbox/…` are controls for tests and people: approve, decline or delay an order; hold
  callbacks and release them in any order; resend a callback duplicated, replayed or tampered;
  forge one; plant statement discrepancies; register merchants; set the sandbox's clock.
- `/pay/{order_no}` is a page where a person approves or declines a deposit by hand.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from html import escape
from typing import Any, Literal
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from biaodi.adapters.clock import CST, Clock, FixedClock, SystemClock
from biaodi.adapters.gateway import protocol
from biaodi.adapters.gateway.protocol import GatewayEvent, StatementLine
from biaodi.domain.payments.orders import GatewayStatus, TxnType
from biaodi.domain.shared.errors import BiaodiError, Conflict, InvalidInput, NotFound, Unauthorized
from biaodi.domain.shared.money import Money


# --- state ----------------------------------------------------------------------------------
@dataclass
class Delivery:
    order_no: str
    txn_id: str
    sent_at: str
    status_code: int | None
    response: Any
    tamper: str | None = None


@dataclass
class SandboxOrder:
    merchant_id: str
    order_no: str
    type: TxnType
    amount: Money
    channel: str
    notify_url: str
    gateway_ref: str
    created_at: datetime
    status: str = "pending"
    event: GatewayEvent | None = None
    first_headers: dict[str, str] | None = None
    held: bool = False
    statement_amount: Money | None = None
    omit_from_statement: bool = False
    return_url: str | None = None  # the merchant's page to send the payer back to

    def view(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id, "order_no": self.order_no, "type": self.type.value,
            "amount": str(self.amount), "channel": self.channel, "notify_url": self.notify_url,
            "gateway_ref": self.gateway_ref, "status": self.status,
            "txn_id": self.event.txn_id if self.event else None,
            "settled_amount": str(self.event.amount) if self.event else None,
            "held": self.held, "omit_from_statement": self.omit_from_statement,
            "statement_amount": str(self.statement_amount) if self.statement_amount else None,
        }


@dataclass
class Refund:
    merchant_id: str
    refund_no: str
    original_txn_id: str
    order_no: str
    amount: Money
    channel: str
    txn_id: str
    completed_at: datetime

    def view(self) -> dict[str, Any]:
        return {"refund_no": self.refund_no, "original_txn_id": self.original_txn_id,
                "txn_id": self.txn_id, "amount": str(self.amount), "status": "succeeded",
                "completed_at": self.completed_at.isoformat()}


@dataclass
class SandboxState:
    merchants: dict[str, str]
    clock: Clock = field(default_factory=SystemClock)
    orders: dict[str, SandboxOrder] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    #: Orders whose callbacks are held, in the order they were held.
    held: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    tolerance_s: int = protocol.DEFAULT_TOLERANCE_SECONDS

    def order(self, order_no: str) -> SandboxOrder:
        with self.lock:
            found = self.orders.get(order_no)
        if found is None:
            raise NotFound(f"the sandbox has no order {order_no}", field="order_no")
        return found

    def statement(self, merchant_id: str, day: date) -> list[StatementLine]:
        lines = []
        with self.lock:
            for o in self.orders.values():
                e = o.event
                if (o.merchant_id != merchant_id or e is None or o.omit_from_statement
                        or e.status is not GatewayStatus.SUCCEEDED or e.gateway_date != day):
                    continue
                lines.append(StatementLine(e.txn_id, o.order_no, e.type,
                                           o.statement_amount or e.amount, o.channel,
                                           e.completed_at))
            for r in self.refunds.values():
                if r.merchant_id == merchant_id and r.completed_at.astimezone(CST).date() == day:
                    lines.append(StatementLine(r.txn_id, r.order_no, TxnType.REFUND, r.amount,
                                               r.channel, r.completed_at))
        return sorted(lines, key=lambda line: (line.completed_at, line.txn_id))


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:20].upper()


# --- control requests -----------------------------------------------------------------------
Deliver = Literal["now", "hold"]


class Finish(BaseModel):
    """Approve or decline an order. `amount` settles another amount than ordered (the payer
    paid a different sum); `deliver: hold` keeps the callback until released (or forever: a
    lost callback); `delay_seconds` sends it later; `duplicates` sends it that many times."""

    amount: str | None = None
    reason: str = ""
    deliver: Deliver = "now"
    delay_seconds: float = Field(default=0, ge=0, le=60)
    duplicates: int = Field(default=1, ge=1, le=1000)


class Resend(BaseModel):
    """Send an order's callback again: `times` copies, `concurrency` at once. `replay` reuses
    the first delivery's timestamp and signature byte for byte. `tamper`: `signature` (flip a
    digit), `amount` (change the amount, keep the old signature). `timestamp_offset_seconds`
    signs with a timestamp that far from the sandbox's clock."""

    times: int = Field(default=1, ge=1, le=1000)
    concurrency: int = Field(default=1, ge=1, le=32)
    replay: bool = False
    tamper: Literal["signature", "amount"] | None = None
    timestamp_offset_seconds: int = 0


class Release(BaseModel):
    """Send held callbacks in this order; if none is named, all held ones (of the merchant, if
    given), newest first."""

    order_nos: list[str] = Field(default_factory=list)
    merchant_id: str | None = None


class StatementPlant(BaseModel):
    amount: str | None = None
    omit: bool = False


class Forge(BaseModel):
    merchant_id: str
    notify_url: str
    order_no: str
    type: TxnType = TxnType.DEPOSIT
    status: GatewayStatus = GatewayStatus.SUCCEEDED
    amount: str
    channel: str = "third_party"
    txn_id: str | None = None


class MerchantIn(BaseModel):
    merchant_id: str = Field(min_length=1, max_length=64)
    secret: str = Field(min_length=8)


class ClockIn(BaseModel):
    now: datetime | None = Field(default=None, description="ISO time; null: the system clock")


# --- the app --------------------------------------------------------------------------------
def create_sandbox(state: SandboxState) -> FastAPI:
    http = httpx.Client(timeout=10.0)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        http.close()

    app = FastAPI(title="Biaodi sandbox gateway", docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.sandbox = state

    @app.exception_handler(BiaodiError)
    async def _error(_request: Request, exc: BiaodiError) -> JSONResponse:
        return JSONResponse({"error": exc.as_dict()}, exc.status)

    def deliver(order: SandboxOrder, *, tamper: str | None = None, offset_s: int = 0,
                replay: bool = False) -> Delivery:
        assert order.event is not None
        body = order.event.to_json()
        secret = state.merchants[order.merchant_id]
        now = state.clock.now() + timedelta(seconds=offset_s)
        if replay and order.first_headers is not None:
            headers = dict(order.first_headers)
        else:
            headers = protocol.signed_headers(order.merchant_id, secret, body, now)
        if order.first_headers is None and tamper is None and offset_s == 0:
            order.first_headers = dict(headers)
        if tamper == "signature":
            sig = headers[protocol.SIGNATURE_HEADER]
            headers[protocol.SIGNATURE_HEADER] = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        elif tamper == "amount":
            body = replace(order.event, amount=order.event.amount + Money(100_00)).to_json()
        return _post(order.order_no, order.event.txn_id, order.notify_url, body, headers, tamper)

    def _post(order_no: str, txn_id: str, url: str, body: bytes, headers: dict[str, str],
              tamper: str | None) -> Delivery:
        sent_at = state.clock.now().isoformat()
        try:
            response = http.post(url, content=body,
                                 headers=headers | {"Content-Type": "application/json"})
            try:
                answer: Any = response.json()
            except ValueError:
                answer = response.text[:500]
            delivery = Delivery(order_no, txn_id, sent_at, response.status_code, answer, tamper)
        except httpx.HTTPError as exc:
            delivery = Delivery(order_no, txn_id, sent_at, None, f"{type(exc).__name__}", tamper)
        with state.lock:
            state.deliveries.append(delivery)
        return delivery

    def send_many(send: Callable[[], Delivery], times: int, concurrency: int) -> list[Delivery]:
        if concurrency == 1:
            return [send() for _ in range(times)]
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(lambda _: send(), range(times)))

    # --- the merchant API (signed) ----------------------------------------------------------
    async def verified(request: Request) -> tuple[str, str, dict[str, Any]]:
        body = await request.body()
        merchant = request.headers.get(protocol.MERCHANT_HEADER, "")
        secret = state.merchants.get(merchant)
        if secret is None:
            raise Unauthorized(f"unknown merchant {merchant!r}", field=protocol.MERCHANT_HEADER)
        protocol.verify(secret, request.headers, body, now=state.clock.now(),
                        tolerance_s=state.tolerance_s)
        try:
            payload = json.loads(body)
        except ValueError:
            raise InvalidInput("the body must be JSON", field="body") from None
        if not isinstance(payload, dict) or payload.get("merchant_id") != merchant:
            raise InvalidInput("merchant_id must match the signing merchant",
                               field="merchant_id")
        return merchant, secret, payload

    def signed(merchant: str, secret: str, payload: Any, status: int = 200,
               media_type: str = "application/json") -> Response:
        body = (payload if isinstance(payload, bytes)
                else json.dumps(payload, ensure_ascii=False).encode())
        headers = protocol.signed_headers(merchant, secret, body, state.clock.now())
        return Response(body, status, headers=headers, media_type=media_type)

    async def merchant_call(request: Request,
                            handle: Callable[[str, dict[str, Any]], Any]) -> Response:
        merchant, secret, payload = await verified(request)
        try:
            result = handle(merchant, payload)
        except BiaodiError as exc:
            return signed(merchant, secret, {"error": exc.as_dict()}, exc.status)
        if isinstance(result, str):
            return signed(merchant, secret, result.encode(), media_type="text/csv")
        return signed(merchant, secret, result)

    @app.post("/v1/orders", tags=["merchant"])
    async def create_order(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")

        def handle(merchant: str, p: dict[str, Any]) -> dict[str, Any]:
            try:
                type_ = TxnType(p.get("type"))
            except ValueError:
                raise InvalidInput("type must be deposit or payout", field="type") from None
            if type_ is TxnType.REFUND:
                raise InvalidInput("refunds go to /v1/refunds", field="type")
            order_no = str(p.get("order_no") or "")
            if not 1 <= len(order_no) <= 32:
                raise InvalidInput("order_no must have 1 to 32 characters", field="order_no")
            amount = Money.parse(p.get("amount"), field="amount")
            url = str(p.get("notify_url") or "")
            if not url.startswith(("http://", "https://")):
                raise InvalidInput("notify_url must be an http(s) URL", field="notify_url")
            channel = str(p.get("channel") or "")
            with state.lock:
                existing = state.orders.get(order_no)
                if existing is not None:
                    if (existing.merchant_id, existing.type, existing.amount) != (
                            merchant, type_, amount):
                        raise Conflict(f"order {order_no} exists with other terms",
                                       field="order_no")
                    order = existing
                else:
                    back = p.get("return_url")
                    order = SandboxOrder(merchant, order_no, type_, amount, channel, url,
                                         _new_id("G"), state.clock.now(),
                                         return_url=str(back) if back else None)
                    state.orders[order_no] = order
            pay_url = f"{base}/pay/{order_no}" if type_ is TxnType.DEPOSIT else None
            return {"order_no": order_no, "gateway_ref": order.gateway_ref,
                    "status": order.status, "pay_url": pay_url}

        return await merchant_call(request, handle)

    @app.post("/v1/refunds", tags=["merchant"])
    async def refund(request: Request) -> Response:
        def handle(merchant: str, p: dict[str, Any]) -> dict[str, Any]:
            refund_no = str(p.get("refund_no") or "")
            if not 1 <= len(refund_no) <= 40:
                raise InvalidInput("refund_no must have 1 to 40 characters", field="refund_no")
            amount = Money.parse(p.get("amount"), field="amount")
            with state.lock:
                if refund_no in state.refunds:
                    return state.refunds[refund_no].view()
                original = next((o for o in state.orders.values()
                                 if o.event and o.event.txn_id == p.get("original_txn_id")
                                 and o.merchant_id == merchant), None)
                if original is None or original.type is not TxnType.DEPOSIT:
                    raise NotFound("no such deposit transaction", field="original_txn_id")
                assert original.event is not None
                if amount > original.event.amount:
                    raise InvalidInput("a refund cannot exceed the payment", field="amount")
                done = Refund(merchant, refund_no, original.event.txn_id, original.order_no,
                              amount, original.channel, _new_id("T"), state.clock.now())
                state.refunds[refund_no] = done
                return done.view()

        return await merchant_call(request, handle)

    @app.post("/v1/statements", tags=["merchant"])
    async def statement(request: Request) -> Response:
        def handle(merchant: str, p: dict[str, Any]) -> str:
            try:
                day = date.fromisoformat(str(p.get("date")))
            except ValueError:
                raise InvalidInput("date must be YYYY-MM-DD", field="date") from None
            return protocol.write_statement(state.statement(merchant, day))

        return await merchant_call(request, handle)

    # --- controls for tests and people ------------------------------------------------------
    def finish(order_no: str, body: Finish, status: GatewayStatus,
               label: str | None = None) -> dict[str, Any]:
        with state.lock:
            order = state.order(order_no)
            if order.status != "pending":
                raise Conflict(f"order {order_no} is already {order.status}", field="order_no")
            amount = (Money.parse(body.amount, field="amount") if body.amount
                      else order.amount)
            order.event = GatewayEvent(
                merchant_id=order.merchant_id, txn_id=_new_id("T"), order_no=order_no,
                type=order.type, status=status, amount=amount, channel=order.channel,
                completed_at=state.clock.now(), reason=body.reason[:200],
            )
            order.status = label or status.value
            order.held = body.deliver == "hold"
            if order.held:
                state.held.append(order_no)
        deliveries: list[Delivery] = []
        if body.deliver == "now" and body.delay_seconds:
            timer = threading.Timer(body.delay_seconds,
                                    lambda: send_many(lambda: deliver(order), body.duplicates, 1))
            timer.daemon = True
            timer.start()
        elif body.deliver == "now":
            deliveries = send_many(lambda: deliver(order), body.duplicates, 1)
        return {"order": order.view(), "deliveries": [d.__dict__ for d in deliveries]}

    @app.get("/healthz", tags=["sandbox"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/sandbox/merchants", tags=["sandbox"])
    def add_merchant(body: MerchantIn) -> dict[str, str]:
        with state.lock:
            state.merchants[body.merchant_id] = body.secret
        return {"merchant_id": body.merchant_id}

    @app.post("/sandbox/clock", tags=["sandbox"])
    def set_clock(body: ClockIn) -> dict[str, str]:
        state.clock = FixedClock(body.now) if body.now else SystemClock()
        return {"now": state.clock.now().isoformat()}

    @app.get("/sandbox/orders", tags=["sandbox"])
    def list_orders(merchant_id: str | None = None) -> list[dict[str, Any]]:
        with state.lock:
            return [o.view() for o in state.orders.values()
                    if merchant_id in (None, o.merchant_id)]

    @app.get("/sandbox/orders/{order_no}", tags=["sandbox"])
    def get_order(order_no: str) -> dict[str, Any]:
        return state.order(order_no).view()

    @app.post("/sandbox/orders/{order_no}/approve", tags=["sandbox"])
    def approve(order_no: str, body: Finish) -> dict[str, Any]:
        return finish(order_no, body, GatewayStatus.SUCCEEDED)

    @app.post("/sandbox/orders/{order_no}/decline", tags=["sandbox"])
    def decline(order_no: str, body: Finish) -> dict[str, Any]:
        return finish(order_no, body.model_copy(update={"reason": body.reason or "declined"}),
                      GatewayStatus.FAILED)

    @app.post("/sandbox/orders/{order_no}/expire", tags=["sandbox"])
    def expire(order_no: str, body: Finish) -> dict[str, Any]:
        """The payer never paid: the order times out and the platform hears `failed`."""
        return finish(order_no, body.model_copy(update={"reason": body.reason or "expired"}),
                      GatewayStatus.FAILED, label="expired")

    @app.post("/sandbox/orders/{order_no}/resend", tags=["sandbox"])
    def resend(order_no: str, body: Resend) -> dict[str, Any]:
        order = state.order(order_no)
        if order.event is None:
            raise Conflict(f"order {order_no} has no outcome to call back about yet",
                           field="order_no")
        deliveries = send_many(
            lambda: deliver(order, tamper=body.tamper, offset_s=body.timestamp_offset_seconds,
                            replay=body.replay),
            body.times, body.concurrency,
        )
        return {"deliveries": [d.__dict__ for d in deliveries]}

    @app.post("/sandbox/callbacks/release", tags=["sandbox"])
    def release(body: Release) -> dict[str, Any]:
        with state.lock:
            if body.order_nos:
                chosen = [state.order(n) for n in body.order_nos]
            else:
                chosen = [o for o in map(state.order, reversed(state.held))
                          if body.merchant_id in (None, o.merchant_id)]
            for o in chosen:
                o.held = False
                if o.order_no in state.held:
                    state.held.remove(o.order_no)
        return {"deliveries": [deliver(o).__dict__ for o in chosen if o.event]}

    @app.post("/sandbox/callbacks/forge", tags=["sandbox"])
    def forge(body: Forge) -> dict[str, Any]:
        secret = state.merchants.get(body.merchant_id)
        if secret is None:
            raise NotFound(f"unknown merchant {body.merchant_id!r}", field="merchant_id")
        event = GatewayEvent(body.merchant_id, body.txn_id or _new_id("T"), body.order_no,
                             body.type, body.status, Money.parse(body.amount), body.channel,
                             state.clock.now())
        raw = event.to_json()
        headers = protocol.signed_headers(body.merchant_id, secret, raw, state.clock.now())
        return _post(body.order_no, event.txn_id, body.notify_url, raw, headers, None).__dict__

    @app.get("/sandbox/deliveries", tags=["sandbox"])
    def deliveries(order_no: str | None = None) -> list[dict[str, Any]]:
        with state.lock:
            return [d.__dict__ for d in state.deliveries if order_no in (None, d.order_no)]

    @app.post("/sandbox/orders/{order_no}/statement", tags=["sandbox"])
    def plant(order_no: str, body: StatementPlant) -> dict[str, Any]:
        order = state.order(order_no)
        with state.lock:
            order.omit_from_statement = body.omit
            order.statement_amount = Money.parse(body.amount) if body.amount else None
        return order.view()

    @app.get("/sandbox/statements/{day}.csv", tags=["sandbox"],
             response_class=PlainTextResponse)
    def statement_csv(day: date, merchant_id: str | None = None) -> PlainTextResponse:
        merchant = merchant_id or next(iter(state.merchants))
        return PlainTextResponse(protocol.write_statement(state.statement(merchant, day)),
                                 media_type="text/csv")

    @app.get("/pay/{order_no}", response_class=HTMLResponse, include_in_schema=False)
    def pay_page(order_no: str) -> str:
        return _pay_page(state.order(order_no), state)

    PAGE_ACTIONS: dict[str, Callable[[str], Any]] = {
        "pay": lambda no: finish(no, Finish(), GatewayStatus.SUCCEEDED),
        "decline": lambda no: finish(no, Finish(reason="declined by the payer"),
                                     GatewayStatus.FAILED),
        "expire": lambda no: finish(no, Finish(reason="expired"), GatewayStatus.FAILED,
                                    label="expired"),
    }

    @app.post("/pay/{order_no}", include_in_schema=False)
    async def pay_action(order_no: str, request: Request) -> Response:
        """The page's buttons: a plain form post (no script), then back to the page."""
        action = str((await request.form()).get("action") or "")
        if action not in PAGE_ACTIONS:
            raise InvalidInput("action must be pay, decline or expire", field="action")
        with suppress(Conflict):  # a second click: the page shows what the first one did
            await run_in_threadpool(PAGE_ACTIONS[action], order_no)
        return RedirectResponse(f"/pay/{quote(order_no)}", status_code=303)

    return app


def _pay_page(order: SandboxOrder, state: SandboxState) -> str:
    """The page a payer opens from `pay_url`: the order, and Pay / Decline / Expire buttons that
    post a form to this page (no script at all, so nothing can break in the browser)."""
    no = escape(order.order_no)
    with state.lock:
        sent = [d for d in state.deliveries if d.order_no == order.order_no]
    if order.status == "pending":
        action = escape(f"/pay/{quote(order.order_no)}", quote=True)
        controls = (
            f"<form method='post' action='{action}'>"
            "<button type='submit' name='action' value='pay' id='pay'>Pay 支付</button> "
            "<button type='submit' name='action' value='decline' id='decline'>"
            "Decline 拒绝</button> "
            "<button type='submit' name='action' value='expire' id='expire'>"
            "Let it expire 超时</button></form>"
        )
    elif order.held:
        controls = "<p id='outcome'>callback held by the sandbox (release it to deliver)</p>"
    elif sent:
        last = sent[-1]
        answer = last.response.get("verdict") if isinstance(last.response, dict) else None
        controls = (f"<p id='outcome'>callback sent: the platform answered "
                    f"{last.status_code or 'nothing'} {escape(str(answer or ''))}</p>")
    else:
        controls = "<p id='outcome'>callback not sent yet</p>"
    back = ""
    if order.return_url and order.status != "pending" and order.return_url.startswith(
            ("http://", "https://")):
        href = escape(order.return_url, quote=True)
        back = f"<p><a id='return' href='{href}'>Back to the merchant 返回商户</a></p>"
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>Sandbox payment {no}</title></head><body><h1>Sandbox gateway 沙箱支付</h1>"
        f"<p>Order {no}: {escape(order.type.value)} of {order.amount} yuan via "
        f"{escape(order.channel)} — <strong id='status'>{escape(order.status)}</strong></p>"
        f"{controls}{back}</body></html>"
    )


def run(host: str, port: int, merchants: dict[str, str], fixed_now: str | None = None) -> None:
    import uvicorn

    clock: Clock = FixedClock(datetime.fromisoformat(fixed_now)) if fixed_now else SystemClock()
    app = create_sandbox(SandboxState(merchants=dict(merchants), clock=clock))
    uvicorn.run(app, host=host, port=port, log_level="warning", ws="none")
