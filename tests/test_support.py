"""Helpers for HTTP tests."""

from __future__ import annotations

from fastapi.testclient import TestClient


def login(client: TestClient, username: str, password: str = "passw0rd-ok") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
