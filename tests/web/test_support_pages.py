"""The customer-service and documents pages on both databases: a user opens a ticket from
/support (a blank message is refused next to its field), an operator answers it from the queue
and resolves it, the user reads the conversation in zh-CN and en; /me/documents and the
statement download."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from biaodi.bootstrap import Platform
from web_support import post_form, sign_in_as


def test_ticket_from_the_page_to_resolved(client: TestClient, platform: Platform) -> None:
    sign_in_as(client, platform, "investor")
    page = client.get("/support")
    assert page.status_code == 200 and 'id="ticket-form"' in page.text
    blank = post_form(client, "/support/tickets", {
        "category": "payment", "priority": "normal", "subject": "充值未到账", "body": "  "},
        token_from="/support")
    assert blank.status_code == 422 and 'data-field="body"' in blank.text
    assert "请填写此项" in blank.text  # the refusal in the page's language
    assert "充值未到账" in blank.text  # what was typed is kept
    opened = post_form(client, "/support/tickets", {
        "category": "payment", "priority": "high", "subject": "充值未到账",
        "body": "昨天充值 100 元还没到账"}, token_from="/support")
    assert opened.status_code == 303
    path = opened.headers["location"]
    ticket_id = int(path.rsplit("/", 1)[1])
    user_cookies = dict(client.cookies)

    client.cookies.clear()
    sign_in_as(client, platform, "operator")
    assert 'id="to-queue"' in client.get("/support").text
    queue = client.get("/operator/support")
    assert f'data-ticket="{ticket_id}"' in queue.text
    answered = post_form(client, f"/operator/support/tickets/{ticket_id}/reply",
                         {"body": "已为您查询，款项已入账。"},
                         token_from=f"/operator/support/tickets/{ticket_id}")
    assert answered.status_code == 303
    resolved = post_form(client, f"/operator/support/tickets/{ticket_id}/resolve",
                         {"resolution": "已入账"},
                         token_from=f"/operator/support/tickets/{ticket_id}")
    assert resolved.status_code == 303
    assert f'data-ticket="{ticket_id}"' not in client.get("/operator/support").text

    client.cookies.clear()
    client.cookies.update(user_cookies)
    mine = client.get(path)
    assert 'data-status="resolved"' in mine.text and "款项已入账" in mine.text
    assert "客服" in mine.text and "已入账" in mine.text
    client.get("/lang/en?next=/support")
    english = client.get(path)
    assert "Resolved" in english.text and "Service" in english.text
    assert not re.search(r"support\.\w", english.text)  # every message has a text


def test_documents_page_and_statement_download(client: TestClient, platform: Platform) -> None:
    sign_in_as(client, platform, "investor")
    page = client.get("/me/documents")
    assert page.status_code == 200 and 'id="no-documents"' in page.text
    assert 'id="statement-form"' in page.text
    xlsx = client.get("/me/statements.xlsx", params={"year": "2026", "month": "11"})
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.content))["Summary"]["B1"].value == "2026-11"
    assert client.get("/me/statements.xlsx", params={"month": "12"}).status_code == 404
    assert client.get("/me/documents/999999.pdf").status_code == 404


def test_a_nul_character_in_any_form_is_refused_naming_the_field(
        client: TestClient, platform: Platform) -> None:
    """PostgreSQL text cannot hold a NUL character: every form refuses one before the page
    reads it (422 naming the field, nothing stored) rather than failing with a server error."""
    sign_in_as(client, platform, "investor")
    client.cookies.set("lang", "en")
    sent = post_form(client, "/support/tickets", {
        "category": "payment", "priority": "normal", "subject": "a\x00b", "body": "hello"},
        token_from="/support")
    assert sent.status_code == 422
    assert "The field subject contains a character that is not allowed" in sent.text
    assert 'data-ticket=' not in client.get("/support").text
