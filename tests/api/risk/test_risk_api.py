"""The risk API: a borrower's application gets grade, limit, rate band and reasons; risk
officers review referrals, keep the blacklist and watch the PSI."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from biaodi.adapters.bureau import Verification
from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction
from factories import identity
from risk_support import application_body
from test_support import login, register


@pytest.fixture
def officer_headers(client: TestClient, platform: Platform) -> dict[str, str]:
    data = identity()
    cmd = users.Register(**data, roles=("risk_officer",))
    in_transaction(platform.uow, lambda uow: users.create_staff(uow, cmd, platform.cipher))
    return login(client, data["username"])


def borrower(client: TestClient) -> tuple[int, dict[str, str], dict[str, Any]]:
    """A registered borrower, their headers and a sound application body for them."""
    data = identity()
    response = client.post("/api/v1/users", json=data | {"roles": ["borrower"]})
    assert response.status_code == 201, response.text
    body = application_body(data)
    return response.json()["id"], login(client, data["username"]), body


def test_an_application_returns_grade_limit_rate_band_and_reasons(client: TestClient) -> None:
    _, headers, body = borrower(client)
    response = client.post("/api/v1/risk/applications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["outcome"] == "approved" and decision["grade"] in ("A", "B")
    assert set(decision["rate_band"]) == {"min", "max"}
    assert decision["credit_limit"] == "120000.00" or decision["grade"] == "B"
    assert decision["limit_applied"] and decision["fired_rules"] == []
    assert decision["reasons"][0]["text_zh"] and decision["reasons"][0]["text_en"]
    assert decision["rule_pack"].startswith("cn-2016@")
    got = client.get(f"/api/v1/risk/applications/{decision['application_id']}",
                     headers=headers)
    assert got.status_code == 200 and got.json() == decision
    mine = client.get("/api/v1/risk/applications", headers=headers).json()["items"]
    assert [d["application_id"] for d in mine] == [decision["application_id"]]


def test_a_refusal_explains_itself(client: TestClient) -> None:
    _, headers, body = borrower(client)
    body |= {"declared_age": body["declared_age"] + 1, "monthly_debt_payments": "15000"}
    decision = client.post("/api/v1/risk/applications", json=body, headers=headers).json()
    assert decision["outcome"] == "refused" and not decision["limit_applied"]
    messages = {r["rule_id"]: r["message_en"] for r in decision["fired_rules"]}
    assert messages["identity.age_mismatch"].startswith(f"declared age {body['declared_age']}")
    assert "above the 55% limit" in messages["capacity.debt_to_income"]


def test_bad_input_names_the_field(client: TestClient) -> None:
    _, headers, body = borrower(client)
    for change, field in (({"amount": 30000.5}, "amount"), ({"housing": "boat"}, "housing"),
                          ({"monthly_income": "-5"}, "monthly_income")):
        response = client.post("/api/v1/risk/applications", json=body | change,
                               headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    missing = {k: v for k, v in body.items() if k != "bank_card"}
    response = client.post("/api/v1/risk/applications", json=missing, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["field"] == "bank_card"


def test_who_may_do_what(client: TestClient, officer_headers: dict[str, str]) -> None:
    _, headers, body = borrower(client)
    decision = client.post("/api/v1/risk/applications", json=body, headers=headers).json()
    assert client.post("/api/v1/risk/applications", json=body).status_code == 401
    _, investor = register(client, "investor")
    assert client.post("/api/v1/risk/applications", json=body,
                       headers=investor).status_code == 403
    # someone else's application does not exist for them; staff see it
    path = f"/api/v1/risk/applications/{decision['application_id']}"
    assert client.get(path, headers=investor).status_code == 404
    assert client.get(path, headers=officer_headers).status_code == 200
    for method, url in (("get", "/api/v1/risk/blacklist"),
                        ("get", "/api/v1/risk/monitoring/psi"),
                        ("get", "/api/v1/risk/model")):
        assert getattr(client, method)(url, headers=headers).status_code == 403
    assert client.get("/api/v1/risk/rules", headers=headers).status_code == 200


def test_a_risk_officer_reviews_the_referral_queue(client: TestClient,
                                                   officer_headers: dict[str, str],
                                                   operator_headers: dict[str, str]) -> None:
    _, headers, body = borrower(client)
    decision = client.post("/api/v1/risk/applications", json=body | {"province": "广东"},
                           headers=headers).json()
    assert decision["outcome"] == "referred" and not decision["limit_applied"]
    queue = client.get("/api/v1/risk/applications", params={"outcome": "referred"},
                       headers=officer_headers).json()["items"]
    assert [d["application_id"] for d in queue] == [decision["application_id"]]
    path = f"/api/v1/risk/applications/{decision['application_id']}/review"
    assert client.post(path, json={"approve": True, "reason": "ok then"},
                       headers=operator_headers).status_code == 403
    reviewed = client.post(path, json={"approve": True, "reason": "works in Shenzhen"},
                           headers=officer_headers)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["outcome"] == "approved" and reviewed.json()["limit_applied"]
    again = client.post(path, json={"approve": False, "reason": "second thoughts"},
                        headers=officer_headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_referred"


def test_blacklist_add_list_and_remove_with_a_reason(client: TestClient,
                                                     officer_headers: dict[str, str],
                                                     operator_headers: dict[str, str]) -> None:
    _, headers, body = borrower(client)
    added = client.post("/api/v1/risk/blacklist", json={
        "kind": "bank_card", "value": body["bank_card"], "note": "chargeback fraud ring",
        "expires_in_days": 0}, headers=operator_headers)
    assert added.status_code == 201, added.text
    entry = added.json()
    assert entry["active"] and entry["expires_at"] is None
    assert entry["value_masked"] != body["bank_card"] and entry["audit"][0]["action"] == "added"
    decision = client.post("/api/v1/risk/applications", json=body, headers=headers).json()
    assert decision["outcome"] == "refused"
    assert decision["fired_rules"][0]["message_en"] == "on the blacklist: bank_card"

    listed = client.get("/api/v1/risk/blacklist", params={"kind": "bank_card"},
                        headers=officer_headers).json()["items"]
    assert [e["id"] for e in listed] == [entry["id"]]
    remove = f"/api/v1/risk/blacklist/{entry['id']}/remove"
    no_reason = client.post(remove, json={"reason": ""}, headers=officer_headers)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    removed = client.post(remove, json={"reason": "card holder cleared by the bank"},
                          headers=officer_headers)
    assert removed.status_code == 200 and not removed.json()["active"]
    assert [a["action"] for a in removed.json()["audit"]] == ["added", "removed"]
    assert client.get("/api/v1/risk/blacklist", headers=officer_headers).json()["items"] == []
    shown = client.get(f"/api/v1/risk/blacklist/{entry['id']}", headers=officer_headers)
    assert shown.json()["removal_reason"] == "card holder cleared by the bank"
    assert client.post("/api/v1/risk/blacklist", json={
        "kind": "mobile", "value": "123", "note": "x"}, headers=officer_headers
    ).status_code == 422


def test_confirmed_fraud(client: TestClient, officer_headers: dict[str, str]) -> None:
    user_id, headers, body = borrower(client)
    client.post("/api/v1/risk/applications", json=body, headers=headers)
    response = client.post("/api/v1/risk/fraud", json={"user_id": user_id,
                                                        "note": "fake employer letter"},
                           headers=officer_headers)
    assert response.status_code == 201, response.text
    kinds = sorted(e["kind"] for e in response.json()["entries"])
    assert kinds == ["bank_card", "device", "id_number", "mobile"]
    assert client.post("/api/v1/risk/fraud", json={"user_id": 999999, "note": "x"},
                       headers=officer_headers).status_code == 404


def test_bureau_answers_are_configurable_per_identity(client: TestClient) -> None:
    _, headers, body = borrower(client)
    client.get("/healthz")
    from biaodi.api.routes.risk import app_env

    risk_env = app_env(client.app, client.app.state.platform)
    risk_env.bureau.configure(body["id_number"],  # type: ignore[attr-defined]
                              four_elements=Verification.MISMATCH, mismatched=("real_name",))
    decision = client.post("/api/v1/risk/applications", json=body, headers=headers).json()
    assert decision["outcome"] == "refused"
    assert decision["fired_rules"][0]["message_zh"] == "四要素核验不一致：real_name"


def test_monitoring_model_card_and_rules(client: TestClient,
                                         officer_headers: dict[str, str]) -> None:
    _, headers, body = borrower(client)
    client.post("/api/v1/risk/applications", json=body, headers=headers)
    psi = client.get("/api/v1/risk/monitoring/psi", params={"days": 7},
                     headers=officer_headers)
    assert psi.status_code == 200, psi.text
    assert psi.json()["applications"] == 1 and psi.json()["score"]["psi"] is not None
    card = client.get("/api/v1/risk/model", headers=officer_headers).json()
    assert [g["grade"] for g in card["grades"]] == ["A", "B", "C", "D", "E", "HR"]
    assert "psi_baseline" not in card and card["champion"]["kind"] == "woe-scorecard"
    rules = client.get("/api/v1/risk/rules", headers=headers).json()
    assert rules["name"] == "cn-2016" and rules["limits"]["natural_person_platform_cap"] == (
        "200000.00")
    assert rules["grades"]["A"]["rate_min"] == "6.00"
    assert any(r["id"] == "cn2016.instant_listing_ban" for r in rules["rules"])
