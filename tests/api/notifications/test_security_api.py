"""Account security through the API on SQLite and PostgreSQL: lockout after the configured
failed sign-ins, password reset end to end through the SMTP sink, mobile verification by a
code in the SMS sandbox, sessions listed and revoked by their owner, the security log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.messaging.sms import SandboxSmsGateway
from biaodi.adapters.messaging.smtp import SmtpSender
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.services.notifications.relay import relay_once
from factories import identity
from notify_support import SmtpSink
from test_support import login

PASSWORD = "passw0rd-ok"


@pytest.fixture
def strict(platform: Platform) -> Platform:
    """Three failed sign-ins lock an account for 30 minutes."""
    settings = platform.settings.model_copy(update={"login_max_failures": 3,
                                                    "login_lockout_minutes": 30})
    return replace(platform, settings=settings)


@pytest.fixture
def client(strict: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(strict)) as test_client:
        yield test_client


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


def sign_up(client: TestClient) -> dict[str, str]:
    body = identity() | {"roles": ["investor"]}
    assert client.post("/api/v1/users", json=body).status_code == 201
    return body


def token(client: TestClient, username: str, password: str = PASSWORD) -> tuple[int, dict]:
    answer = client.post("/api/v1/auth/token", data={"username": username,
                                                     "password": password})
    return answer.status_code, answer.json()


def test_lockout_after_the_configured_failures(client: TestClient, clock: FixedClock) -> None:
    me = sign_up(client)
    for _ in range(3):
        status, body = token(client, me["username"], "wrong-pass1")
        assert status == 401 and body["error"]["code"] == "invalid_credentials"
    status, body = token(client, me["username"])  # the right password, but locked
    assert status == 401 and body["error"]["code"] == "account_locked"
    assert "login.lockout" in body["error"]["message"]
    clock.advance(minutes=31)
    status, body = token(client, me["username"])
    assert status == 200, body
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    kinds = [e["kind"] for e in client.get("/api/v1/me/security", headers=headers)
             .json()["events"]]
    assert kinds[:5] == ["signed_in", "locked", "sign_in_failed", "sign_in_failed",
                         "sign_in_failed"]
    # Two failures, a good sign-in, two more: the count starts again, no lockout.
    for password in ("nope-nope1", "nope-nope1", PASSWORD, "nope-nope1", "nope-nope1"):
        token(client, me["username"], password)
    assert token(client, me["username"])[0] == 200


def test_password_reset_end_to_end_through_the_smtp_sink(
        client: TestClient, strict: Platform, sink: SmtpSink, tmp_path: Path) -> None:
    senders = {"email": SmtpSender("127.0.0.1", sink.port, "noreply@biaodi.test", timeout=5),
               "sms": SandboxSmsGateway(tmp_path / "sms")}
    me = sign_up(client)
    old = login(client, me["username"])
    client.put("/api/v1/me/notification-settings", headers=old,
               json={"email": "me@example.test", "language": "en"})
    answer = client.post("/api/v1/auth/password-reset",
                         json={"login": me["mobile"], "channel": "email"})
    assert answer.status_code == 202
    nobody = client.post("/api/v1/auth/password-reset",
                         json={"login": "nobody_here", "channel": "email"})
    assert nobody.status_code == 202 and nobody.json() == answer.json()
    relay_once(strict.uow, strict.cipher, senders)
    [mail] = sink.received  # the unknown login got nothing
    assert mail["to"] == "me@example.test" and mail["subject"] == "Your verification code"
    code = re.search(r"\b(\d{6})\b", mail["body"]).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/api/v1/auth/password-reset/confirm", json={
        "login": me["username"], "code": wrong, "new_password": "new-passw0rd"})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "code"
    done = client.post("/api/v1/auth/password-reset/confirm", json={
        "login": me["username"], "code": code, "new_password": "new-passw0rd"})
    assert done.status_code == 200, done.text
    assert client.get("/api/v1/me", headers=old).status_code == 401  # sessions ended
    assert token(client, me["username"])[0] == 401
    assert token(client, me["username"], "new-passw0rd")[0] == 200
    again = client.post("/api/v1/auth/password-reset/confirm", json={
        "login": me["username"], "code": code, "new_password": "other-passw0rd"})
    assert again.status_code == 422  # a code works once
    # The code never shows in the inbox.
    fresh = login(client, me["username"], "new-passw0rd")
    assert client.get("/api/v1/me/notifications", headers=fresh).json()["total"] == 0


def test_mobile_verification_and_sessions(client: TestClient, strict: Platform,
                                          tmp_path: Path) -> None:
    sms = SandboxSmsGateway(tmp_path / "sms")
    me = sign_up(client)  # registration sends a code by SMS
    first = login(client, me["username"])
    assert client.get("/api/v1/me/security", headers=first).json()["mobile_verified"] is False
    relay_once(strict.uow, strict.cipher, {"sms": sms, "email": sms})
    [text] = sms.received()
    assert text["to"] == me["mobile"]
    code = re.search(r"\b(\d{6})\b", text["text"]).group(1)  # type: ignore[union-attr]
    confirm = client.post("/api/v1/me/mobile-verification/confirm", headers=first,
                          json={"code": code})
    assert confirm.status_code == 200, confirm.text
    assert client.get("/api/v1/me/security", headers=first).json()["mobile_verified"] is True

    second = login(client, me["username"])
    sessions = client.get("/api/v1/me/sessions", headers=first).json()["items"]
    assert len(sessions) == 2
    other = sign_up(client)
    theirs = login(client, other["username"])
    [target] = [s["id"] for s in sessions if not s["current"]]  # `second`
    assert client.post(f"/api/v1/me/sessions/{target}/revoke",
                       headers=theirs).status_code == 404
    assert client.post(f"/api/v1/me/sessions/{target}/revoke", headers=first).status_code == 200
    assert client.get("/api/v1/me", headers=second).status_code == 401
    assert client.get("/api/v1/me", headers=first).status_code == 200
    assert client.post(f"/api/v1/me/sessions/{target}/revoke",
                       headers=first).status_code == 409
    assert [s["current"] for s in client.get("/api/v1/me/sessions", headers=first).json()[
        "items"]] == [True]
    kinds = {e["kind"] for e in client.get("/api/v1/me/security", headers=first).json()[
        "events"]}
    assert {"code_sent", "mobile_verified", "signed_in", "session_revoked"} <= kinds
