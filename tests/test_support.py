"""Helpers for HTTP tests."""

from __future__ import annotations

from fastapi.testclient import TestClient


def login(client: TestClient, username: str, password: str = "passw0rd-ok") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def register(client: TestClient, *roles: str) -> tuple[int, dict[str, str]]:
    """Register a user with `roles` through the API and log in: (user id, auth headers)."""
    from factories import identity

    body = identity() | {"roles": list(roles) or ["investor"]}
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"], login(client, body["username"])


def listing_body(kind: str = "credit", **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "kind": kind,
        "title": f"{kind} listing for working capital",
        "amount": "30000.00",
        "annual_rate": "10",
        "term": 12,
        "term_unit": "month",
        "repayment_method": "equal_installment",
    }
    return body | overrides


#: Set-up approves listings of applicants without a risk decision by a recorded risk override
#: (the operator needs the role risk_override, as `operator_headers` has).
OVERRIDE_REASON = "test set-up: the risk decision is not what this test is about"


def walk_to(client: TestClient, listing_id: int, borrower: dict[str, str],
            operator: dict[str, str], *, publish: bool = True) -> dict[str, object]:
    """Submit, approve (with a risk override: the applicant has no risk decision) and
    (optionally) publish a drafted listing; returns the last detail."""
    response = client.post(f"/api/v1/listings/{listing_id}/submit", headers=borrower)
    assert response.status_code == 200, response.text
    response = client.post(f"/api/v1/listings/{listing_id}/approve",
                           json={"reason": "documents complete",
                                 "override_reason": OVERRIDE_REASON}, headers=operator)
    assert response.status_code == 200, response.text
    if publish:
        response = client.post(f"/api/v1/listings/{listing_id}/publish", json={},
                               headers=operator)
        assert response.status_code == 200, response.text
    return response.json()
