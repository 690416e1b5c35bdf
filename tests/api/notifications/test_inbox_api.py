"""The inbox API on SQLite and PostgreSQL: a deposit's message listed in the user's language,
marked read by its owner only, and the channel choices and address with their refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.notifications.capture import capture
from biaodi.services.payments import orders as payments
from biaodi.services.shared.tx import in_transaction
from payment_support import gateway_event
from test_support import register


def deposit_order(platform: Platform, user_id: int, yuan: str, status: str) -> None:
    view = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, payments.StartPayment(user_id, Money.parse(yuan), "mobile")))
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(view.order_no, yuan, status=status), source="callback"))


def test_inbox_read_and_settings(client: TestClient, platform: Platform) -> None:
    me, mine = register(client, "investor")
    _, other = register(client, "investor")
    answer = client.put("/api/v1/me/notification-settings", headers=mine, json={
        "email": "me@example.test", "language": "en",
        "channels": [{"kind": "deposit.failed", "channel": "sms", "enabled": False}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["kinds"]["deposit.failed"] == ["email"]
    assert answer.json()["kinds"]["deposit.succeeded"] == ["email", "sms"]
    deposit_order(platform, me, "12.34", "succeeded")
    deposit_order(platform, me, "5.00", "failed")
    assert in_transaction(platform.uow, capture) == 2

    page = client.get("/api/v1/me/notifications", headers=mine).json()
    assert page["total"] == 2 and page["unread"] == 2
    failed, done = page["items"]  # newest first
    assert done["title"] == "Deposit received" and "12.34 yuan" in done["body"]
    assert done["channels"] == {"email": "pending", "sms": "pending"}
    assert failed["channels"] == {"email": "pending"}
    assert client.get("/api/v1/me/notifications", headers=other).json()["total"] == 0

    refused = client.post(f"/api/v1/me/notifications/{done['id']}/read", headers=other)
    assert refused.status_code == 404 and refused.json()["error"]["field"] == "message_id"
    marked = client.post(f"/api/v1/me/notifications/{done['id']}/read", headers=mine)
    assert marked.json() == {"marked": 1}
    assert client.post(f"/api/v1/me/notifications/{done['id']}/read",
                       headers=mine).json() == {"marked": 0}
    unread = client.get("/api/v1/me/notifications?unread=true", headers=mine).json()
    assert [m["id"] for m in unread["items"]] == [failed["id"]] and unread["unread"] == 1
    assert client.post("/api/v1/me/notifications/read-all", headers=mine).json() == {
        "marked": 1}

    bad = client.put("/api/v1/me/notification-settings", headers=mine,
                     json={"email": "not-an-address"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "email"
    unknown = client.put("/api/v1/me/notification-settings", headers=mine, json={
        "channels": [{"kind": "security.code", "channel": "sms", "enabled": False}]})
    assert unknown.status_code == 422
    cleared = client.put("/api/v1/me/notification-settings", headers=mine, json={"email": ""})
    assert cleared.json()["email"] is None
    assert cleared.json()["kinds"]["deposit.succeeded"] == ["sms"]  # no address: no e-mail
