"""Smart advisory through HTTP: the mix of grades and listing types, cash, and one click."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from investing_support import AGGRESSIVE
from test_support import register


def _assessed(client: TestClient, answers: dict[str, int]) -> dict[str, str]:
    _investor_id, headers = register(client, "investor")
    assessed = client.post("/api/v1/me/risk-assessment", json={"answers": answers},
                           headers=headers)
    assert assessed.status_code == 201
    return headers


def test_advice_mixes_grades_and_types_and_adopts_as_rules_with_their_types(
        client: TestClient, platform: Platform) -> None:
    headers = _assessed(client, AGGRESSIVE)
    advice = client.get("/api/v1/me/advice", headers=headers).json()
    assert advice["level"] == "C5" and advice["cash_percent"] == "0.00"
    kinds = {row["kind"] for row in advice["mix"]}
    assert len(kinds) >= 2 and all(float(r["share_percent"]) <= 40 for r in advice["mix"])
    assert advice["reasons"]["E/credit"]["code"] == "loses"
    too_big = client.post("/api/v1/me/advice/adoption", headers=headers | {
        "Idempotency-Key": "adv-1"}, json={"budget": "10000", "per_listing": "501"})
    assert too_big.status_code == 422
    assert too_big.json()["error"]["field"] == "per_listing"
    adopted = client.post("/api/v1/me/advice/adoption", headers=headers | {
        "Idempotency-Key": "adv-2"}, json={"budget": "10000", "per_listing": "500"})
    assert adopted.status_code == 201 and len(adopted.json()["rule_ids"]) == len(advice["mix"])
    rules = client.get("/api/v1/me/auto-invest/rules", headers=headers).json()
    rows = rules["items"]
    assert {(r["best_grade"], tuple(r["kinds"])) for r in rows} == {
        (row["grade"], (row["kind"],)) for row in advice["mix"]}


def test_a_growth_investor_is_told_what_stays_in_cash(client: TestClient) -> None:
    growth = dict.fromkeys(AGGRESSIVE, 2)
    advice = client.get("/api/v1/me/advice", headers=_assessed(client, growth)).json()
    assert advice["level"] == "C3" and advice["cash_percent"] == "20.00"
    assert advice["cash_why"]["code"] == "cash_caps"
    assert advice["reasons"]["C/collateral"] == {"code": "above_level", "risk": "R4",
                                                 "level": "C3", "max_risk": "R3"}
