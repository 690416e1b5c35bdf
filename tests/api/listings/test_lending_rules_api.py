"""Lending by the rules, through HTTP on both databases: the borrowing caps where listings are
made and on credit limits, and a fresh risk decision (or a recorded override) before approval,
with the rate band checked from creation on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction
from factories import identity
from risk_support import application_body
from test_support import listing_body, login, register, walk_to

CAR = {"asset_class": "car", "appraisal_value": "400000", "appraised_on": "2026-11-20",
       "appraiser": "车易估"}


def staff(client: TestClient, platform: Platform, *roles: str) -> tuple[str, dict[str, str]]:
    data = identity()
    cmd = users.Register(**data, roles=roles)
    in_transaction(platform.uow, lambda uow: users.create_staff(uow, cmd, platform.cipher))
    return data["username"], login(client, data["username"])


def borrower_with_application(client: TestClient) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A registered borrower (username, headers) and a sound risk application for them."""
    data = identity()
    assert client.post("/api/v1/users", json=data | {"roles": ["borrower"]}).status_code == 201
    body = application_body(data)
    return data["username"], login(client, data["username"]), body


def test_a_natural_person_cannot_borrow_past_200000(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    borrower_id, borrower = register(client, "borrower")
    limit = f"/api/v1/operator/borrowers/{borrower_id}/credit-limit"
    over = client.put(limit, json={"limit": "200000.01", "reason": "income verified"},
                      headers=operator_headers)
    assert over.status_code == 409, over.text
    error = over.json()["error"]
    assert error["code"] == "compliance_violation" and error["field"] == "limit"
    assert error["rule_id"] == "cn2016.borrowing_caps" and "200000.00" in error["message"]
    assert client.put(limit, json={"limit": "200000", "reason": "income verified"},
                      headers=operator_headers).status_code == 200

    credit = client.post("/api/v1/listings", json=listing_body(amount="150000"),
                         headers=borrower).json()
    walk_to(client, credit["id"], borrower, operator_headers)  # published: 150,000 counts
    car = client.post("/api/v1/listings", json=listing_body(
        "collateral", amount="50000.01", assets=[CAR]), headers=borrower)
    assert car.status_code == 409, car.text
    error = car.json()["error"]
    assert error["rule_id"] == "cn2016.borrowing_caps" and error["field"] == "amount"
    assert ("a natural person may owe at most 200000.00 on this platform: outstanding"
            " 150000.00, headroom 50000.00, this listing 50000.01") in error["message"]
    fits = client.post("/api/v1/listings", json=listing_body(
        "collateral", amount="50000", assets=[CAR]), headers=borrower)
    assert fits.status_code == 201, fits.text


def test_approval_needs_a_risk_decision_or_a_recorded_override(
    client: TestClient, platform: Platform, operator_headers: dict[str, str]
) -> None:
    borrower_id, borrower = register(client, "borrower")
    client.put(f"/api/v1/operator/borrowers/{borrower_id}/credit-limit",
               json={"limit": "50000", "reason": "income verified"}, headers=operator_headers)
    listing = client.post("/api/v1/listings", json=listing_body(), headers=borrower).json()
    assert client.post(f"/api/v1/listings/{listing['id']}/submit",
                       headers=borrower).status_code == 200
    approve = f"/api/v1/listings/{listing['id']}/approve"
    _, plain = staff(client, platform, "operator")

    refused = client.post(approve, json={"reason": "documents complete"}, headers=plain)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "risk_decision_required"
    no_permission = client.post(approve, json={"override_reason": "known customer"},
                                headers=plain)
    assert no_permission.status_code == 403
    assert "risk_override" in no_permission.json()["error"]["message"]
    senior = identity()  # an operator creates a colleague who may override
    created = client.post("/api/v1/operator/staff", json=senior | {
        "roles": ["operator", "risk_override"]}, headers=plain)
    assert created.status_code == 201, created.text
    assert sorted(created.json()["roles"]) == ["operator", "risk_override"]
    overrider = login(client, senior["username"])
    no_reason = client.post(approve, json={"override_reason": "  "}, headers=overrider)
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["field"] == "override_reason"

    overridden = client.post(approve, json={
        "reason": "documents complete",
        "override_reason": "bureau outage; payslips and bank statements checked in branch"},
        headers=overrider)
    assert overridden.status_code == 200, overridden.text
    detail = overridden.json()
    assert detail["status"] == "approved" and detail["grade"] is None
    approval = detail["history"][-1]
    assert approval["to"] == "approved"
    assert approval["reason"] == (
        "documents complete; risk override (risk control has not decided on the applicant:"
        " approval needs an approved risk application): bureau outage; payslips and bank"
        " statements checked in branch")


def test_a_stale_decision_is_refused_and_the_rate_band_holds_from_creation(
    client: TestClient, platform: Platform, clock: Any
) -> None:
    name, borrower, application = borrower_with_application(client)
    decision = client.post("/api/v1/risk/applications", json=application, headers=borrower)
    assert decision.status_code == 201 and decision.json()["outcome"] == "approved"
    band = decision.json()["rate_band"]
    above = str(Decimal(band["max"]) + Decimal("0.5"))
    outside = client.post("/api/v1/listings", json=listing_body(annual_rate=above),
                          headers=borrower)
    assert outside.status_code == 422, outside.text
    assert outside.json()["error"]["field"] == "annual_rate"
    assert "rate band" in outside.json()["error"]["message"]
    inside = client.post("/api/v1/listings", json=listing_body(annual_rate=band["min"]),
                         headers=borrower).json()
    assert client.post(f"/api/v1/listings/{inside['id']}/submit",
                       headers=borrower).status_code == 200

    clock.advance(days=91)  # BIAODI_RISK_DECISION_MAX_AGE_DAYS is 90
    _, operator = staff(client, platform, "operator")
    approve = f"/api/v1/listings/{inside['id']}/approve"
    stale = client.post(approve, json={}, headers=operator)
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "risk_decision_stale" and "older than 90 days" in error["message"]

    borrower = login(client, name)  # a new application: approval rests on it
    renewed = client.post("/api/v1/risk/applications", json=application, headers=borrower)
    assert renewed.status_code == 201 and renewed.json()["outcome"] == "approved"
    approved = client.post(approve, json={}, headers=operator)
    assert approved.status_code == 200, approved.text
    assert approved.json()["grade"] == renewed.json()["grade"]
