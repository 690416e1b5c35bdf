"""The inbox and account-security pages on SQLite and PostgreSQL: messages listed and marked
read, channel choices saved (a bad address named next to its field), mobile verification and
password reset by codes read from the SMS sandbox, a session ended from the page."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.db.tables import User
from biaodi.adapters.messaging.sms import SandboxSmsGateway
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.notifications.capture import capture
from biaodi.services.notifications.relay import relay_once
from biaodi.services.payments import orders as payments
from biaodi.services.shared.tx import in_transaction
from payment_support import gateway_event
from web_support import post_form, sign_in_as


def last_code(sms: SandboxSmsGateway) -> str:
    found = re.search(r"\b(\d{6})\b", sms.received()[-1]["text"])
    assert found
    return found.group(1)


def test_inbox_and_security_pages(client: TestClient, platform: Platform,
                                  tmp_path: Path) -> None:
    me = sign_in_as(client, platform, "investor")
    with platform.reader() as uow:
        user_id = uow.s.scalar(select(User.id).where(User.username == me["username"]))
    assert user_id is not None
    view = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, payments.StartPayment(user_id, Money.parse("88.00"), "mobile")))
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(view.order_no, "88.00"), source="callback"))
    in_transaction(platform.uow, capture)

    page = client.get("/me/inbox")
    assert page.status_code == 200 and "充值成功" in page.text and "88.00" in page.text
    assert "1 条未读" in page.text
    message_id = re.search(r'data-message="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    assert post_form(client, f"/me/inbox/{message_id}/read", {},
                     token_from="/me/inbox").status_code == 303
    assert "0 条未读" in client.get("/me/inbox").text

    bad = post_form(client, "/me/inbox/settings", {"email": "nope", "language": "en"},
                    token_from="/me/inbox")
    assert bad.status_code == 422 and 'data-field="email"' in bad.text
    saved = post_form(client, "/me/inbox/settings", {
        "email": "me@example.test", "language": "en", "channel": "deposit.succeeded:sms"},
        token_from="/me/inbox")
    assert saved.status_code == 303
    page = client.get("/me/inbox").text
    assert re.search(r'value="deposit.succeeded:sms"[^>]*checked', page)
    assert not re.search(r'value="deposit.succeeded:email"[^>]*checked', page)

    # Mobile verification by a code from the SMS sandbox.
    sms = SandboxSmsGateway(tmp_path / "sms")
    assert post_form(client, "/me/security/mobile-code", {},
                     token_from="/me/security").status_code == 303
    relay_once(platform.uow, platform.cipher, {"sms": sms, "email": sms})
    wrong = post_form(client, "/me/security/mobile", {"code": "12345x"},
                      token_from="/me/security")
    assert wrong.status_code == 422 and 'data-field="code"' in wrong.text
    right = post_form(client, "/me/security/mobile", {"code": last_code(sms)},
                      token_from="/me/security")
    assert right.status_code == 303
    page = client.get("/me/security").text
    assert 'data-verified="yes"' in page

    # A second session, ended from the first.
    other = TestClient(client.app)
    post_form(other, "/login", {"username": me["username"], "password": me["password"],
                                "next": "/"})
    assert other.get("/me/security").status_code == 200
    page = client.get("/me/security").text
    ends = re.findall(r'/me/security/sessions/([0-9a-f]{16})/end', page)
    assert len(ends) == 1
    assert post_form(client, f"/me/security/sessions/{ends[0]}/end", {},
                     token_from="/me/security").status_code == 303
    assert other.get("/me/security", follow_redirects=False).status_code in (302, 303, 307)

    # Password reset from the sign-in page, by SMS.
    client.cookies.clear()
    assert "/password-reset" in client.get("/login").text
    sent = post_form(client, "/password-reset", {"login": me["username"], "channel": "sms"},
                     token_from="/password-reset")
    assert sent.status_code == 200 and 'id="reset-confirm"' in sent.text
    relay_once(platform.uow, platform.cipher, {"sms": sms, "email": sms})
    done = post_form(client, "/password-reset/confirm", {
        "login": me["username"], "code": last_code(sms), "new_password": "fresh-passw0rd"},
        token_from="/password-reset")
    assert done.status_code == 200 and 'id="reset-notice"' in done.text
    signed = post_form(client, "/login", {"username": me["username"],
                                          "password": "fresh-passw0rd", "next": "/"})
    assert signed.status_code == 303


def test_the_sign_in_page_says_when_an_account_is_locked(client: TestClient,
                                                         platform: Platform) -> None:
    me = sign_in_as(client, platform, "investor")
    client.cookies.clear()
    for _ in range(platform.settings.login_max_failures):
        wrong = post_form(client, "/login", {"username": me["username"],
                                             "password": "wrong-passw0rd", "next": "/"})
        assert wrong.status_code == 400 and "账户已暂时锁定" not in wrong.text
    locked = post_form(client, "/login", {"username": me["username"],
                                          "password": me["password"], "next": "/"})
    assert locked.status_code == 400 and "账户已暂时锁定" in locked.text
