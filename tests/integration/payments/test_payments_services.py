"""Payment use cases on SQLite and PostgreSQL with an in-memory gateway: withdrawal limits
(also under concurrency), an unreachable or refusing gateway, custody kept apart from the
platform's money, and the audit tables kept append-only."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from biaodi.adapters.db.payment_tables import GatewayCallback, PaymentOrder
from biaodi.adapters.gateway.client import GatewayUnavailable
from biaodi.adapters.gateway.protocol import StatementLine
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import EntryDraft
from biaodi.domain.payments.orders import TxnType, WithdrawalLimits
from biaodi.domain.shared.errors import BiaodiError, Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.ledger import posting as ledger
from biaodi.services.payments import orders as payments
from biaodi.services.payments import reconciliation
from biaodi.services.payments.orders import StartPayment
from biaodi.services.shared.tx import in_transaction
from factories import identity
from payment_support import FakeGateway, gateway_event, signed

LIMITS = WithdrawalLimits(per_transaction=Money(1000_00), per_day=Money(2500_00))
NOTIFY = "http://127.0.0.1:8000/api/v1/payments/callbacks"


def investor(platform: Platform, deposit: str | None = None, *roles: str) -> int:
    cmd = users.Register(**identity(), roles=roles or ("investor",))
    user_id = in_transaction(platform.uow, lambda uow: users.register(
        uow, cmd, platform.cipher)).id
    if deposit:
        order = in_transaction(platform.uow, lambda uow: payments.start_deposit(
            uow, StartPayment(user_id, Money.parse(deposit), "mobile")))
        in_transaction(platform.uow, lambda uow: payments.apply_event(
            uow, gateway_event(order.order_no, deposit), source="callback"))
    return user_id


def withdraw(platform: Platform, user_id: int, amount: str) -> payments.OrderView:
    cmd = StartPayment(user_id, Money.parse(amount), "bank_transfer")
    return in_transaction(platform.uow, lambda uow: payments.start_withdrawal(uow, cmd, LIMITS))


def wallet(platform: Platform, user_id: int, role: str = "investor") -> dict[str, str]:
    with platform.uow() as uow:
        return {k: str(v) for k, v in users.wallet_of(uow, user_id)[role].items()}


def assert_balanced(platform: Platform) -> None:
    with platform.uow() as uow:
        check = ledger.verify(uow)
    assert check.balanced, check.problems


def test_withdrawal_limits_per_transaction_and_per_day(platform: Platform) -> None:
    user = investor(platform, "5000.00")
    with pytest.raises(InvalidInput) as too_big:
        withdraw(platform, user, "1000.01")
    assert too_big.value.field == "amount" and too_big.value.code == "withdrawal_transaction_limit"
    first, second = withdraw(platform, user, "1000.00"), withdraw(platform, user, "1000.00")
    with pytest.raises(Conflict) as over:
        withdraw(platform, user, "600.00")
    assert over.value.code == "withdrawal_daily_limit"
    assert "(500.00 yuan left today)" in over.value.message

    # A declined withdrawal gives its room back; a paid one keeps using it.
    for order, status in ((first, "failed"), (second, "succeeded")):
        event = gateway_event(order.order_no, "1000.00", type="payout", status=status)
        in_transaction(platform.uow, lambda uow, e=event: payments.apply_event(
            uow, e, source="callback"))
    withdraw(platform, user, "1000.00")
    with platform.uow() as uow:
        view = payments.limits_view(uow, user, LIMITS)
    assert view["used_today"] == "2000.00" and view["left_today"] == "500.00"
    assert wallet(platform, user) == {"available": "3000.00", "frozen": "1000.00"}
    assert_balanced(platform)


def test_concurrent_withdrawals_cannot_pass_the_daily_limit_together(platform: Platform) -> None:
    user = investor(platform, "5000.00")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def race() -> None:
        barrier.wait()
        try:
            withdraw(platform, user, "1000.00")
            outcomes.append("ok")
        except BiaodiError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "ok", "withdrawal_daily_limit", "withdrawal_daily_limit"]
    assert wallet(platform, user) == {"available": "3000.00", "frozen": "2000.00"}
    assert_balanced(platform)


def test_insufficient_balance_is_refused_with_the_amounts(platform: Platform) -> None:
    user = investor(platform, "100.00")
    with pytest.raises(Conflict) as refused:
        withdraw(platform, user, "100.01")
    assert refused.value.code == "insufficient_balance" and refused.value.field == "amount"
    assert "100.01 yuan is more than the 100.00 yuan available" in refused.value.message
    with platform.uow() as uow:
        assert uow.s.execute(select(PaymentOrder).where(PaymentOrder.kind == "withdrawal")
                             ).first() is None


def test_unreachable_gateway_keeps_the_order_and_a_retry_sends_it(platform: Platform) -> None:
    user = investor(platform, "800.00")
    order = withdraw(platform, user, "300.00")
    gateway = FakeGateway()
    gateway.down = True
    with pytest.raises(GatewayUnavailable):
        payments.submit(platform.uow, gateway, order.order_no, notify_url=NOTIFY)
    with platform.uow() as uow:
        assert payments.order_view(uow, order.order_no).status == "created"
    assert wallet(platform, user) == {"available": "500.00", "frozen": "300.00"}

    gateway.down = False
    sent = payments.submit(platform.uow, gateway, order.order_no, notify_url=NOTIFY)
    again = payments.submit(platform.uow, gateway, order.order_no, notify_url=NOTIFY)
    assert sent.status == again.status == "pending" and sent.gateway_ref
    assert gateway.calls == 2 and list(gateway.orders) == [order.order_no]
    assert gateway.orders[order.order_no].type is TxnType.PAYOUT


def test_gateway_refusal_fails_the_order_and_releases_the_money(platform: Platform) -> None:
    user = investor(platform, "800.00")
    order = withdraw(platform, user, "300.00")
    gateway = FakeGateway()
    gateway.refusal = "payee account closed"
    failed = payments.submit(platform.uow, gateway, order.order_no, notify_url=NOTIFY)
    assert failed.status == "failed" and "payee account closed" in failed.failure_reason
    assert wallet(platform, user) == {"available": "800.00", "frozen": "0.00"}
    assert_balanced(platform)


def test_platform_money_left_in_custody_is_found_and_swept(platform: Platform) -> None:
    """A fee taken from a wallet into platform income without moving the money out of custody
    breaks custody ≠ wallets; reconciliation finds it (and only it); a sweep fixes it."""
    user = investor(platform, "100.00")
    with platform.uow() as uow:
        txn_id = str(uow.s.execute(select(PaymentOrder.txn_id)).scalar())
    deposit_line = StatementLine(txn_id, "D", TxnType.DEPOSIT, Money(100_00), "mobile",
                                 platform.clock.now())
    day = platform.clock.today()
    clean = in_transaction(platform.uow, lambda uow: reconciliation.reconcile(
        uow, day, [deposit_line]))
    assert clean.findings.found == [] and clean.findings.matched == 1

    fee = EntryDraft("careless_fee").transfer(f"investor:{user}:available",
                                              "platform:fee_income", 5_00)
    in_transaction(platform.uow, lambda uow: ledger.post(uow, fee))
    report = in_transaction(platform.uow, lambda uow: reconciliation.reconcile(
        uow, day, [deposit_line]))
    [found] = report.findings.found
    assert found.kind == "custody_mismatch" and found.detail["difference_fen"] == 5_00
    [open_one] = report.open
    resolved = in_transaction(platform.uow, lambda uow: reconciliation.resolve(
        uow, reconciliation.Resolve(open_one.id, "sweep", "fee belongs to the platform"),
        actor_id=1, merchant_id="biaodi"))
    assert resolved.status == "resolved" and resolved.entry_id
    after = in_transaction(platform.uow, lambda uow: reconciliation.reconcile(
        uow, day, [deposit_line]))
    assert after.findings.found == [] and after.open == []
    with platform.uow() as uow:
        assert ledger.balance(uow, "custody:cash") == 95_00
        assert ledger.balance(uow, "platform:cash") == 5_00
    assert_balanced(platform)


def test_callbacks_are_append_only(platform: Platform) -> None:
    user = investor(platform)
    order = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, StartPayment(user, Money(1_00), "pos")))
    body, headers = signed(gateway_event(order.order_no, "1.00"))
    settings = platform.settings
    payments.receive_callback(platform.uow, payments.RawCallback(body, headers),
                              merchant_id=settings.gateway_merchant_id,
                              secret=settings.gateway_secret, tolerance_s=300)
    with platform.uow() as uow:
        assert uow.s.execute(select(GatewayCallback.verdict)).scalars().all() == ["accepted"]
    for statement in ("UPDATE gateway_callbacks SET verdict = 'x'",
                      "DELETE FROM gateway_callbacks", "DELETE FROM gateway_transactions",
                      "UPDATE gateway_entries SET purpose = 'x'"):
        with pytest.raises(DBAPIError, match="append-only"), platform.engine.begin() as conn:
            conn.execute(text(statement))


def resolve(platform: Platform, exception_id: int, action: str) -> reconciliation.ExceptionView:
    cmd = reconciliation.Resolve(exception_id, action, "checked with the gateway")
    return in_transaction(platform.uow, lambda uow: reconciliation.resolve(
        uow, cmd, actor_id=1, merchant_id="biaodi"))


def test_withdrawal_paid_with_another_amount_waits_in_suspense(platform: Platform) -> None:
    user = investor(platform, "1000.00")
    order = withdraw(platform, user, "300.00")
    event = gateway_event(order.order_no, "290.00", type="payout")
    applied = in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, event, source="callback"))
    assert (applied.verdict, applied.order_status) == ("suspended", "suspended")
    assert wallet(platform, user) == {"available": "700.00", "frozen": "300.00"}
    with platform.uow() as uow:
        assert ledger.balance(uow, "suspense:gateway") == -290_00  # paid out, not yet settled
        assert ledger.balance(uow, "custody:cash") == 710_00
        [exception] = reconciliation.list_exceptions(uow, status="open")
    assert (exception.gateway_fen, exception.ledger_fen) == (-290_00, -300_00)
    with pytest.raises(InvalidInput, match="suspended deposit"):
        resolve(platform, exception.id, "credit_wallet")
    done = resolve(platform, exception.id, "settle")
    assert done.status == "resolved"
    assert wallet(platform, user) == {"available": "710.00", "frozen": "0.00"}
    with platform.uow() as uow:
        assert ledger.balance(uow, "suspense:gateway") == 0
        assert payments.order_view(uow, order.order_no).status == "succeeded"
    with pytest.raises(Conflict, match="already resolved"):
        resolve(platform, exception.id, "settle")
    assert_balanced(platform)


def test_a_statement_line_for_no_known_order_is_applied_into_suspense(
    platform: Platform,
) -> None:
    stray = StatementLine("TSTRAY1", "D-ELSEWHERE", TxnType.DEPOSIT, Money(42_00), "pos",
                          platform.clock.now())
    day = platform.clock.today()
    report = in_transaction(platform.uow, lambda uow: reconciliation.reconcile(
        uow, day, [stray]))
    [found] = report.findings.found
    assert (found.kind, found.txn_id, found.gateway_fen) == ("missing_in_ledger", "TSTRAY1", 42_00)
    resolve(platform, report.open[0].id, "apply")
    after = in_transaction(platform.uow, lambda uow: reconciliation.reconcile(
        uow, day, [stray]))
    assert after.findings.matched == 1 and after.open == []
    with platform.uow() as uow:
        assert ledger.balance(uow, "suspense:gateway") == 42_00
        assert ledger.balance(uow, "custody:cash") == 42_00
    assert_balanced(platform)
