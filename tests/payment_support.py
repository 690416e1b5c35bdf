"""Helpers for payment tests: the sandbox gateway as a real separate process, the platform
served by a real uvicorn server in a thread (same engine and clock as the test's `platform`),
and small clients for both."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import JournalEntry
from biaodi.adapters.gateway import protocol
from biaodi.adapters.gateway.client import (
    GatewayRefused,
    GatewayUnavailable,
    OrderAccepted,
    OrderRequest,
    RefundDone,
)
from biaodi.adapters.gateway.protocol import GatewayEvent
from biaodi.bootstrap import Platform
from biaodi.domain.payments.orders import GatewayStatus, TxnType
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.tx import in_transaction
from factories import identity
from test_support import login, register


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


@contextmanager
def sandbox_process(log_path: Path) -> Iterator[str]:
    """`biaodi gateway-sandbox --port P` as its own process; killed on exit."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "biaodi.cli.main", "gateway-sandbox", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"sandbox exited with {proc.returncode}: "
                                 f"{log_path.read_text(errors='replace')}")
        try:
            return httpx.get(url + "/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout=30, what="the sandbox gateway to start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def serve(app: Any, port: int) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a background thread on 127.0.0.1:port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws="none", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="the platform's server to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class SandboxControl:
    """The sandbox's test controls (unsigned), for one merchant."""

    def __init__(self, url: str, merchant_id: str = "", secret: str = ""):
        self.url, self.merchant_id, self.secret = url, merchant_id, secret
        self.http = httpx.Client(base_url=url, timeout=60)

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=body or {})
        assert response.status_code == 200, response.text
        return response.json()

    def new_merchant(self, now: datetime) -> None:
        self.merchant_id, self.secret = f"m{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
        self._post("/sandbox/merchants", {"merchant_id": self.merchant_id, "secret": self.secret})
        self._post("/sandbox/clock", {"now": now.isoformat()})

    def approve(self, order_no: str, **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post(f"/sandbox/orders/{order_no}/approve", options)
        return result

    def decline(self, order_no: str, **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post(f"/sandbox/orders/{order_no}/decline", options)
        return result

    def resend(self, order_no: str, **options: Any) -> list[dict[str, Any]]:
        return list(self._post(f"/sandbox/orders/{order_no}/resend", options)["deliveries"])

    def release(self, *order_nos: str) -> list[dict[str, Any]]:
        body = {"order_nos": list(order_nos), "merchant_id": self.merchant_id}
        return list(self._post("/sandbox/callbacks/release", body)["deliveries"])

    def plant(self, order_no: str, **options: Any) -> None:
        self._post(f"/sandbox/orders/{order_no}/statement", options)

    def forge(self, notify_url: str, **event: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post(
            "/sandbox/callbacks/forge",
            {"merchant_id": self.merchant_id, "notify_url": notify_url} | event)
        return result

    def order(self, order_no: str) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"/sandbox/orders/{order_no}").json()
        return result

    def close(self) -> None:
        self.http.close()


@dataclass
class Live:
    """The platform, served for real, and the sandbox gateway calling it back."""

    platform: Platform
    http: httpx.Client
    sandbox: SandboxControl
    clock: FixedClock

    @property
    def callback_url(self) -> str:
        return f"{self.platform.settings.public_base_url}/api/v1/payments/callbacks"

    def register(self, *roles: str) -> tuple[int, dict[str, str]]:
        return register(self.http, *roles)  # type: ignore[arg-type]

    def operator(self) -> dict[str, str]:
        data = identity()
        cmd = users.Register(**data, roles=("operator",))
        p = self.platform
        in_transaction(p.uow, lambda uow: users.create_staff(uow, cmd, p.cipher))
        return login(self.http, data["username"])  # type: ignore[arg-type]

    def start(self, kind: str, headers: dict[str, str], amount: str, *, key: str | None = None,
              **extra: Any) -> dict[str, Any]:
        response = self.http.post(
            f"/api/v1/payments/{kind}", json={"amount": amount, **extra},
            headers=headers | {"Idempotency-Key": key or uuid.uuid4().hex},
        )
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    def funded(self, amount: str, *roles: str) -> tuple[int, dict[str, str]]:
        """A registered user whose wallet received `amount` through a real deposit."""
        user_id, headers = self.register(*(roles or ("investor",)))
        order = self.start("deposits", headers, amount)
        [delivery] = self.sandbox.approve(order["order_no"])["deliveries"]
        assert delivery["status_code"] == 200, delivery
        return user_id, headers

    def wallet(self, headers: dict[str, str], role: str = "investor") -> dict[str, str]:
        response = self.http.get("/api/v1/me/wallet", headers=headers)
        assert response.status_code == 200, response.text
        wallets: dict[str, str] = response.json()["wallets"][role]
        return wallets

    def order(self, headers: dict[str, str], order_no: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/payments/orders/{order_no}", headers=headers)
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        return order

    def balance(self, code: str) -> int:
        with self.platform.uow() as uow:
            return ledger.balance(uow, code)

    def entries(self, kind: str | None = None) -> int:
        query = select(func.count()).select_from(JournalEntry)
        if kind is not None:
            query = query.where(JournalEntry.kind == kind)
        with self.platform.uow() as uow:
            return int(uow.s.execute(query).scalar() or 0)

    def assert_balanced(self) -> None:
        with self.platform.uow() as uow:
            check = ledger.verify(uow)
        assert check.balanced, check.problems


class FakeGateway:
    """An in-memory `Gateway` for service and API tests that need no sandbox process."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderRequest] = {}
        self.calls = 0
        self.down = False
        self.refusal: str | None = None

    def create_order(self, request: OrderRequest) -> OrderAccepted:
        self.calls += 1
        if self.down:
            raise GatewayUnavailable("the payment gateway did not answer (ConnectError)")
        if self.refusal:
            raise GatewayRefused(f"the payment gateway refused: {self.refusal}")
        self.orders[request.order_no] = request
        pay_url = f"https://gateway.test/pay/{request.order_no}"
        return OrderAccepted(request.order_no, f"G{request.order_no}",
                             pay_url if request.type is TxnType.DEPOSIT else None)

    def refund(self, refund_no: str, original_txn_id: str, amount: Money) -> RefundDone:
        raise AssertionError("no refunds expected")

    def statement(self, day: date) -> str:
        raise AssertionError("no statements expected")


def gateway_event(order_no: str, amount: str, *, merchant_id: str = "biaodi",
                  status: str = "succeeded", type: str = "deposit", txn_id: str | None = None,
                  at: datetime | None = None) -> GatewayEvent:
    return GatewayEvent(
        merchant_id=merchant_id, txn_id=txn_id or f"T{uuid.uuid4().hex[:16].upper()}",
        order_no=order_no, type=TxnType(type), status=GatewayStatus(status),
        amount=Money.parse(amount), channel="third_party",
        completed_at=at or datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
    )


def signed(event_or_body: GatewayEvent | bytes, *, secret: str = "sandbox-secret",
           now: datetime | None = None) -> tuple[bytes, dict[str, str]]:
    """A callback body and its headers, signed as the gateway signs them."""
    body = (event_or_body.to_json() if isinstance(event_or_body, GatewayEvent)
            else event_or_body)
    moment = now or datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    return body, protocol.signed_headers("biaodi", secret, body, moment) | {
        "Content-Type": "application/json"}
