"""Incentives through HTTP on both databases: an operator's campaign, template and issue; an
investor's coupons and an investment with `coupon_id` (on PostgreSQL it leaves the one-statement
path for the step-by-step one), replayed by its key; refusals name the rule; trial principal
and the referrer; the campaign's spent and exposure."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from investing_support import AGGRESSIVE, assert_books_balanced, deposit
from test_support import listing_body, register, walk_to


def funded_investor(client: TestClient, platform: Platform) -> tuple[int, dict[str, str]]:
    investor_id, headers = register(client, "investor")
    deposit(platform, investor_id, 10_000)
    client.post("/api/v1/me/risk-assessment", json={"answers": AGGRESSIVE}, headers=headers)
    return investor_id, headers


def test_a_campaign_its_coupons_and_an_investment_with_one(
        client: TestClient, platform: Platform, operator_headers: dict[str, str]) -> None:
    op = operator_headers
    borrower_id, borrower = register(client, "borrower")
    client.put(f"/api/v1/operator/borrowers/{borrower_id}/credit-limit",
               json={"limit": "100000", "reason": "verified"}, headers=op)
    listing = client.post("/api/v1/listings", json=listing_body(amount="10000"),
                          headers=borrower).json()
    walk_to(client, listing["id"], borrower, op)
    alice_id, alice = funded_investor(client, platform)
    today = platform.clock.today()

    made = client.post("/api/v1/operator/incentives/campaigns", headers=op, json={
        "name": "双十二", "rule_text": "单笔出借满1000元可用20元红包，12个月标，30天有效。",
        "budget": "1000", "starts_on": str(today), "ends_on": "2099-12-31"})
    assert made.status_code == 201, made.text
    campaign = made.json()
    bad = client.post(f"/api/v1/operator/incentives/campaigns/{campaign['id']}/templates",
                      headers=op, json={"kind": "boost", "name": "加息", "rate": "2",
                                        "days": 30})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "max_invest"
    template = client.post(f"/api/v1/operator/incentives/campaigns/{campaign['id']}/templates",
                           headers=op, json={"kind": "cash", "name": "20元红包",
                                             "amount": "20", "min_investment": "1000",
                                             "terms": ["12m"], "expected_use": "0.5"})
    assert template.status_code == 201 and template.json()["face_value"] == "20.00"
    issued = client.post(f"/api/v1/operator/incentives/templates/{template.json()['id']}/issue",
                         headers=op, json={"user_ids": [alice_id]})
    assert issued.status_code == 201, issued.text
    [coupon_id] = issued.json()["coupon_ids"]
    assert client.post(f"/api/v1/operator/incentives/templates/{template.json()['id']}/issue",
                       headers=alice, json={"user_ids": [alice_id]}).status_code == 403

    mine = client.get("/api/v1/me/coupons", headers=alice).json()
    assert [(c["id"], c["status"], c["amount"]) for c in mine["items"]] == [
        (coupon_id, "issued", "20.00")]
    url = f"/api/v1/listings/{listing['id']}/investments"
    low = client.post(url, headers=alice | {"Idempotency-Key": "low"},
                      json={"amount": "500", "coupon_id": coupon_id})
    assert low.status_code == 422 and low.json()["error"]["code"] == "coupon_min_investment"
    first = client.post(url, headers=alice | {"Idempotency-Key": "k1"},
                        json={"amount": "1000", "coupon_id": coupon_id})
    assert first.status_code == 201, first.text
    replay = client.post(url, headers=alice | {"Idempotency-Key": "k1"},
                         json={"amount": "1000", "coupon_id": coupon_id})
    assert replay.status_code == 201 and replay.json() == first.json()
    again = client.post(url, headers=alice | {"Idempotency-Key": "k2"},
                        json={"amount": "1000", "coupon_id": coupon_id})
    assert again.status_code == 409 and again.json()["error"]["code"] == "coupon_not_available"
    plain = client.post(url, headers=alice | {"Idempotency-Key": "k3"}, json={"amount": "100"})
    assert plain.status_code == 201, plain.text  # without a coupon: the usual path
    assert client.get("/api/v1/me/coupons", headers=alice).json()["items"][0]["status"] == "used"
    [view] = client.get("/api/v1/operator/incentives/campaigns", headers=op).json()["items"]
    assert (view["spent"], view["coupons_used"], view["exposure"]) == ("20.00", 1, "0.00")
    public = client.get("/api/v1/incentive-campaigns").json()["items"]
    assert public[0]["rule_text"].startswith("单笔出借满1000元")

    trial = client.post(f"/api/v1/operator/incentives/campaigns/{campaign['id']}/templates",
                        headers=op, json={"kind": "trial", "name": "体验金", "amount": "10000",
                                          "rate": "8", "days": 3})
    assert trial.status_code == 201, trial.text
    started = client.post("/api/v1/me/trials", headers=alice,
                          json={"template_id": trial.json()["id"], "device_id": "phone-1"})
    assert started.status_code == 201 and started.json()["interest"] == "6.58"
    _, bob = funded_investor(client, platform)
    same_device = client.post("/api/v1/me/trials", headers=bob,
                              json={"template_id": trial.json()["id"], "device_id": "phone-1"})
    assert same_device.status_code == 409
    assert same_device.json()["error"]["code"] == "trial_once_per_device"
    alice_name = client.get("/api/v1/me", headers=alice).json()["username"]
    named = client.post("/api/v1/me/referrer", headers=bob, json={"referrer": alice_name})
    assert named.status_code == 201, named.text
    assert client.post("/api/v1/me/referrer", headers=bob,
                       json={"referrer": alice_name}).status_code == 409
    assert_books_balanced(platform)
