"""Through HTTP on both databases: a lender downloads its own contract (and no one else's), its
statement as JSON and Excel; a ticket about its holding is answered by an operator and the
lender reads the conversation."""

from __future__ import annotations

import hashlib
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from biaodi.adapters.db.tables import User
from biaodi.bootstrap import Platform
from documents_support import issued_document
from servicing_support import funded_loan
from test_support import login


def _headers(client: TestClient, platform: Platform, user_id: int) -> dict[str, str]:
    with platform.reader() as uow:
        user = uow.s.get(User, user_id)
        assert user is not None
        return login(client, user.username)


def test_documents_statements_and_tickets_over_http(client: TestClient, platform: Platform,
                                                    operator_headers: dict[str, str]) -> None:
    loan = funded_loan(platform, "credit", tickets=(5_000, 5_000))
    document_id = issued_document(platform, loan.investors[0])
    mine, other = (_headers(client, platform, i) for i in loan.investors)

    listed = client.get("/api/v1/me/documents", headers=mine).json()
    assert [d["id"] for d in listed] == [document_id]
    pdf = client.get(f"/api/v1/me/documents/{document_id}", headers=mine)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-sha256"] == hashlib.sha256(pdf.content).hexdigest()
    assert pdf.headers["x-content-sha256"] == listed[0]["sha256"]
    refused = client.get(f"/api/v1/me/documents/{document_id}", headers=other)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "document_not_found"

    year = platform.clock.today().year
    data = client.get("/api/v1/me/statements", params={"year": year}, headers=mine).json()
    assert data["period"] == str(year)
    assert [h["principal"] for h in data["holdings"]] == ["5000.00"]
    xlsx = client.get("/api/v1/me/statements/xlsx", params={"year": year, "month": 11},
                      headers=mine)
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.content))["Summary"]["B1"].value == f"{year}-11"
    future = client.get("/api/v1/me/statements", params={"year": year, "month": 12},
                        headers=mine)
    assert future.status_code == 422 and future.json()["error"]["field"] == "month"

    opened = client.post("/api/v1/support/tickets", headers=mine, json={
        "category": "repayment", "subject": "还款计划", "body": "第一期是哪天？",
        "about": {"kind": "holding", "id": loan.holdings[0]}})
    assert opened.status_code == 201, opened.text
    ticket = opened.json()["id"]
    assert client.post("/api/v1/support/tickets", headers=other, json={
        "category": "repayment", "subject": "x", "body": "y",
        "about": {"kind": "holding", "id": loan.holdings[0]}}).status_code == 404
    assert client.get(f"/api/v1/support/tickets/{ticket}", headers=other).status_code == 404
    queue = client.get("/api/v1/operator/support/tickets", headers=operator_headers).json()
    assert [t["id"] for t in queue] == [ticket]
    answer = client.post(f"/api/v1/support/tickets/{ticket}/messages",
                         headers=operator_headers, json={"body": "见还款计划第一行。"})
    assert answer.status_code == 201
    done = client.post(f"/api/v1/operator/support/tickets/{ticket}/resolve",
                       headers=operator_headers, json={"resolution": "已答复"})
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    seen = client.get(f"/api/v1/support/tickets/{ticket}", headers=mine).json()
    assert [(m["from_staff"], m["body"]) for m in seen["messages"]] == [
        (False, "第一期是哪天？"), (True, "见还款计划第一行。")]
    assert seen["overdue"] is False
