"""Deposits and withdrawals against the sandbox gateway running as a separate process: happy
paths, duplicated, delayed, reordered, tampered, expired, unknown and mismatched callbacks."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from biaodi.adapters.db.payment_tables import GatewayCallback
from payment_support import Live, wait_until


def callbacks(live: Live, verdict: str | None = None) -> int:
    query = select(func.count()).select_from(GatewayCallback)
    if verdict is not None:
        query = query.where(GatewayCallback.verdict == verdict)
    with live.platform.uow() as uow:
        return int(uow.s.execute(query).scalar() or 0)


def test_deposit_then_withdrawal_happy_path(live: Live) -> None:
    user_id, headers = live.register("investor")
    order = live.start("deposits", headers, "1000.00", channel="online_banking")
    assert order["status"] == "pending" and order["kind"] == "deposit"
    assert order["channel"] == "online_banking"
    assert order["pay_url"].startswith(live.sandbox.url + "/pay/")
    page = httpx.get(order["pay_url"])  # what a person would open to pay
    assert page.status_code == 200 and order["order_no"] in page.text
    assert live.wallet(headers)["available"] == "0.00"

    [delivery] = live.sandbox.approve(order["order_no"])["deliveries"]
    assert delivery["status_code"] == 200
    assert delivery["response"]["verdict"] == "accepted"
    assert live.wallet(headers)["available"] == "1000.00"
    settled = live.order(headers, order["order_no"])
    assert settled["status"] == "succeeded" and settled["settled_amount"] == "1000.00"
    assert settled["txn_id"] == delivery["txn_id"]
    assert live.balance("custody:cash") == 1000_00

    withdrawal = live.start("withdrawals", headers, "300.00")
    assert withdrawal["status"] == "pending" and withdrawal["pay_url"] is None
    assert live.wallet(headers) == {"available": "700.00", "frozen": "300.00"}
    [paid] = live.sandbox.approve(withdrawal["order_no"])["deliveries"]
    assert paid["status_code"] == 200, paid
    assert live.wallet(headers) == {"available": "700.00", "frozen": "0.00"}
    assert live.balance("custody:cash") == 700_00

    mine = live.http.get("/api/v1/payments/orders", headers=headers).json()
    assert [o["kind"] for o in mine["items"]] == ["withdrawal", "deposit"]
    assert mine["total"] == 2
    assert all(o["user_id"] == user_id for o in mine["items"])


def test_withdrawal_declined_by_the_gateway_returns_the_money(live: Live) -> None:
    _, headers = live.funded("500.00")
    order = live.start("withdrawals", headers, "200.00", channel="third_party")
    assert live.wallet(headers) == {"available": "300.00", "frozen": "200.00"}
    [delivery] = live.sandbox.decline(order["order_no"], reason="card frozen")["deliveries"]
    assert delivery["status_code"] == 200
    assert live.wallet(headers) == {"available": "500.00", "frozen": "0.00"}
    declined = live.order(headers, order["order_no"])
    assert declined["status"] == "failed" and declined["failure_reason"] == "card frozen"
    assert live.balance("custody:cash") == 500_00
    assert live.entries("withdrawal_released") == 1


def test_a_hundred_duplicated_callbacks_post_once(live: Live) -> None:
    _, headers = live.register("investor")
    order = live.start("deposits", headers, "88.88")
    first = live.sandbox.approve(order["order_no"])["deliveries"]
    copies = live.sandbox.resend(order["order_no"], times=100, concurrency=8)
    replays = live.sandbox.resend(order["order_no"], times=3, replay=True)
    assert [d["response"]["verdict"] for d in first] == ["accepted"]
    assert {d["status_code"] for d in copies + replays} == {200}
    assert {d["response"]["verdict"] for d in copies + replays} == {"duplicate"}
    assert live.wallet(headers)["available"] == "88.88"
    assert live.entries("deposit_received") == 1
    assert callbacks(live) == 104 and callbacks(live, "duplicate") == 103


def test_tampered_expired_and_unknown_callbacks_post_nothing(live: Live) -> None:
    _, headers = live.register("investor")
    order = live.start("deposits", headers, "100.00")
    no = order["order_no"]
    held = live.sandbox.approve(no, deliver="hold")
    assert held["deliveries"] == []

    refusals = {
        "bad signature": live.sandbox.resend(no, tamper="signature"),
        "altered amount": live.sandbox.resend(no, tamper="amount"),
        "too old": live.sandbox.resend(no, timestamp_offset_seconds=-301),
        "from the future": live.sandbox.resend(no, timestamp_offset_seconds=301),
    }
    live.clock.advance(minutes=6)  # the platform's clock moves on: a fresh signature is stale
    refusals["stale by our clock"] = live.sandbox.resend(no)
    live.clock.advance(minutes=-6)
    refusals["unknown order"] = [live.sandbox.forge(live.callback_url, order_no="D20261128NOSUCH",
                                                    amount="100.00")]
    codes = {name: (d[0]["status_code"], d[0]["response"]["error"]["code"])
             for name, d in refusals.items()}
    assert codes == {
        "bad signature": (401, "bad_signature"),
        "altered amount": (401, "bad_signature"),
        "too old": (401, "stale_timestamp"),
        "from the future": (401, "stale_timestamp"),
        "stale by our clock": (401, "stale_timestamp"),
        "unknown order": (404, "unknown_order"),
    }
    assert live.wallet(headers)["available"] == "0.00"
    assert live.entries() == 0
    assert live.order(headers, no)["status"] == "pending"
    assert callbacks(live) == 6  # every refused callback is kept, raw, with its verdict
    audit = live.http.get("/api/v1/operator/payments/callbacks", headers=live.operator()).json()
    assert sorted(c["verdict"] for c in audit) == sorted(
        ["bad_signature"] * 2 + ["stale_timestamp"] * 3 + ["unknown_order"])
    assert all(c["body"] and c["signature"].startswith("sha256=") for c in audit)

    [late] = live.sandbox.release(no)  # the genuine callback still books
    assert late["status_code"] == 200 and late["response"]["verdict"] == "accepted"
    assert live.wallet(headers)["available"] == "100.00"


def test_amount_mismatch_goes_to_suspense_until_an_operator_resolves_it(live: Live) -> None:
    _, headers = live.register("investor")
    operator = live.operator()
    order = live.start("deposits", headers, "500.00")
    [delivery] = live.sandbox.approve(order["order_no"], amount="499.00")["deliveries"]
    assert delivery["status_code"] == 200
    assert delivery["response"]["verdict"] == "suspended"
    assert live.wallet(headers)["available"] == "0.00"
    assert live.balance("suspense:gateway") == 499_00
    assert live.balance("custody:cash") == 499_00
    assert live.order(headers, order["order_no"])["status"] == "suspended"

    [exception] = live.http.get("/api/v1/operator/payments/exceptions", headers=operator).json()
    assert exception["kind"] == "callback_amount_mismatch"
    assert (exception["gateway_amount"], exception["ledger_amount"]) == ("+499.00", "+500.00")
    assert exception["actions"] == ["credit_wallet", "refund", "settle"]
    resolve = f"/api/v1/operator/payments/exceptions/{exception['id']}/resolve"
    body = {"action": "credit_wallet", "reason": "payer confirmed 499.00 by phone"}
    done = live.http.post(resolve, json=body, headers=operator | {"Idempotency-Key": "r1"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved" and done.json()["resolution"] == "credit_wallet"
    again = live.http.post(resolve, json=body, headers=operator | {"Idempotency-Key": "r1"})
    assert again.json() == done.json() and again.headers["Idempotent-Replayed"] == "true"
    assert live.wallet(headers)["available"] == "499.00"
    assert live.balance("suspense:gateway") == 0
    assert live.order(headers, order["order_no"])["status"] == "succeeded"


def test_suspended_deposit_refunded_through_the_gateway(live: Live) -> None:
    _, headers = live.register("investor")
    operator = live.operator()
    order = live.start("deposits", headers, "50.00")
    live.sandbox.approve(order["order_no"], amount="5000.00")
    [exception] = live.http.get("/api/v1/operator/payments/exceptions", headers=operator).json()
    done = live.http.post(
        f"/api/v1/operator/payments/exceptions/{exception['id']}/resolve",
        json={"action": "refund", "reason": "payer sent 100x the order by mistake"},
        headers=operator | {"Idempotency-Key": "refund-1"},
    )
    assert done.status_code == 200, done.text
    assert live.balance("suspense:gateway") == 0 and live.balance("custody:cash") == 0
    assert live.wallet(headers)["available"] == "0.00"
    assert live.order(headers, order["order_no"])["status"] == "failed"
    statement = live.sandbox.http.get(
        "/sandbox/statements/2026-11-28.csv", params={"merchant_id": live.sandbox.merchant_id}
    ).text
    assert ",refund,5000.00," in statement and ",deposit,5000.00," in statement


def test_delayed_and_reordered_callbacks_each_book_once(live: Live) -> None:
    _, headers = live.register("investor")
    orders = [live.start("deposits", headers, f"{n}.00")["order_no"] for n in (10, 20, 30)]
    live.sandbox.approve(orders[0], delay_seconds=0.3)
    live.sandbox.approve(orders[1], deliver="hold")
    live.sandbox.approve(orders[2], deliver="hold")
    released = live.sandbox.release()  # held callbacks, newest first
    assert [d["order_no"] for d in released] == [orders[2], orders[1]]
    wait_until(lambda: live.order(headers, orders[0])["status"] == "succeeded",
               what="the delayed callback")
    assert live.wallet(headers)["available"] == "60.00"
    assert live.entries("deposit_received") == 3
