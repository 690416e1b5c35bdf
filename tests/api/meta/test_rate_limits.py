"""Rate limits: sign-in per address and per username, sign-up per address, investing and
payments per investor — 429 `rate_limited` with Retry-After, on the API and on the pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from biaodi.api.app import create_app
from biaodi.bootstrap import Platform, build_platform
from factories import identity


@pytest.fixture
def limited(platform: Platform) -> Platform:
    settings = platform.settings.model_copy(update={
        "rate_limits_enabled": True, "rate_limit_login": "3/minute",
        "rate_limit_signup": "2/minute", "rate_limit_payment": "1/minute"})
    return build_platform(settings, clock=platform.clock, engine=platform.engine)


def _client(platform: Platform, address: str) -> TestClient:
    return TestClient(create_app(platform), client=(address, 50000))


@pytest.fixture
def office(limited: Platform) -> Iterator[TestClient]:
    with _client(limited, "10.0.0.1") as client:
        yield client


def _login(client: TestClient, username: str) -> int:
    return client.post("/api/v1/auth/token",
                       data={"username": username, "password": "wrong-passw0rd"}).status_code


def _refused(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_sign_in_is_limited_per_address_and_per_username(limited: Platform,
                                                          office: TestClient) -> None:
    assert [_login(office, f"user{n}") for n in range(3)] == [401, 401, 401]
    _refused(office.post("/api/v1/auth/token", data={"username": "user9", "password": "x"}))
    # another address may still try, but not the username guessed three times already
    with _client(limited, "10.0.0.2") as elsewhere:
        assert [_login(elsewhere, "target") for _ in range(3)] == [401, 401, 401]
    with _client(limited, "10.0.0.3") as third:
        _refused(third.post("/api/v1/auth/token", data={"username": "target", "password": "x"}))
        assert _login(third, "someone-else") == 401


def test_sign_up_is_limited_per_address(office: TestClient) -> None:
    for _ in range(2):
        created = office.post("/api/v1/users", json=identity() | {"roles": ["investor"]})
        assert created.status_code == 201, created.text
    _refused(office.post("/api/v1/users", json=identity() | {"roles": ["investor"]}))


def test_payments_are_limited_per_investor(limited: Platform, office: TestClient) -> None:
    data = identity()
    assert office.post("/api/v1/users", json=data | {"roles": ["investor"]}).status_code == 201
    token = office.post("/api/v1/auth/token", data={
        "username": data["username"], "password": data["password"]}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = {"amount": "100.00", "channel": "third_party"}
    first = office.post("/api/v1/payments/deposits", json=body,
                        headers=auth | {"Idempotency-Key": "d1"})
    assert first.status_code != 429  # the gateway is not running here: 502 is fine
    _refused(office.post("/api/v1/payments/deposits", json=body,
                         headers=auth | {"Idempotency-Key": "d2"}))


def test_the_sign_in_page_says_when_to_try_again(office: TestClient) -> None:
    page = office.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    for _ in range(3):
        office.post("/login", data={"username": "pageuser", "password": "x",
                                    "csrf_token": token})
    refused = office.post("/login", data={"username": "pageuser", "password": "x",
                                          "csrf_token": token})
    assert refused.status_code == 429
    assert "操作过于频繁" in refused.text and "Retry-After" in refused.headers
