"""Operator actions through HTTP: role checks and idempotent money movement."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.ledger import posting as ledger
from factories import identity
from test_support import login


def new_investor(client: TestClient) -> tuple[int, dict[str, str]]:
    body = identity()
    user = client.post("/api/v1/users", json=body).json()
    return user["id"], login(client, body["username"])


def test_bonus_is_paid_once_per_idempotency_key(
    client: TestClient, platform: Platform, operator_headers: dict[str, str]
) -> None:
    investor_id, investor_headers = new_investor(client)
    body = {"user_id": investor_id, "amount": "88.88", "reason": "new investor 红包"}
    headers = operator_headers | {"Idempotency-Key": "bonus-0001"}
    first = client.post("/api/v1/operator/bonuses", json=body, headers=headers)
    assert first.status_code == 201, first.text
    replays = [
        client.post("/api/v1/operator/bonuses", json=body, headers=headers) for _ in range(3)
    ]
    assert all(r.status_code == 201 and r.json() == first.json() for r in replays)
    assert replays[0].headers["Idempotent-Replayed"] == "true"

    wallet = client.get("/api/v1/me/wallet", headers=investor_headers).json()["wallets"]
    assert wallet["investor"]["available"] == "88.88"

    reused = client.post(
        "/api/v1/operator/bonuses", json=body | {"amount": "1.00"}, headers=headers
    )
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"

    with platform.uow() as uow:
        check = ledger.verify(uow)
        assert check.balanced and check.entries == 1
        assert ledger.balance(uow, "platform:marketing_expense") == 8888


def test_bonus_needs_key_operator_role_and_a_good_amount(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    investor_id, investor_headers = new_investor(client)
    body = {"user_id": investor_id, "amount": "10.00", "reason": "promo"}
    no_key = client.post("/api/v1/operator/bonuses", json=body, headers=operator_headers)
    assert no_key.status_code == 422
    assert no_key.json()["error"]["field"] == "Idempotency-Key"

    not_operator = client.post(
        "/api/v1/operator/bonuses", json=body, headers=investor_headers | {"Idempotency-Key": "k"}
    )
    assert not_operator.status_code == 403

    for amount, fragment in (("12.345", "two decimals"), ("-1", "positive"), (12.5, "string")):
        response = client.post(
            "/api/v1/operator/bonuses",
            json=body | {"amount": amount},
            headers=operator_headers | {"Idempotency-Key": f"k{amount}"},
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == "amount"
        assert fragment in response.json()["error"]["message"]
