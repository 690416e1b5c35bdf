"""The platform's adapter to the payment gateway: signed HTTP requests, verified answers.

Services talk to the `Gateway` protocol, so a test may hand them a fake; the platform uses
`HttpGateway`, which speaks to the real gateway or to the sandbox (`biaodi gateway-sandbox`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import httpx

from biaodi.adapters.clock import Clock
from biaodi.adapters.gateway import protocol
from biaodi.config import Settings
from biaodi.domain.payments.orders import TxnType
from biaodi.domain.shared.errors import BiaodiError
from biaodi.domain.shared.money import Money


class GatewayUnavailable(BiaodiError):
    """The gateway did not answer (or answered unreadably): the outcome is unknown, retry."""

    code = "gateway_unavailable"
    status = 502


class GatewayRefused(BiaodiError):
    """The gateway answered with a definite refusal: nothing happened there."""

    code = "gateway_refused"
    status = 502


class GatewayClockMismatch(BiaodiError):
    """The platform's clock and the gateway's differ by more than the signing tolerance: every
    signed message is refused as stale until one of the clocks is corrected."""

    code = "gateway_clock_mismatch"
    status = 502


@dataclass(frozen=True)
class OrderRequest:
    order_no: str
    type: TxnType
    amount: Money
    channel: str
    notify_url: str
    #: Where the gateway's pay page sends the payer back when done (deposits); None: nowhere.
    return_url: str | None = None


@dataclass(frozen=True)
class OrderAccepted:
    order_no: str
    gateway_ref: str
    pay_url: str | None


@dataclass(frozen=True)
class RefundDone:
    refund_no: str
    txn_id: str
    amount: Money
    completed_at: datetime


class Gateway(Protocol):
    def _clock_mismatch(self, detail: str) -> GatewayClockMismatch:
        return GatewayClockMismatch(
            f"the platform's clock and the payment gateway's differ by more than "
            f"{self._tolerance_s} s ({detail}): correct the clock (NTP) on the platform or the "
            "gateway; nothing was done at the gateway")

    def create_order(self, request: OrderRequest) -> OrderAccepted: ...

    def refund(self, refund_no: str, original_txn_id: str, amount: Money) -> RefundDone: ...

    def statement(self, day: date) -> str: ...


class HttpGateway:
    """Every request is a signed POST; every answer must carry the gateway's signature."""

    def __init__(self, base_url: str, merchant_id: str, secret: str, clock: Clock, *,
                 timeout_s: float = 10.0, tolerance_s: int = protocol.DEFAULT_TOLERANCE_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.merchant_id = merchant_id
        self._secret = secret
        self._clock = clock
        self._timeout_s = timeout_s
        self._tolerance_s = tolerance_s

    def _post(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        body = protocol.canonical_json({"merchant_id": self.merchant_id, **payload})
        headers = protocol.signed_headers(self.merchant_id, self._secret, body, self._clock.now())
        headers["Content-Type"] = "application/json"
        try:
            with httpx.Client(timeout=self._timeout_s) as http:
                response = http.post(self.base_url + path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(
                f"the payment gateway did not answer ({type(exc).__name__}); the order is kept: "
                "retry with the same Idempotency-Key"
            ) from None
        if response.status_code >= 500:
            raise GatewayUnavailable(f"the payment gateway failed (HTTP {response.status_code})")
        try:
            protocol.verify(self._secret, response.headers, response.content,
                            now=self._clock.now(), tolerance_s=self._tolerance_s)
        except protocol.StaleTimestamp as exc:  # signed right, at a time too far from ours
            raise self._clock_mismatch(f"its answer's {exc.message}") from None
        except BiaodiError as exc:
            if _code(response) == protocol.StaleTimestamp.code:
                raise self._clock_mismatch(f"it refused our request: {_message(response)}"
                                           ) from None
            raise GatewayUnavailable(
                f"the gateway's answer (HTTP {response.status_code}: {_message(response)}) is "
                f"not signed properly: {exc}"
            ) from None
        if response.status_code >= 400:
            raise GatewayRefused(f"the payment gateway refused: {_message(response)}")
        return response

    def _clock_mismatch(self, detail: str) -> GatewayClockMismatch:
        return GatewayClockMismatch(
            f"the platform's clock and the payment gateway's differ by more than "
            f"{self._tolerance_s} s ({detail}): correct the clock (NTP) on the platform or the "
            "gateway; nothing was done at the gateway")

    def create_order(self, request: OrderRequest) -> OrderAccepted:
        data = self._post("/v1/orders", {
            "order_no": request.order_no, "type": request.type.value,
            "amount": str(request.amount), "channel": request.channel,
            "notify_url": request.notify_url,
            **({"return_url": request.return_url} if request.return_url else {}),
        }).json()
        return OrderAccepted(order_no=data["order_no"], gateway_ref=data["gateway_ref"],
                             pay_url=data.get("pay_url"))

    def refund(self, refund_no: str, original_txn_id: str, amount: Money) -> RefundDone:
        data = self._post("/v1/refunds", {
            "refund_no": refund_no, "original_txn_id": original_txn_id, "amount": str(amount),
        }).json()
        return RefundDone(refund_no=data["refund_no"], txn_id=data["txn_id"],
                          amount=Money.parse(data["amount"], ceiling_fen=None),
                          completed_at=datetime.fromisoformat(data["completed_at"]))

    def statement(self, day: date) -> str:
        return self._post("/v1/statements", {"date": day.isoformat()}).text


def _code(response: httpx.Response) -> str | None:
    try:
        return str(response.json().get("error", {}).get("code"))
    except (ValueError, AttributeError):
        return None


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or response.text[:200])
    except (ValueError, AttributeError):
        return response.text[:200]


def gateway_from_settings(settings: Settings, clock: Clock) -> HttpGateway:
    return HttpGateway(settings.gateway_url, settings.gateway_merchant_id, settings.gateway_secret,
                       clock, timeout_s=settings.gateway_timeout_seconds,
                       tolerance_s=settings.callback_tolerance_seconds)

