"""Attribution at sign-up (API and page), campaigns and the metrics' JSON routes, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.db.tables import User
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.analytics import catalog
from biaodi.services.shared.tx import in_transaction
from factories import identity
from test_support import login
from web_support import post_form


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as test_client:
        yield test_client


def _staff(client: TestClient, platform: Platform, role: str) -> dict[str, str]:
    data = identity()
    cmd = users.Register(**data, roles=(role,))
    in_transaction(platform.uow, lambda uow: users.create_staff(uow, cmd, platform.cipher))
    return login(client, data["username"])


def _source(platform: Platform, username: str) -> tuple[str, str]:
    with platform.uow() as uow:
        user = uow.s.execute(select(User).where(User.username == username)).scalar_one()
        return user.acquisition_channel, user.acquisition_campaign


def test_the_sign_up_api_records_channel_and_campaign(client: TestClient, platform: Platform
                                                      ) -> None:
    body = identity() | {"channel": "wechat", "campaign": " 双十一  2026 "}
    assert client.post("/api/v1/users", json=body).status_code == 201
    assert _source(platform, body["username"]) == ("wechat", "双十一 2026")
    plain = identity()
    assert client.post("/api/v1/users", json=plain).status_code == 201
    assert _source(platform, plain["username"]) == ("organic", "")
    refused = client.post("/api/v1/users", json=identity() | {"channel": "tiktok"})
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "channel"
    assert "search_ads" in refused.json()["error"]["message"]


def test_the_sign_up_page_carries_the_link_s_utm_values(client: TestClient, platform: Platform
                                                         ) -> None:
    page = client.get("/signup?utm_source=app_store&utm_campaign=spring")
    assert 'name="channel" value="app_store"' in page.text
    assert 'name="campaign" value="spring"' in page.text
    unknown = client.get("/signup?utm_source=billboard")
    assert 'name="channel" value=""' in unknown.text  # not a channel: organic
    data = identity()
    response = post_form(client, "/signup", {
        "username": data["username"], "password": data["password"],
        "real_name": data["real_name"], "id_number": data["id_number"],
        "mobile": data["mobile"], "role": "investor", "channel": "app_store",
        "campaign": "spring"}, token_from="/signup")
    assert response.status_code == 303, response.text
    assert _source(platform, data["username"]) == ("app_store", "spring")
    # hidden fields changed by hand never stop a sign-up: not a channel is organic
    client.cookies.clear()
    other = identity()
    response = post_form(client, "/signup", {
        "username": other["username"], "password": other["password"],
        "real_name": other["real_name"], "id_number": other["id_number"],
        "mobile": other["mobile"], "role": "investor", "channel": "billboard",
        "campaign": "x" * 100}, token_from="/signup")
    assert response.status_code == 303, response.text
    assert _source(platform, other["username"]) == ("organic", "x" * 64)


def test_campaigns_and_metrics_through_the_api(client: TestClient, platform: Platform) -> None:
    operator = _staff(client, platform, "operator")
    auditor = _staff(client, platform, "auditor")
    made = client.post("/api/v1/operator/campaigns", headers=operator,
                       json={"name": "双十一", "channel": "wechat", "cost": "1000.00"})
    assert made.status_code == 201, made.text
    assert made.json() | {"id": 0} == {"id": 0, "channel": "wechat", "name": "双十一",
                                       "cost": "1000.00"}
    again = client.post("/api/v1/operator/campaigns", headers=operator,
                        json={"name": "双十一", "channel": "wechat", "cost": "1.00"})
    assert again.status_code == 409 and again.json()["error"]["field"] == "name"
    bad = client.post("/api/v1/operator/campaigns", headers=operator,
                      json={"name": "x", "channel": "wechat", "cost": "-1"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cost"
    assert client.post("/api/v1/operator/campaigns", headers=auditor, json={
        "name": "y", "channel": "wechat", "cost": "1"}).status_code == 403

    listed = client.get("/api/v1/operator/analytics", headers=auditor).json()
    assert [m["name"] for m in listed] == list(catalog.METRICS)
    cost = client.get("/api/v1/operator/analytics/cost-per-investor", headers=auditor)
    assert cost.json() == [{"channel": "wechat", "campaign": "双十一", "cost_fen": 100_000,
                            "investors": 0, "per_investor_fen": None}]
    # a bound left out: the period ends today, from the first of its month
    to_date = client.get("/api/v1/operator/analytics/average-ticket", headers=operator,
                         params={"start": "2026-11-01"})
    assert to_date.status_code == 200, to_date.text
    backwards = client.get("/api/v1/operator/analytics/average-ticket", headers=operator,
                           params={"start": "2026-11-30", "end": "2026-11-01"})
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "end"
    ticket = client.get("/api/v1/operator/analytics/average-ticket", headers=operator,
                        params={"start": "2026-11-01", "end": "2026-11-30"})
    assert ticket.json() == {"invested_fen": 0, "orders": 0, "investors": 0,
                             "per_investor_fen": None, "per_order_fen": None}
    tiers = client.get("/api/v1/operator/analytics/investors-by-tier", headers=operator)
    assert [row["tier"] for row in tiers.json()] == ["普通", "白银", "黄金", "钻石"]
    investor = login(client, _investor(platform))
    assert client.get("/api/v1/operator/analytics/funnel", headers=investor).status_code == 403


def _investor(platform: Platform) -> str:
    data = identity()
    in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**data), platform.cipher))
    return data["username"]
