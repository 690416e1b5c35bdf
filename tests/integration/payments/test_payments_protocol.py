"""The gateway protocol and the payment rules, without I/O: signatures, the tolerance window,
callback bodies, statement CSV, withdrawal limits and the entries each event posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.gateway import protocol
from biaodi.adapters.gateway.client import GatewayClockMismatch, HttpGateway, OrderRequest
from biaodi.adapters.gateway.protocol import GatewayEvent, StatementLine
from biaodi.adapters.gateway.sandbox import SandboxState, create_sandbox
from biaodi.domain.payments.orders import (
    OrderKind,
    OrderStatus,
    TxnType,
    WithdrawalLimits,
    check_withdrawal,
    move_order,
    parse_channel,
    suspended_withdrawal_settled,
    wallet_role,
)
from biaodi.domain.shared.errors import BiaodiError, Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from payment_support import free_port, gateway_event, serve

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def headers_at(body: bytes, moment: datetime, secret: str = "s3cret-key") -> dict[str, str]:
    return protocol.signed_headers("biaodi", secret, body, moment)


def test_signature_covers_timestamp_and_body() -> None:
    body = b'{"a":1}'
    ts = int(NOW.timestamp())
    assert protocol.sign("k", ts, body) == protocol.sign("k", ts, body)
    assert protocol.sign("k", ts, body) != protocol.sign("k", ts + 1, body)
    assert protocol.sign("k", ts, body) != protocol.sign("k", ts, b'{"a":2}')
    assert protocol.sign("k", ts, body) != protocol.sign("other", ts, body)
    assert protocol.sign("k", ts, body).startswith("sha256=")
    good = headers_at(body, NOW)
    assert protocol.verify("s3cret-key", good, body, now=NOW, tolerance_s=300) == ts


@pytest.mark.parametrize(("skew", "accepted"), [(300, True), (-300, True), (301, False),
                                                (-301, False)])
def test_tolerance_window_in_both_directions(skew: int, accepted: bool) -> None:
    body = b"{}"
    sent = headers_at(body, NOW - timedelta(seconds=skew))
    if accepted:
        protocol.verify("s3cret-key", sent, body, now=NOW, tolerance_s=300)
    else:
        with pytest.raises(protocol.StaleTimestamp):
            protocol.verify("s3cret-key", sent, body, now=NOW, tolerance_s=300)


@pytest.mark.parametrize("tamper", ["signature", "body", "timestamp", "secret", "missing",
                                    "not a number"])
def test_tampering_is_refused(tamper: str) -> None:
    body = b'{"amount":"1.00"}'
    sent = headers_at(body, NOW)
    if tamper == "signature":
        sent[protocol.SIGNATURE_HEADER] = sent[protocol.SIGNATURE_HEADER][:-1] + "x"
    elif tamper == "body":
        body = b'{"amount":"9.00"}'
    elif tamper == "timestamp":
        sent[protocol.TIMESTAMP_HEADER] = str(int(sent[protocol.TIMESTAMP_HEADER]) + 1)
    elif tamper == "secret":
        sent = headers_at(body, NOW, secret="another-secret")
    elif tamper == "missing":
        del sent[protocol.SIGNATURE_HEADER]
    else:
        sent[protocol.TIMESTAMP_HEADER] = "1e9"
    with pytest.raises(protocol.BadSignature) as refused:
        protocol.verify("s3cret-key", sent, body, now=NOW, tolerance_s=300)
    assert refused.value.status == 401


def test_callback_body_round_trip_and_refusals() -> None:
    event = gateway_event("D1", "12.34")
    assert GatewayEvent.parse(event.to_json()) == event
    assert event.gateway_date.isoformat() == "2026-11-28"
    for body, field in ((b"[1]", "body"), (b"not json", "body"),
                        (event.to_json().replace(b'"12.34"', b"12.34"), "amount"),
                        (event.to_json().replace(b'"deposit"', b'"gift"'), "type"),
                        (event.to_json().replace(b'"succeeded"', b'"maybe"'), "status"),
                        (event.to_json().replace(b"+00:00", b""), "completed_at")):
        with pytest.raises(InvalidInput) as refused:
            GatewayEvent.parse(body)
        assert refused.value.field == field


def test_statement_csv_round_trip_and_bad_lines() -> None:
    lines = [
        StatementLine("T1", "D1", TxnType.DEPOSIT, Money(100_00), "pos", NOW),
        StatementLine("T2", "W1", TxnType.PAYOUT, Money(30_00), "bank_transfer", NOW),
    ]
    text = protocol.write_statement(lines)
    assert text.splitlines()[0] == "txn_id,order_no,type,amount,channel,completed_at"
    assert text.splitlines()[2].startswith("T2,W1,payout,30.00,bank_transfer,2026-11-28T02:00")
    assert protocol.parse_statement(text) == lines
    assert [line.custody_fen for line in lines] == [100_00, -30_00]
    with pytest.raises(InvalidInput, match="header"):
        protocol.parse_statement("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="statement line 3"):
        protocol.parse_statement(text.replace("30.00", "30.001"))
    with pytest.raises(InvalidInput, match="twice"):
        protocol.parse_statement(text.replace("T2", "T1"))


def test_withdrawal_limits_name_the_field_and_rule() -> None:
    limits = WithdrawalLimits(per_transaction=Money(1000_00), per_day=Money(1500_00))
    check_withdrawal(Money(1000_00), Money(500_00), limits)
    with pytest.raises(InvalidInput) as too_big:
        check_withdrawal(Money(1000_01), Money.zero(), limits)
    assert (too_big.value.status, too_big.value.field) == (422, "amount")
    assert too_big.value.code == "withdrawal_transaction_limit"
    assert "1000.00 yuan per withdrawal" in too_big.value.message
    with pytest.raises(Conflict) as too_much:
        check_withdrawal(Money(600_00), Money(1000_00), limits)
    assert (too_much.value.status, too_much.value.code) == (409, "withdrawal_daily_limit")
    assert "daily limit of 1500.00 yuan (500.00 yuan left today)" in too_much.value.message


def test_channels_roles_and_order_transitions() -> None:
    assert parse_channel("pos", OrderKind.DEPOSIT).value == "pos"
    with pytest.raises(InvalidInput, match="bank_transfer or third_party"):
        parse_channel("pos", OrderKind.WITHDRAWAL)
    with pytest.raises(InvalidInput, match="channel must be one of"):
        parse_channel("cash", OrderKind.DEPOSIT)
    assert wallet_role(["borrower", "investor"], None) == "investor"
    assert wallet_role(["borrower", "operator"], None) == "borrower"
    for roles, requested in ((["investor"], "borrower"), (["operator"], None),
                             (["investor"], "operator")):
        with pytest.raises(InvalidInput) as refused:
            wallet_role(roles, requested)
        assert refused.value.field == "role"
    assert move_order("pending", OrderStatus.SUCCEEDED) is OrderStatus.SUCCEEDED
    with pytest.raises(BiaodiError, match="from failed to succeeded"):
        move_order("failed", OrderStatus.SUCCEEDED)


@pytest.mark.parametrize(("ordered", "paid"), [(100_00, 90_00), (100_00, 110_00)])
def test_settling_a_mismatched_withdrawal_balances(ordered: int, paid: int) -> None:
    draft = suspended_withdrawal_settled("investor", 7, ordered, paid, "settled")
    draft.validate()
    assert sum(p.amount for p in draft.postings if p.account == "suspense:gateway") == -paid


@pytest.mark.parametrize("gateway_ahead_s", [3600, -3600])
def test_a_clock_mismatch_with_the_gateway_is_reported_as_such(gateway_ahead_s: int) -> None:
    """Both sides sign correctly but their clocks are an hour apart: the platform reports a
    clock mismatch (and what to do), not a signing error."""
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    state = SandboxState(merchants={"M1": "s3cret-key"},
                         clock=FixedClock(now + timedelta(seconds=gateway_ahead_s)))
    with serve(create_sandbox(state), free_port()) as base:
        gateway = HttpGateway(base, "M1", "s3cret-key", FixedClock(now))
        with pytest.raises(GatewayClockMismatch) as caught:
            gateway.create_order(OrderRequest("D-CLOCK-1", TxnType.DEPOSIT, Money.yuan("10"),
                                              "third_party", f"{base}/notify"))
    assert caught.value.code == "gateway_clock_mismatch"
    assert "clock" in caught.value.message and "signed properly" not in caught.value.message
    assert state.orders == {}  # nothing was done at the gateway
