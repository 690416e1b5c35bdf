"""The payments API with an in-memory gateway: keys, validation naming the field, limits,
replays, an unreachable gateway, malformed callbacks and who may see what."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from biaodi.api.routes.payments import get_gateway
from biaodi.bootstrap import Platform
from biaodi.services.ledger import posting as ledger
from payment_support import FakeGateway, gateway_event, signed
from test_support import register

CALLBACK = "/api/v1/payments/callbacks"


@pytest.fixture
def gateway(client: TestClient) -> Iterator[FakeGateway]:
    fake = FakeGateway()
    client.app.dependency_overrides[get_gateway] = lambda: fake  # type: ignore[attr-defined]
    yield fake
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def post(client: TestClient, kind: str, body: dict[str, object], headers: dict[str, str],
         key: str | None = "k1"):  # type: ignore[no-untyped-def]
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/payments/{kind}", json=body, headers=headers | extra)


def fund(client: TestClient, headers: dict[str, str], amount: str) -> None:
    response = post(client, "deposits", {"amount": amount}, headers, key=f"fund-{amount}")
    assert response.status_code == 201, response.text
    body, sig = signed(gateway_event(response.json()["order_no"], amount))
    assert client.post(CALLBACK, content=body, headers=sig).status_code == 200


def test_deposit_is_idempotent_and_validated(client: TestClient, gateway: FakeGateway,
                                             platform: Platform) -> None:
    _, headers = register(client, "investor", "borrower")
    body = {"amount": "250.50", "channel": "pos", "role": "borrower"}
    first = post(client, "deposits", body, headers)
    assert first.status_code == 201, first.text
    order = first.json()
    assert (order["status"], order["role"], order["channel"]) == ("pending", "borrower", "pos")
    assert order["pay_url"] == order["qr_content"] == f"https://gateway.test/pay/{order['order_no']}"
    again = post(client, "deposits", body, headers)
    assert again.json()["order_no"] == order["order_no"]
    assert again.headers["Idempotent-Replayed"] == "true" and gateway.calls == 1
    reused = post(client, "deposits", body | {"amount": "1.00"}, headers)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"

    for bad, field in (({"amount": 12.5}, "amount"), ({"amount": "1.001"}, "amount"),
                       ({"amount": "0"}, "amount"), ({"amount": "-5"}, "amount"),
                       ({"amount": "5", "channel": "cash"}, "channel"),
                       ({"amount": "5", "role": "guarantor"}, "role"),
                       ({"channel": "pos"}, "amount")):
        response = post(client, "deposits", bad, headers, key=f"bad-{bad}")
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["field"] == field, (bad, response.json())
    no_key = post(client, "deposits", body, headers, key=None)
    assert no_key.status_code == 422 and no_key.json()["error"]["field"] == "Idempotency-Key"
    anonymous = client.post("/api/v1/payments/deposits", json=body,
                            headers={"Idempotency-Key": "x"})
    assert anonymous.status_code == 401
    with platform.uow() as uow:
        assert ledger.verify(uow).entries == 0  # nothing moves before the gateway confirms


def test_withdrawal_limits_and_balance_errors_name_field_and_rule(
    client: TestClient, gateway: FakeGateway, platform: Platform
) -> None:
    _, headers = register(client, "investor")
    fund(client, headers, "90000.00")
    limits = client.get("/api/v1/payments/limits", headers=headers).json()
    assert limits == {"per_transaction": "50000.00", "per_day": "200000.00",
                      "used_today": "0.00", "left_today": "200000.00",
                      "business_date": "2026-11-28"}
    too_big = post(client, "withdrawals", {"amount": "50000.01"}, headers, key="w1")
    assert too_big.status_code == 422
    assert too_big.json()["error"] == {
        "code": "withdrawal_transaction_limit", "field": "amount",
        "message": "amount must not exceed 50000.00 yuan per withdrawal (per-transaction limit)",
    }
    pos = post(client, "withdrawals", {"amount": "10.00", "channel": "pos"}, headers, key="w2")
    assert pos.status_code == 422 and pos.json()["error"]["field"] == "channel"
    ok = post(client, "withdrawals", {"amount": "50000.00"}, headers, key="w3")
    assert ok.status_code == 201 and ok.json()["status"] == "pending"
    broke = post(client, "withdrawals", {"amount": "40000.01"}, headers, key="w4")
    assert broke.status_code == 409
    assert broke.json()["error"]["code"] == "insufficient_balance"
    assert "40000.00 yuan available" in broke.json()["error"]["message"]
    wallet = client.get("/api/v1/me/wallet", headers=headers).json()["wallets"]["investor"]
    assert wallet == {"available": "40000.00", "frozen": "50000.00"}
    replay = post(client, "withdrawals", {"amount": "40000.01"}, headers, key="w4")
    assert replay.status_code == 409 and replay.headers["Idempotent-Replayed"] == "true"


def test_daily_limit_is_configurable(client: TestClient, gateway: FakeGateway,
                                     platform: Platform) -> None:
    platform.settings = platform.settings.model_copy(
        update={"withdrawal_max_per_day_fen": 150_00, "withdrawal_max_per_transaction_fen": 100_00})
    _, headers = register(client, "investor")
    fund(client, headers, "500.00")
    assert post(client, "withdrawals", {"amount": "100.00"}, headers, key="a").status_code == 201
    over = post(client, "withdrawals", {"amount": "60.00"}, headers, key="b")
    assert over.status_code == 409
    assert over.json()["error"]["code"] == "withdrawal_daily_limit"
    assert over.json()["error"]["field"] == "amount"
    assert "daily limit of 150.00 yuan (50.00 yuan left today)" in over.json()["error"]["message"]


def test_unreachable_gateway_answers_502_and_a_retry_with_the_key_heals(
    client: TestClient, gateway: FakeGateway
) -> None:
    _, headers = register(client, "investor")
    fund(client, headers, "100.00")
    gateway.down = True
    down = post(client, "withdrawals", {"amount": "60.00"}, headers, key="w")
    assert down.status_code == 502 and down.json()["error"]["code"] == "gateway_unavailable"
    wallet = client.get("/api/v1/me/wallet", headers=headers).json()["wallets"]["investor"]
    assert wallet == {"available": "40.00", "frozen": "60.00"}  # frozen, not lost
    [created] = client.get("/api/v1/payments/orders", params={"kind": "withdrawal"},
                           headers=headers).json()["items"]
    assert created["status"] == "created"
    gateway.down = False
    healed = post(client, "withdrawals", {"amount": "60.00"}, headers, key="w")
    assert healed.status_code == 201
    assert (healed.json()["order_no"], healed.json()["status"]) == (created["order_no"], "pending")


def test_malformed_and_misdirected_callbacks_are_refused_and_kept(
    client: TestClient, gateway: FakeGateway, operator_headers: dict[str, str]
) -> None:
    _, headers = register(client, "investor")
    order = post(client, "deposits", {"amount": "10.00"}, headers).json()
    cases = {
        "not json": signed(b"{oops"),
        "float amount": signed(gateway_event(order["order_no"], "10.00").to_json()
                               .replace(b'"10.00"', b"10.0")),
        "other merchant": signed(gateway_event(order["order_no"], "10.00", merchant_id="x")),
        "payout for a deposit": signed(gateway_event(order["order_no"], "10.00",
                                                     type="payout")),
        "unsigned": (gateway_event(order["order_no"], "10.00").to_json(), {}),
    }
    answers = {name: client.post(CALLBACK, content=body, headers=sig)
               for name, (body, sig) in cases.items()}
    assert {n: (r.status_code, r.json()["error"]["field"]) for n, r in answers.items()} == {
        "not json": (422, "body"), "float amount": (422, "amount"),
        "other merchant": (422, "merchant_id"), "payout for a deposit": (422, "type"),
        "unsigned": (401, "X-Gateway-Timestamp"),
    }
    huge = client.post(CALLBACK, content=b"x" * (64 * 1024 + 1))
    assert huge.status_code == 413 and huge.json()["error"] == {
        "code": "body_too_large", "message": "the request body must be at most 65536 bytes",
        "field": "body"}
    audit = client.get("/api/v1/operator/payments/callbacks", headers=operator_headers).json()
    assert len(audit) == 5 and {c["http_status"] for c in audit} == {401, 422}
    assert client.get(f"/api/v1/payments/orders/{order['order_no']}",
                      headers=headers).json()["status"] == "pending"


def test_orders_are_private_and_operator_views_need_the_role(
    client: TestClient, gateway: FakeGateway, operator_headers: dict[str, str]
) -> None:
    alice_id, alice = register(client, "investor")
    _, bob = register(client, "investor")
    fund(client, alice, "30.00")
    order_no = client.get("/api/v1/payments/orders", headers=alice).json()["items"][0]["order_no"]
    assert client.get(f"/api/v1/payments/orders/{order_no}", headers=bob).status_code == 404
    assert client.get("/api/v1/payments/orders", headers=bob).json()["total"] == 0
    bad = client.get("/api/v1/payments/orders", params={"status": "lost"}, headers=alice)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    for path in ("/api/v1/operator/payments/exceptions", "/api/v1/operator/payments/callbacks",
                 "/api/v1/operator/payments/orders"):
        assert client.get(path, headers=alice).status_code == 403
        assert client.get(path, headers=operator_headers).status_code == 200
    everyone = client.get("/api/v1/operator/payments/orders", params={"user_id": alice_id},
                          headers=operator_headers).json()
    assert everyone["total"] == 1
    channels = client.get("/api/v1/operator/payments/channels", params={"day": "2026-11-28"},
                          headers=operator_headers).json()
    assert channels == [{"channel": "third_party", "kind": "deposit", "status": "succeeded",
                         "count": 1, "amount": "30.00"}]
    resolve = client.post("/api/v1/operator/payments/exceptions/999/resolve",
                          json={"action": "apply", "reason": "test reason"},
                          headers=operator_headers | {"Idempotency-Key": "r"})
    assert resolve.status_code == 404 and resolve.json()["error"]["field"] == "exception_id"
