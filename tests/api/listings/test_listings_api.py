"""Listings through HTTP on both databases: each type's rules at creation and publishing,
review, filters and the public detail with its schedule preview."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi.testclient import TestClient

from biaodi.adapters.clock import CST, FixedClock
from biaodi.bootstrap import Platform
from test_support import listing_body, register, walk_to


def set_limit(client: TestClient, op: dict[str, str], user_id: int, limit: str) -> None:
    response = client.put(f"/api/v1/operator/borrowers/{user_id}/credit-limit",
                          json={"limit": limit, "reason": "income verified"}, headers=op)
    assert response.status_code == 200, response.text


def test_credit_listing_lifecycle_and_limit(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    borrower_id, borrower = register(client, "borrower")
    refused = client.post("/api/v1/listings", json=listing_body(), headers=borrower)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "credit_limit"

    set_limit(client, operator_headers, borrower_id, "50000")
    created = client.post("/api/v1/listings", json=listing_body(), headers=borrower)
    assert created.status_code == 201, created.text
    listing = created.json()
    assert listing["status"] == "draft" and listing["kind_name"]["zh"] == "信用标"
    assert listing["annual_rate"] == "10.00" and listing["remaining"] == "0.00"
    preview = listing["schedule_preview"]
    assert len(preview) == 12 and preview[-1]["balance"] == "0.00"
    assert sum(Decimal(r["principal"]) for r in preview) == Decimal("30000.00")
    assert {label["code"] for label in listing["risk_labels"]} >= {"unsecured"}

    published = walk_to(client, listing["id"], borrower, operator_headers)
    assert published["status"] == "published"
    assert published["remaining"] == "30000.00"
    assert published["funding_deadline"] == "2026-12-05"
    assert [h["to"] for h in published["history"]] == ["draft", "submitted", "approved",
                                                       "published"]

    over = client.post("/api/v1/listings", json=listing_body(amount="20000.01"),
                       headers=borrower)
    assert over.status_code == 422
    assert over.json()["error"]["field"] == "amount"
    assert "available credit 20000.00" in over.json()["error"]["message"]


def test_illegal_transitions_are_409_and_reasons_required(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    borrower_id, borrower = register(client, "borrower")
    set_limit(client, operator_headers, borrower_id, "50000")
    listing_id = client.post("/api/v1/listings", json=listing_body(),
                             headers=borrower).json()["id"]
    early = client.post(f"/api/v1/listings/{listing_id}/publish", json={},
                        headers=operator_headers)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "illegal_transition"
    assert "draft" in early.json()["error"]["message"]

    assert client.post(f"/api/v1/listings/{listing_id}/submit",
                       headers=borrower).status_code == 200
    no_reason = client.post(f"/api/v1/listings/{listing_id}/reject", json={"reason": " "},
                            headers=operator_headers)
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["field"] == "reason"
    rejected = client.post(f"/api/v1/listings/{listing_id}/reject",
                           json={"reason": "income not verifiable"}, headers=operator_headers)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    again = client.post(f"/api/v1/listings/{listing_id}/approve", json={},
                        headers=operator_headers)
    assert again.status_code == 409

    not_operator = client.post(f"/api/v1/listings/{listing_id}/approve", json={},
                               headers=borrower)
    assert not_operator.status_code == 403


def test_collateral_house_needs_ltv_and_offline_steps(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    _, borrower = register(client, "borrower")
    house = {"asset_class": "house", "appraisal_value": "250000.00",
             "appraised_on": "2026-11-01", "appraiser": "上海某房地产估价有限公司",
             "description": "two-bedroom flat, Pudong"}
    too_much = client.post("/api/v1/listings", json=listing_body(
        "collateral", amount="175000.01", assets=[house]), headers=borrower)
    assert too_much.status_code == 422
    assert too_much.json()["error"]["field"] == "amount"

    created = client.post("/api/v1/listings", json=listing_body(
        "collateral", amount="175000.00", assets=[house]), headers=borrower)
    assert created.status_code == 201, created.text
    listing = created.json()
    asset_id = listing["security"]["assets"][0]["id"]
    walk_to(client, listing["id"], borrower, operator_headers, publish=False)

    blocked = client.post(f"/api/v1/listings/{listing['id']}/publish", json={},
                          headers=operator_headers)
    assert blocked.status_code == 409
    error = blocked.json()["error"]
    assert error["code"] == "not_publishable"
    for missing in ("signed contract", "notarisation", "mortgage registration"):
        assert missing in error["message"]

    steps_url = f"/api/v1/listings/{listing['id']}/assets/{asset_id}/offline-steps"
    no_cert = client.post(steps_url, json={"step": "mortgage_registration",
                                           "done_on": "2026-11-20"}, headers=operator_headers)
    assert no_cert.status_code == 422 and no_cert.json()["error"]["field"] == "reference"
    for step, reference in (("signed_contract", "HT-2026-001"), ("notarisation", "GZ-88"),
                            ("mortgage_registration", "沪(2026)浦字不动产证明第0012345号")):
        response = client.post(steps_url, json={"step": step, "done_on": "2026-11-20",
                                                "reference": reference},
                               headers=operator_headers)
        assert response.status_code == 201, response.text
    duplicate = client.post(steps_url, json={"step": "notarisation", "done_on": "2026-11-20"},
                            headers=operator_headers)
    assert duplicate.status_code == 409

    published = client.post(f"/api/v1/listings/{listing['id']}/publish", json={},
                            headers=operator_headers)
    assert published.status_code == 200, published.text
    detail = published.json()
    assert detail["risk_level"] == 1 and detail["collateral_classes"] == ["house"]
    assert detail["default_action"] == "collateral_disposal"
    steps = detail["security"]["assets"][0]["house"]
    assert "0012345" not in str(steps)  # certificate numbers are masked in public views


def test_collateral_car_needs_registration(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    _, borrower = register(client, "borrower")
    car = {"asset_class": "car", "appraisal_value": "200000", "appraised_on": "2026-11-20",
           "appraiser": "车易估"}
    listing = client.post("/api/v1/listings", json=listing_body(
        "collateral", amount="100000", assets=[car]), headers=borrower).json()
    walk_to(client, listing["id"], borrower, operator_headers, publish=False)
    blocked = client.post(f"/api/v1/listings/{listing['id']}/publish", json={},
                          headers=operator_headers)
    assert blocked.status_code == 409 and "vehicle registration" in blocked.json()["error"][
        "message"]
    asset_id = listing["security"]["assets"][0]["id"]
    recorded = client.put(
        f"/api/v1/listings/{listing['id']}/assets/{asset_id}/vehicle-registration",
        json={"plate_number": "沪A12345", "registration_certificate_no": "310001234567"},
        headers=operator_headers)
    assert recorded.status_code == 200, recorded.text
    published = client.post(f"/api/v1/listings/{listing['id']}/publish", json={},
                            headers=operator_headers)
    assert published.status_code == 200
    assert "沪A12345" not in str(published.json()["security"])


def test_guarantee_capacity_is_checked_at_publishing(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    guarantor_id, _ = register(client, "guarantor")
    terms = client.put(f"/api/v1/operator/guarantors/{guarantor_id}", json={
        "name": "中诚担保", "capacity": "100000", "fee_rate": "1", "compensation_days": 3},
        headers=operator_headers)
    assert terms.status_code == 200, terms.text
    _, borrower = register(client, "borrower")
    missing = client.post("/api/v1/listings", json=listing_body("guarantee"), headers=borrower)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "guarantor_id"

    first = client.post("/api/v1/listings", json=listing_body(
        "guarantee", amount="80000", guarantor_id=guarantor_id), headers=borrower).json()
    walk_to(client, first["id"], borrower, operator_headers)
    second = client.post("/api/v1/listings", json=listing_body(
        "guarantee", amount="30000", guarantor_id=guarantor_id), headers=borrower).json()
    walk_to(client, second["id"], borrower, operator_headers, publish=False)
    blocked = client.post(f"/api/v1/listings/{second['id']}/publish", json={},
                          headers=operator_headers)
    assert blocked.status_code == 409
    assert "guarantor capacity 100000.00 of 中诚担保 is exceeded" in blocked.json()["error"][
        "message"]
    assert second["default_action"] == "guarantor_compensation"


def test_transfer_needs_a_buyback_reserve(
    client: TestClient, platform: Platform, operator_headers: dict[str, str]
) -> None:
    from biaodi.domain.ledger.rules import EntryDraft
    from biaodi.services.ledger import posting as ledger
    from biaodi.services.shared.tx import in_transaction

    originator_id, originator = register(client, "originator")
    body = listing_body("transfer", amount="50000", repayment_method="bullet", term=6,
                        claim={"principal": "80000", "annual_rate": "12",
                               "maturity": "2027-05-30"})  # no term splitting
    _, borrower = register(client, "borrower")
    assert client.post("/api/v1/listings", json=body, headers=borrower).status_code == 403
    created = client.post("/api/v1/listings", json=body, headers=originator)
    assert created.status_code == 201, created.text
    listing = created.json()
    assert listing["funding"]["interest_start"] == "on_subscription"
    walk_to(client, listing["id"], originator, operator_headers, publish=False)
    blocked = client.post(f"/api/v1/listings/{listing['id']}/publish", json={},
                          headers=operator_headers)
    assert blocked.status_code == 409
    assert "buy-back reserve 0.00 is short by 5000.00" in blocked.json()["error"]["message"]

    deposit = EntryDraft("deposit").transfer("custody:cash",
                                             f"originator:{originator_id}:available", 600_000)
    in_transaction(platform.uow, lambda uow: ledger.post(uow, deposit))
    funded = client.post("/api/v1/me/buyback-reserve", json={"amount": "5000.00"},
                         headers=originator | {"Idempotency-Key": "reserve-1"})
    assert funded.status_code == 201, funded.text
    client.post("/api/v1/me/buyback-reserve", json={"amount": "5000.00"},
                headers=originator | {"Idempotency-Key": "reserve-1"})
    wallet = client.get("/api/v1/me/wallet", headers=originator).json()["wallets"]
    assert wallet["originator"] == {"available": "1000.00", "buyback_reserve": "5000.00",
                                    "frozen": "0.00"}
    published = client.post(f"/api/v1/listings/{listing['id']}/publish", json={},
                            headers=operator_headers)
    assert published.status_code == 200, published.text
    assert published.json()["security"]["reserve_balance"] == "5000.00"


def test_instant_listing_banned_under_cn_2016(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    _, borrower = register(client, "borrower")
    response = client.post("/api/v1/listings", json=listing_body(
        "instant", amount="10000", term=1, term_unit="day", repayment_method="bullet"),
        headers=borrower)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "compliance_violation"
    assert "cn-2016" in error["message"]


def test_bad_input_names_the_field(client: TestClient, operator_headers: dict[str, str]) -> None:
    borrower_id, borrower = register(client, "borrower")
    set_limit(client, operator_headers, borrower_id, "50000")
    cases = [
        ({"amount": "100.001"}, "amount"),
        ({"amount": 100.5}, "amount"),
        ({"annual_rate": "abc"}, "annual_rate"),
        ({"annual_rate": "0"}, "annual_rate"),
        ({"term": 0}, "term"),
        ({"term_unit": "year"}, "term_unit"),
        ({"repayment_method": "balloon"}, "repayment_method"),
        ({"kind": "crowdfunding"}, "kind"),
        ({"title": "x"}, "title"),
        ({"guarantor_id": 1}, "guarantor_id"),
    ]
    for change, field in cases:
        response = client.post("/api/v1/listings", json=listing_body(**change),
                               headers=borrower)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field, (change, response.json())


def test_browse_filters_sorts_and_pages(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    borrower_id, borrower = register(client, "borrower")
    set_limit(client, operator_headers, borrower_id, "200000")
    ids = {}
    for rate, term, amount in (("8", 6, "10000"), ("9", 12, "20000"), ("10.5", 24, "30000")):
        created = client.post("/api/v1/listings", json=listing_body(
            annual_rate=rate, term=term, amount=amount), headers=borrower).json()
        walk_to(client, created["id"], borrower, operator_headers)
        ids[rate] = created["id"]
    draft = client.post("/api/v1/listings", json=listing_body(), headers=borrower).json()
    house = {"asset_class": "house", "appraisal_value": "900000", "appraised_on": "2026-11-01",
             "appraiser": "估价所"}
    client.post("/api/v1/listings", json=listing_body("collateral", assets=[house]),
                headers=borrower)

    def search(**params: object) -> dict:
        response = client.get("/api/v1/listings", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    everything = search()
    assert everything["total"] == 3  # drafts are not public
    assert draft["id"] not in [item["id"] for item in everything["items"]]
    assert [i["id"] for i in search(sort="-rate")["items"]] == [ids["10.5"], ids["9"], ids["8"]]
    assert [i["id"] for i in search(min_rate="8.5", max_rate="9.5")["items"]] == [ids["9"]]
    assert [i["id"] for i in search(max_term=12, sort="term")["items"]] == [ids["8"], ids["9"]]
    assert [i["id"] for i in search(min_remaining="25000")["items"]] == [ids["10.5"]]
    assert search(kind="collateral")["total"] == 0
    assert search(collateral_class="house")["total"] == 0
    page = search(sort="rate", page=2, page_size=2)
    assert page["total"] == 3 and [i["id"] for i in page["items"]] == [ids["10.5"]]

    for params, field in (({"sort": "colour"}, "sort"), ({"min_rate": "x"}, "min_rate"),
                          ({"page_size": 1000}, "page_size"), ({"kind": "nope"}, "kind"),
                          ({"min_remaining": "1.234"}, "min_remaining")):
        response = client.get("/api/v1/listings", params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["field"] == field

    assert client.get(f"/api/v1/listings/{draft['id']}").status_code == 404
    own = client.get(f"/api/v1/listings/{draft['id']}", headers=borrower)
    assert own.status_code == 200 and own.json()["status"] == "draft"
    mine = client.get("/api/v1/me/listings", headers=borrower).json()
    assert mine["total"] == 5
    queue = client.get("/api/v1/operator/listings", headers=operator_headers).json()
    assert queue["total"] == 0


def test_the_cost_cap_refuses_a_listing_when_it_is_created(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    """cn-2016: interest and the yearly fees, as the IRR of the borrower's cash flows, may not
    exceed 4× the one-year LPR in force that day (3.00 % from 2025-05-20: 12 %). The service
    fee is a yearly rate by term band (none up to 180 days, 0.5 % to a year, 1 % beyond)."""
    lpr = client.put("/api/v1/operator/lpr/2025-05-20", json={"one_year": "3.00"},
                     headers=operator_headers)
    assert lpr.status_code == 200, lpr.text
    borrower_id, borrower = register(client, "borrower")
    set_limit(client, operator_headers, borrower_id, "100000")
    short = client.post("/api/v1/listings", json=listing_body(annual_rate="12", term=3),
                        headers=borrower)  # a short loan carries no fee: 12 %, the cap
    assert short.status_code == 201, short.text
    assert short.json()["all_in_cost"] == "12.00"
    over = client.post("/api/v1/listings", json=listing_body(annual_rate="11.6", term=12),
                       headers=borrower)  # 11.6 % + 0.5 % a year = 12.1 %
    assert over.status_code == 409, over.text
    error = over.json()["error"]
    assert error["rule_id"] == "cn2020.cost_cap_4x_lpr" and error["field"] == "annual_rate"
    assert "12.1" in error["message"] and "12%" in error["message"]
    assert "2026-11-28" in error["message"]  # the contract date whose cap applied
    year = client.post("/api/v1/listings", json=listing_body(annual_rate="11", term=24),
                       headers=borrower)  # 11 % + 1 % a year: exactly the cap
    assert year.status_code == 201, year.text
    assert year.json()["all_in_cost"] == "12.00"
    dear = client.post("/api/v1/listings", json=listing_body(annual_rate="12.5", term=24),
                       headers=borrower)  # the rate alone is above the cap
    assert dear.status_code == 409 and dear.json()["error"]["rule_id"] == \
        "cn2020.cost_cap_4x_lpr"
    lower = client.put("/api/v1/operator/lpr/2026-11-20", json={"one_year": "2.50"},
                       headers=operator_headers)  # a new fixing: the cap follows it (10 %)
    assert lower.status_code == 200
    again = client.post("/api/v1/listings", json=listing_body(annual_rate="11", term=24),
                        headers=borrower)
    assert again.status_code == 409 and "10%" in again.json()["error"]["message"]


def test_before_2020_08_20_the_24_percent_line_of_2015_caps_the_cost(
    client: TestClient, clock: FixedClock, operator_headers: dict[str, str]
) -> None:
    """A contract made in 2019 falls under 法释〔2015〕18号 art. 26: up to 24 % a year, whatever
    the LPR; the refusal names that rule and the date."""
    clock.set(datetime(2019, 6, 3, 10, 0, tzinfo=CST))
    borrower_id, borrower = register(client, "borrower")
    set_limit(client, operator_headers, borrower_id, "100000")
    dear = client.post("/api/v1/listings", json=listing_body(annual_rate="30"),
                       headers=borrower)  # the rate alone is above the line
    assert dear.status_code == 409, dear.text
    error = dear.json()["error"]
    assert error["rule_id"] == "cn2015.rate_cap_24_36" and error["field"] == "annual_rate"
    assert "30% exceeds 24%" in error["message"] and "2019-06-03" in error["message"]
    assert "above 36% void" in error["message"] and "法释〔2015〕18号" in error["message"]
    with_fee = client.post("/api/v1/listings", json=listing_body(annual_rate="22.5", term=24),
                           headers=borrower)  # 22.5 % + a 1 % yearly fee = 23.5 %
    assert with_fee.status_code == 201, with_fee.text
    over = client.post("/api/v1/listings", json=listing_body(annual_rate="23.5", term=24),
                       headers=borrower)  # 24.5 % with the fee
    assert over.status_code == 409 and over.json()["error"]["rule_id"] == \
        "cn2015.rate_cap_24_36"
    assert "24.5" in over.json()["error"]["message"]
    assert "exceeds 24%" in over.json()["error"]["message"]
    fair = client.post("/api/v1/listings", json=listing_body(annual_rate="20"),
                       headers=borrower)  # 20 % + 0.5 %: above 4 × any LPR, within 24 %
    assert fair.status_code == 201, fair.text
    published = walk_to(client, fair.json()["id"], borrower, operator_headers)
    assert published["status"] == "published"  # submission, approval, publication: same cap
