"""Deposits and withdrawals of the simulated market, through the gateway's protocol.

`SimGateway` stands where the sandbox gateway stands: the platform's own `payments.submit`
sends it each order (it accepts, as the sandbox does), and it answers with a callback signed
with the merchant secret that `payments.receive_callback` verifies, books and audits exactly as
it does one arriving over HTTP. Only the network hop is left out: a year of a market makes
hundreds of thousands of payments, and the sandbox's HTTP round trips would be most of the
run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from biaodi.adapters.clock import Clock
from biaodi.adapters.gateway import protocol
from biaodi.adapters.gateway.client import OrderAccepted, OrderRequest, RefundDone
from biaodi.adapters.gateway.protocol import GatewayEvent
from biaodi.domain.payments.orders import GatewayStatus, WithdrawalLimits
from biaodi.domain.shared.money import Money
from biaodi.services.payments import orders as payments
from biaodi.services.simulation.ports import Market as Platform


@dataclass
class SimGateway:
    clock: Clock
    merchant_id: str
    secret: str
    tag: str
    accepted: dict[str, OrderRequest] = field(default_factory=dict)
    count: int = 0

    def create_order(self, request: OrderRequest) -> OrderAccepted:
        self.accepted[request.order_no] = request
        return OrderAccepted(request.order_no, f"G{self.tag}{len(self.accepted)}", None)

    def refund(self, refund_no: str, original_txn_id: str, amount: Money) -> RefundDone:
        raise NotImplementedError("the simulated market makes no refunds")

    def statement(self, day: date) -> str:
        return protocol.write_statement([])

    def callback(self, order_no: str) -> payments.RawCallback:
        """The gateway's signed word that the order succeeded."""
        request = self.accepted.pop(order_no)
        self.count += 1
        event = GatewayEvent(merchant_id=self.merchant_id, txn_id=f"T{self.tag}{self.count}",
                             order_no=order_no, type=request.type,
                             status=GatewayStatus.SUCCEEDED, amount=request.amount,
                             channel=request.channel, completed_at=self.clock.now())
        body = event.to_json()
        headers = protocol.signed_headers(self.merchant_id, self.secret, body, self.clock.now())
        return payments.RawCallback(body, headers)


class Payments:
    """Deposits and withdrawals as a user makes them: the order, the gateway, the callback."""

    def __init__(self, platform: Platform, tag: str):
        s = platform.settings
        self.platform = platform
        self.gateway = SimGateway(platform.clock, s.gateway_merchant_id, s.gateway_secret, tag)
        self.limits = WithdrawalLimits(per_transaction=Money(s.withdrawal_max_per_transaction_fen),
                                       per_day=Money(s.withdrawal_max_per_day_fen))
        self.notify_url = s.public_base_url.rstrip("/") + payments.CALLBACK_PATH
        self.deposited = 0
        self.withdrawn = 0

    def _complete(self, order_no: str) -> None:
        p, s = self.platform, self.platform.settings
        view = payments.submit(p.uow, self.gateway, order_no, notify_url=self.notify_url)
        if view.status != "pending":
            raise RuntimeError(f"order {order_no} was not accepted: {view.status}")
        payments.receive_callback(p.uow, self.gateway.callback(order_no),
                                  merchant_id=s.gateway_merchant_id, secret=s.gateway_secret,
                                  tolerance_s=s.callback_tolerance_seconds)

    def deposit(self, user_id: int, fen: int, role: str, channel: str = "third_party") -> None:
        cmd = payments.StartPayment(user_id, Money(fen), channel, role)
        view = self.platform_tx(lambda uow: payments.start_deposit(uow, cmd))
        self._complete(view.order_no)
        self.deposited += fen

    def withdraw(self, user_id: int, fen: int, role: str) -> int:
        """Withdraw up to `fen`, within the daily limits; returns what was paid out."""
        fen = min(fen, self.limits.per_transaction.fen)
        if fen <= 0:
            return 0
        cmd = payments.StartPayment(user_id, Money(fen), "bank_transfer", role)
        view = self.platform_tx(lambda uow: payments.start_withdrawal(uow, cmd, self.limits))
        self._complete(view.order_no)
        self.withdrawn += fen
        return fen

    def platform_tx(self, fn):  # type: ignore[no-untyped-def]
        from biaodi.services.shared.tx import in_transaction

        return in_transaction(self.platform.uow, fn)
