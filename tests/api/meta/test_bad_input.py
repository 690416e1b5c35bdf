"""Bad input found from outside: numbers too large for the database, NUL characters, negative
limits, malformed JSON and unknown body fields are refused with 422 and the documented error
shape, naming the field — never a 500 (both databases)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from test_support import register

HUGE = "99999999999999999999"


def _refused(response, field: str | None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["field"] == field
    return error


@pytest.mark.parametrize(("path", "field"), [
    (f"/api/v1/listings/{HUGE}", "listing_id"),
    (f"/api/v1/secondary/sales/{HUGE}", "sale_id"),
    (f"/api/v1/listings?page={HUGE}", "page"),
    (f"/api/v1/listings?min_term={HUGE}", "min_term"),
    (f"/api/v1/listings?max_term={HUGE}", "max_term"),
    ("/api/v1/listings?page=0", "page"),
    ("/api/v1/listings?page_size=100000", "page_size"),
])
def test_anonymous_out_of_range_numbers_are_refused(client: TestClient, path: str,
                                                    field: str) -> None:
    _refused(client.get(path), field)


def test_signed_in_out_of_range_numbers_are_refused(client: TestClient,
                                                    operator_headers: dict[str, str]) -> None:
    _, investor = register(client, "investor")
    _refused(client.get(f"/api/v1/payments/orders?page={HUGE}", headers=investor), "page")
    _refused(client.delete(f"/api/v1/me/auto-invest/rules/{HUGE}", headers=investor), "rule_id")
    _refused(client.post(f"/api/v1/secondary/sales/{HUGE}/cancel", headers=investor), "sale_id")
    op = operator_headers
    _refused(client.get(f"/api/v1/operator/payments/orders?user_id={HUGE}", headers=op),
             "user_id")
    _refused(client.get(f"/api/v1/risk/blacklist?user_id={HUGE}", headers=op), "user_id")
    _refused(client.get(f"/api/v1/risk/applications?page={HUGE}", headers=op), "page")
    _refused(client.get(f"/api/v1/operator/collections/log?borrower_id={HUGE}", headers=op),
             "borrower_id")
    _refused(client.post("/api/v1/operator/collections/contacts", headers=op,
                         json={"borrower_id": int(HUGE), "channel": "sms", "note": "x"}),
             "borrower_id")
    _refused(client.get("/api/v1/operator/payments/callbacks?limit=-1", headers=op), "limit")


@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/listings?grade=a%00b", "grade"),
    ("/api/v1/listings?collateral_class=a%00", "collateral_class"),
    ("/api/v1/listings?=a%00", "query"),  # a parameter without a name: the query string
])
def test_nul_characters_are_refused(client: TestClient, path: str, field: str) -> None:
    error = _refused(client.get(path), field)
    assert "NUL" in str(error["message"])


def test_nul_characters_are_refused_for_operators(client: TestClient,
                                                  operator_headers: dict[str, str]) -> None:
    _refused(client.get("/api/v1/operator/listings?status=a%00b", headers=operator_headers),
             "status")


def test_malformed_json_names_the_body_not_a_position(client: TestClient) -> None:
    response = client.post("/api/v1/users", content=b"{\"username\": \"x\",",
                           headers={"Content-Type": "application/json"})
    error = _refused(response, "body")
    assert "JSON" in str(error["message"])


def test_unknown_body_fields_are_refused(client: TestClient) -> None:
    _, investor = register(client, "investor")
    response = client.post("/api/v1/me/auto-invest/rules", headers=investor, json={
        "amount_per_listing": "100.00", "reserve": "50.00"})
    error = _refused(response, "reserve")
    assert "not a field" in str(error["message"]) or "extra" in str(error["message"]).lower()


def test_nul_characters_in_a_body_are_refused(client: TestClient) -> None:
    response = client.post("/api/v1/users", json={
        "username": "nul\x00user", "password": "passw0rd-ok", "real_name": "张三",
        "id_number": "110101199003070011", "mobile": "13800138000", "roles": ["investor"]})
    error = _refused(response, "username")
    assert "NUL" in str(error["message"])


def test_guarantor_terms_without_a_name_for_a_new_guarantor_name_the_field(
        client: TestClient, operator_headers: dict[str, str]) -> None:
    guarantor_id, _ = register(client, "guarantor")
    response = client.put(f"/api/v1/operator/guarantors/{guarantor_id}",
                          json={"capacity": "100000", "fee_rate": "1"}, headers=operator_headers)
    _refused(response, "name")


def test_a_body_that_is_not_text_is_refused_like_malformed_json(client: TestClient) -> None:
    """FastAPI answered bytes that are not UTF-8 with 400 `http_error`, field null (found by
    tests/api/meta/test_spec_conformance.py)."""
    response = client.post("/api/v1/users", content=b"\xff\xfe{",
                           headers={"Content-Type": "application/json"})
    error = _refused(response, "body")
    assert "JSON" in str(error["message"])


@pytest.mark.parametrize("body", [[], 7, "text", None])
def test_a_body_that_is_not_an_object_names_the_body(client: TestClient, body: object) -> None:
    """A JSON list or number where an object belongs was refused with field null."""
    _refused(client.post("/api/v1/users", json=body), "body")
