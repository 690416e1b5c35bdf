"""Registration, login, profile and wallet through HTTP, on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.db.tables import User
from biaodi.bootstrap import Platform
from factories import identity
from test_support import login


def register(client: TestClient, **overrides: object) -> dict:
    body = identity() | {"roles": ["investor", "borrower"]} | overrides
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 201, response.text
    return response.json() | {"_password": body["password"], "_id": body["id_number"]}


def test_register_login_me_and_wallet(client: TestClient, platform: Platform) -> None:
    user = register(client)
    assert user["roles"] == ["borrower", "investor"]
    assert user["id_number_masked"] == user["_id"][:3] + "*" * 11 + user["_id"][-4:]
    assert "*" in user["mobile_masked"]

    headers = login(client, user["username"])
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["id"] == user["id"] and me["real_name"] == "张三"

    wallet = client.get("/api/v1/me/wallet", headers=headers).json()
    assert wallet["wallets"] == {
        "borrower": {"available": "0.00", "frozen": "0.00"},
        "investor": {"available": "0.00", "frozen": "0.00"},
    }

    with platform.uow() as uow:  # stored encrypted, never in clear
        row = uow.s.execute(
            select(User.id_number_enc, User.password_hash).where(User.id == user["id"])
        ).one()
    assert user["_id"] not in row.id_number_enc
    assert platform.cipher.decrypt(row.id_number_enc) == user["_id"]
    assert row.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("id_number", "110101199003071234", "check digit"),
        ("id_number", "110101199002301234", "birth date"),
        ("id_number", "11010120150307123X", "under 18"),
        ("id_number", "123", "18 characters"),
        ("mobile", "02112345678", "mobile"),
        ("password", "short1", "8 to 128"),
        ("username", "1abc", "username"),
        ("roles", ["operator"], "cannot be chosen"),
    ],
)
def test_bad_registration_data_gets_422_naming_the_field(
    client: TestClient, field: str, value: object, fragment: str
) -> None:
    body = identity() | {field: value}
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field
    assert fragment in error["message"]


def test_missing_field_is_named(client: TestClient) -> None:
    body = identity()
    del body["mobile"]
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "mobile"


def test_duplicate_identity_is_a_conflict(client: TestClient) -> None:
    first = identity()
    assert client.post("/api/v1/users", json=first).status_code == 201
    again = identity() | {"id_number": first["id_number"]}
    response = client.post("/api/v1/users", json=again)
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_registered",
        "message": "id_number is already registered",
        "field": "id_number",
    }


def test_wrong_password_and_missing_token_are_401(client: TestClient) -> None:
    user = register(client)
    bad = client.post("/api/v1/auth/token", data={"username": user["username"], "password": "x"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "invalid_credentials"
    assert client.get("/api/v1/me").status_code == 401
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert forged.status_code == 401


def test_token_expires(client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    user = register(client)
    headers = login(client, user["username"])
    clock.advance(hours=13)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_openapi_lists_the_routes_other_tooling_relies_on(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/users", "/api/v1/auth/token", "/api/v1/me", "/api/v1/me/wallet"):
        assert path in paths
