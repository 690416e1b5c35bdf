"""Personal data is masked in every answer and page, and never written to a log.

One journey through the app: a borrower signs up on the page with an ID number and a mobile, a
sign-up with a bad ID number is refused, the borrower signs in by mobile, applies for credit
with a bank card and names a contact; an investor tries a deposit and invests; a risk officer
confirms fraud (which lists the borrower's values); operators and risk officers look at the
borrower. Every answer and page of it, as each role, shows the values masked only; with the
`biaodi`, `uvicorn` and `sqlalchemy` loggers at DEBUG, no log record holds any of them.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction
from biaodi.web.routes import investor as investor_pages
from factories import identity
from investing_support import published_listing
from payment_support import FakeGateway
from risk_support import application_body, card_number
from test_support import login
from web_support import assessed_investor, post_form, sign_in_as

CONTACT_MOBILE = "13900007777"


@dataclass
class Journey:
    secrets: list[str]
    masked: list[str]
    seen: dict[str, str] = field(default_factory=dict)  # what each answer or page showed

    def look(self, what: str, response) -> None:  # type: ignore[no-untyped-def]
        assert response.status_code < 500, (what, response.text[:300])
        body = response.content
        if body[:2] == b"PK":  # an Excel workbook: its parts, unzipped
            with zipfile.ZipFile(io.BytesIO(body)) as book:
                body = b"".join(book.read(name) for name in book.namelist())
        self.seen[what] = body.decode("utf-8", "replace")


def _journey(client: TestClient, platform: Platform) -> Journey:
    person = identity()
    card = card_number(int(person["mobile"][-6:]))
    bad_id = person["id_number"][:-1] + ("0" if person["id_number"][-1] != "0" else "1")
    masked = [person["mobile"][:3] + "****" + person["mobile"][-4:],
              person["id_number"][:3] + "*" * 11 + person["id_number"][-4:]]
    journey = Journey([person["id_number"], person["mobile"], card, CONTACT_MOBILE, bad_id],
                      masked)

    # sign-up on the page, and a refused one with a bad ID number (same mobile, new name)
    client.cookies.clear()
    form = {"username": person["username"], "password": person["password"],
            "real_name": person["real_name"], "id_number": person["id_number"],
            "mobile": person["mobile"], "role": "borrower"}
    journey.look("signup", post_form(client, "/signup", form, token_from="/signup",
                                     follow=True))
    refused = post_form(client, "/signup", form | {"username": "another_one",
                                                   "id_number": bad_id}, token_from="/signup")
    assert refused.status_code == 422
    borrower = login(client, person["mobile"])  # sign-in by mobile
    journey.look("api me", client.get("/api/v1/me", headers=borrower))
    me = client.get("/api/v1/me", headers=borrower).json()
    applied = client.post("/api/v1/risk/applications", headers=borrower,
                          json=application_body(person) | {"bank_card": card})
    journey.look("api application", applied)
    application_id = applied.json()["application_id"]
    journey.look("api contact", client.post("/api/v1/me/contacts", headers=borrower, json={
        "name": "李四", "mobile": CONTACT_MOBILE, "relation": "friend", "authorised": True}))
    for path in ("/api/v1/me/contacts", "/api/v1/risk/applications",
                 f"/api/v1/risk/applications/{application_id}"):
        journey.look(f"borrower {path}", client.get(path, headers=borrower))
    for path in ("/borrow", f"/borrow/applications/{application_id}"):
        journey.look(f"borrower page {path}", client.get(path))

    # an investor: a deposit attempt and an investment, the pages and statements
    gateway = FakeGateway()
    client.app.dependency_overrides[investor_pages.get_gateway] = lambda: gateway
    assessed_investor(client, platform, yuan=5_000)
    journey.look("deposit", post_form(client, "/me/deposit", {"amount": "2000",
                                                              "channel": "third_party"},
                                      token_from="/me/deposit"))
    listing = published_listing(platform, platform.investing_rules)
    journey.look("invest", post_form(client, f"/listings/{listing}/invest",
                                     {"amount": "1000"}, token_from=f"/listings/{listing}/invest"))
    for path in ("/me", "/me/statement.csv", "/me/statement.xlsx", "/"):
        journey.look(f"investor page {path}", client.get(path))

    # a risk officer confirms fraud: the blacklist holds the borrower's values, masked
    client.cookies.clear()
    officer = identity()
    in_transaction(platform.uow, lambda uow: users.create_staff(
        uow, users.Register(**officer, roles=("risk_officer",)), platform.cipher))
    risk = login(client, officer["username"])
    journey.look("fraud", client.post("/api/v1/risk/fraud", headers=risk,
                                      json={"user_id": me["id"], "note": "confirmed"}))
    for path in (f"/api/v1/risk/applications/{application_id}", "/api/v1/risk/applications",
                 f"/api/v1/risk/blacklist?user_id={me['id']}"):
        journey.look(f"risk {path}", client.get(path, headers=risk))

    # an operator looks at the borrower, in the API and the console
    client.cookies.clear()
    operator = sign_in_as(client, platform, "operator")
    staff = login(client, operator["username"])
    for path in (f"/api/v1/risk/blacklist?user_id={me['id']}",
                 f"/api/v1/risk/applications/{application_id}"):
        journey.look(f"operator {path}", client.get(path, headers=staff))
    for path in ("/operator", f"/operator/collections/{me['id']}", "/operator/risk/blacklist",
                 "/operator/loans"):
        journey.look(f"operator page {path}", client.get(path))
    client.app.dependency_overrides.clear()
    return journey


def test_every_answer_and_page_shows_personal_data_masked(
        client: TestClient, platform: Platform) -> None:
    journey = _journey(client, platform)
    for what, text in journey.seen.items():
        for secret in journey.secrets[:4]:  # the refused ID number is the user's own input
            assert secret not in text, f"{what} shows {secret}"
    assert all(m in journey.seen["api me"] for m in journey.masked)
    listed = journey.seen["operator page /operator/risk/blacklist"]
    assert all(m in listed for m in journey.masked)


def test_no_log_record_holds_personal_data(client: TestClient, platform: Platform,
                                           caplog: pytest.LogCaptureFixture) -> None:
    for name in ("biaodi", "uvicorn", "uvicorn.access", "uvicorn.error", "sqlalchemy",
                 "sqlalchemy.engine", "httpx", "fastapi"):
        caplog.set_level(logging.DEBUG, logger=name)
    platform.engine.echo = True  # even with SQL echo on, the parameters stay hidden
    try:
        journey = _journey(client, platform)
    finally:
        platform.engine.echo = False
    records = caplog.records
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)  # logging was on
    for record in records:
        text = f"{record.getMessage()} {record.args!r} {record.msg!r}"
        for secret in journey.secrets:
            assert secret not in text, f"{record.name} logged {secret}: {text[:200]}"
