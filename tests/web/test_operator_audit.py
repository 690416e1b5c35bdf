"""The audit trail in the operator console and the API: a listing's records (who, which
request, what changed) after an operator approves it through the page; auditors read it,
other roles are refused; a malformed subject is named."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction
from factories import identity
from operator_support import act, sign_in, submitted
from test_support import login


def test_an_approval_through_the_console_shows_in_the_listings_trail(
        client: TestClient, platform: Platform) -> None:
    listing_id = submitted(platform)
    operator = sign_in(client, platform, "operator")
    path = f"/operator/listings/{listing_id}"
    assert f'href="/operator/audit?subject=listing:{listing_id}"' in client.get(path).text
    approved = act(client, path, {"action": "approve", "reason": "资料齐全"})
    assert approved.status_code == 303
    request_id = approved.headers["x-request-id"]

    page = client.get(f"/operator/audit?subject=listing:{listing_id}")
    assert page.status_code == 200
    html = page.text
    assert f"借款标的 #{listing_id} 的审计轨迹" in html
    assert "listing.created" in html and "listing.status" in html
    assert "&#34;submitted&#34;,&#34;approved&#34;" in html  # what changed, escaped JSON
    assert "资料齐全" in html  # the reason given, in its own characters
    assert f"用户 #{operator}" in html and request_id in html
    assert "系统（日终等）" in html  # the listing was drafted by a test, outside a request
    client.get("/lang/en")
    english = client.get(f"/operator/audit?subject=listing:{listing_id}").text
    client.get("/lang/zh-CN")
    assert f"Audit trail of listing #{listing_id}" in english and f"user #{operator}" in english

    bad = client.get("/operator/audit?subject=wallet:1")
    assert bad.status_code == 422 and "对象的格式为 类型:编号" in bad.text
    assert "没有关于该对象的审计记录" in client.get("/operator/audit?subject=loan:999").text


def test_auditors_read_the_trail_and_investors_do_not(client: TestClient,
                                                      platform: Platform) -> None:
    listing_id = submitted(platform)
    sign_in(client, platform, "auditor")
    page = client.get(f"/operator/audit?subject=listing:{listing_id}")
    assert page.status_code == 200 and "listing.status" in page.text
    sign_in(client, platform, "investor")
    assert client.get(f"/operator/audit?subject=listing:{listing_id}").status_code == 403


def test_the_api_gives_the_trail_to_staff(client: TestClient, platform: Platform) -> None:
    listing_id = submitted(platform)
    auditor = _token(client, platform, "auditor")
    answer = client.get("/api/v1/operator/audit", params={
        "subject_kind": "listing", "subject_id": listing_id}, headers=auditor)
    assert answer.status_code == 200, answer.text
    trail = answer.json()
    [record] = trail  # drafted and submitted in one transaction: one record, two events
    assert [e["action"] for e in record["events"]] == ["listing.created", "listing.status"]
    assert record["events"][1]["changes"]["status"] == ["draft", "submitted"]
    assert record["actor"] == "system" and record["request_id"] is None
    investor = _token(client, platform, "investor")
    refused = client.get("/api/v1/operator/audit", params={
        "subject_kind": "listing", "subject_id": listing_id}, headers=investor)
    assert refused.status_code == 403
    wrong = client.get("/api/v1/operator/audit", params={
        "subject_kind": "wallet", "subject_id": 1}, headers=auditor)
    assert wrong.status_code == 422 and "subject_kind" in wrong.text


def _token(client: TestClient, platform: Platform, role: str) -> dict[str, str]:
    data = identity()
    create = users.register if role == "investor" else users.create_staff
    in_transaction(platform.uow, lambda uow: create(
        uow, users.Register(**data, roles=(role,)), platform.cipher))
    return login(client, data["username"], data["password"])
