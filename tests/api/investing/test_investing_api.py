"""Investing through HTTP: the contract other tooling relies on."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction
from factories import identity
from investing_support import AGGRESSIVE, deposit
from test_support import listing_body, login, register, walk_to


def fresh_operator(client: TestClient, platform: Platform) -> dict[str, str]:
    data = identity()
    cmd = users.Register(**data, roles=("operator",))
    in_transaction(platform.uow, lambda uow: users.create_staff(uow, cmd, platform.cipher))
    return login(client, data["username"])


def funded_investor(client: TestClient, platform: Platform, yuan: int = 10_000):  # type: ignore[no-untyped-def]
    investor_id, headers = register(client, "investor")
    deposit(platform, investor_id, yuan)
    response = client.post("/api/v1/me/risk-assessment", json={"answers": AGGRESSIVE},
                           headers=headers)
    assert response.status_code == 201 and response.json()["level"] == "aggressive"
    return investor_id, headers


def open_listing(client: TestClient, operator: dict[str, str], amount: str = "1000") -> int:
    borrower_id, borrower = register(client, "borrower")
    client.put(f"/api/v1/operator/borrowers/{borrower_id}/credit-limit",
               json={"limit": "100000", "reason": "verified"}, headers=operator)
    listing = client.post("/api/v1/listings", json=listing_body(amount=amount),
                          headers=borrower).json()
    walk_to(client, listing["id"], borrower, operator)
    return listing["id"]


def test_invest_replay_full_and_holdings(
    client: TestClient, platform: Platform, operator_headers: dict[str, str]
) -> None:
    listing_id = open_listing(client, operator_headers)
    url = f"/api/v1/listings/{listing_id}/investments"
    _, alice = funded_investor(client, platform)
    _, bob = funded_investor(client, platform)

    no_key = client.post(url, json={"amount": "500.00"}, headers=alice)
    assert no_key.status_code == 422 and no_key.json()["error"]["field"] == "Idempotency-Key"
    first = client.post(url, json={"amount": "500.00"}, headers=alice | {"Idempotency-Key": "a1"})
    assert first.status_code == 201, first.text
    assert first.json()["listing_remaining"] == "500.00"
    replay = client.post(url, json={"amount": "500.00"}, headers=alice | {"Idempotency-Key": "a1"})
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"

    # more than is left: the same 409 listing_full as losing the race for the last ticket
    over = client.post(url, json={"amount": "600.00"}, headers=bob | {"Idempotency-Key": "b0"})
    assert over.status_code == 409, over.text
    assert over.json()["error"]["code"] == "listing_full"
    assert over.json()["error"]["field"] == "amount"
    last = client.post(url, json={"amount": "500.00"}, headers=bob | {"Idempotency-Key": "b1"})
    assert last.status_code == 201 and last.json()["listing_status"] == "repaying"
    _, carol = funded_investor(client, platform)
    full = client.post(url, json={"amount": "100.00"}, headers=carol | {"Idempotency-Key": "c"})
    assert full.status_code == 409 and full.json()["error"]["code"] == "listing_full"
    again = client.post(url, json={"amount": "100.00"}, headers=carol | {"Idempotency-Key": "c"})
    assert again.status_code == 409 and again.json() == full.json()  # refusals replay too

    holdings = client.get("/api/v1/me/holdings", headers=alice).json()["items"]
    assert len(holdings) == 1 and holdings[0]["principal"] == "500.00"
    assert len(holdings[0]["instalments"]) == 12
    wallet = client.get("/api/v1/me/wallet", headers=alice).json()["wallets"]["investor"]
    assert wallet == {"available": "9500.00", "frozen": "0.00"}


def test_refusals_through_http(
    client: TestClient, platform: Platform, operator_headers: dict[str, str]
) -> None:
    listing_id = open_listing(client, operator_headers)
    url = f"/api/v1/listings/{listing_id}/investments"
    _, poor = funded_investor(client, platform, yuan=50)
    broke = client.post(url, json={"amount": "100"}, headers=poor | {"Idempotency-Key": "p"})
    assert broke.status_code == 409
    assert broke.json()["error"]["code"] == "insufficient_balance"

    _, unassessed = register(client, "investor")
    refused = client.post(url, json={"amount": "100"},
                          headers=unassessed | {"Idempotency-Key": "u"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "assessment_required"
    assert "risk-assessment" in refused.json()["error"]["message"]

    _, rich = funded_investor(client, platform)
    for amount in ("12.345", "abc", "50"):
        bad = client.post(url, json={"amount": amount},
                          headers=rich | {"Idempotency-Key": f"bad-{amount}"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "amount"

    closed = client.post("/api/v1/listings/999/investments", json={"amount": "100"},
                         headers=rich | {"Idempotency-Key": "x"})
    assert closed.status_code == 404


def test_auto_invest_rules_and_log_over_http(
    client: TestClient, platform: Platform, operator_headers: dict[str, str]
) -> None:
    _, saver = funded_investor(client, platform)
    rule = client.post("/api/v1/me/auto-invest/rules", json={
        "amount_per_listing": "300", "kinds": ["credit"], "min_rate": "8",
        "max_term_months": 24}, headers=saver)
    assert rule.status_code == 201, rule.text
    assert rule.json()["min_rate"] == "8.00"
    assert rule.json()["draw_on_cash_wallet"] is False  # drawing on the cash wallet is opt-in
    drawing = client.post("/api/v1/me/auto-invest/rules", json={
        "amount_per_listing": "300", "kinds": ["transfer"], "draw_on_cash_wallet": True},
        headers=saver)
    assert drawing.status_code == 201 and drawing.json()["draw_on_cash_wallet"] is True
    assert drawing.json()["rule_cap"] is None  # no cap on the rule unless asked
    held = client.put(f"/api/v1/me/auto-invest/rules/{drawing.json()['id']}", json={
        "amount_per_listing": "300", "kinds": ["transfer"], "rule_cap": "2500"}, headers=saver)
    assert held.status_code == 200 and held.json()["rule_cap"] == "2500.00", held.text
    for cap in ("0", "0.00", "-5"):
        zero = client.post("/api/v1/me/auto-invest/rules", json={
            "amount_per_listing": "300", "rule_cap": cap}, headers=saver)
        assert zero.status_code == 422 and zero.json()["error"]["field"] == "rule_cap", cap
    bad = client.post("/api/v1/me/auto-invest/rules", json={"amount_per_listing": "1.234"},
                      headers=saver)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "amount_per_listing"

    listing_id = open_listing(client, operator_headers)
    log = client.get("/api/v1/me/auto-invest/allocations", headers=saver).json()["items"]
    assert log[0]["listing_id"] == listing_id and log[0]["amount"] == "300.00"
    detail = client.get(f"/api/v1/listings/{listing_id}").json()
    assert detail["remaining"] == "700.00"

    assert client.delete(f"/api/v1/me/auto-invest/rules/{rule.json()['id']}",
                         headers=saver).status_code == 204
    open_listing(client, operator_headers)
    assert len(client.get("/api/v1/me/auto-invest/allocations",
                          headers=saver).json()["items"]) == 1


def test_close_expired_listings(
    client: TestClient, platform: Platform, operator_headers: dict[str, str], clock  # type: ignore[no-untyped-def]
) -> None:
    listing_id = open_listing(client, operator_headers)
    alice_id, alice = funded_investor(client, platform)
    client.post(f"/api/v1/listings/{listing_id}/investments", json={"amount": "300"},
                headers=alice | {"Idempotency-Key": "k"})
    clock.advance(days=7)
    operator = fresh_operator(client, platform)  # yesterday's tokens have expired
    response = client.post("/api/v1/operator/funding/close-expired", json={}, headers=operator)
    assert response.status_code == 200
    assert response.json()["closed"] == {str(listing_id): "failed"}
    with platform.uow() as uow:
        wallet = users.wallet_of(uow, alice_id)["investor"]
    assert {k: str(v) for k, v in wallet.items()} == {"available": "10000.00", "frozen": "0.00"}
