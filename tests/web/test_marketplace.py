"""The public marketplace pages on the demo marketplace: the board with its filters and
paging, a listing's page, the funding progress it polls, and drafts kept private."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.demo import seed as demo
from biaodi.services.shared.tx import in_transaction
from risk_support import env


@pytest.fixture
def seeded(platform: Platform) -> Platform:
    in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher,
                                                       platform.investing_rules, env(platform)))
    return platform


def listing_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-listing="(\d+)"', html)]


def test_the_board_shows_each_type_with_what_protects_the_investor(
        client: TestClient, seeded: Platform) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert len(listing_ids(html)) == 5  # the open ones; the funded one only under "all"
    for badge in ("信用标", "抵押标", "担保标", "流转标"):
        assert f">{badge}</span>" in html
    assert "无抵押、无担保" in html  # 信用标
    assert "抵押率 30%" in html  # 抵押标 with its loan-to-value
    assert "担保方剩余担保额度 ¥1,700,000.00" in html  # 担保标: 2,000,000 less 300,000
    assert "回购准备金覆盖其回购责任的 20%" in html  # 流转标
    assert "¥600,000.00" in html  # money with separators and two decimals
    client.cookies.set("lang", "en")
    english = client.get("/listings").text
    assert "loan-to-value of 30%" in english and "guarantee capacity" in english


def test_the_board_filters_and_pages(client: TestClient, seeded: Platform) -> None:
    collateral = client.get("/listings", params={"kind": "collateral"}).text
    assert len(listing_ids(collateral)) == 2
    house = client.get("/listings", params={"collateral_class": "house"}).text
    assert len(listing_ids(house)) == 1 and "房产抵押" in house
    grade_a = listing_ids(client.get("/listings", params={"grade": "A"}).text)
    assert len(grade_a) == 2
    big = client.get("/listings", params={"min_remaining": "150000"}).text
    assert len(listing_ids(big)) == 2  # 600,000 and 200,000 remaining
    everything = client.get("/listings", params={"status": "all"}).text
    assert len(listing_ids(everything)) == 6 and "还款中" in everything
    bad = client.get("/listings", params={"min_rate": "lots", "kind": "credit"})
    assert bad.status_code == 200 and 'data-field="min_rate"' in bad.text
    assert len(listing_ids(bad.text)) == 1  # the bad filter is ignored, the good one kept
    sorted_ids = listing_ids(client.get("/listings", params={"sort": "-remaining"}).text)
    assert sorted_ids[0] == 2  # 600,000 remaining first


def test_the_board_pages_twelve_at_a_time(client: TestClient, seeded: Platform,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from biaodi.web.routes import marketplace

    monkeypatch.setattr(marketplace, "PAGE_SIZE", 2)
    first = client.get("/listings", params={"status": "all"}).text
    assert "第 1 / 3 页" in first and 'href="/listings?status=all&amp;page=2"' in first
    third = client.get("/listings", params={"status": "all", "page": 3}).text
    assert len(listing_ids(third)) == 2 and 'rel="next"' not in third


def test_a_listing_page_shows_the_schedule_fees_security_and_history(
        client: TestClient, seeded: Platform) -> None:
    page = client.get("/listings/4")  # 担保标
    assert page.status_code == 200
    html = page.text
    assert "中诚担保有限公司" in html and "代偿" in html  # risk label: compensation
    assert "借款人综合年化成本" in html and "担保费年费率" in html
    assert html.count("<tr><td>") == 12  # 12 monthly instalments in the preview
    assert "标的历程" in html and "/static/progress.js" in html
    assert 'id="progress"' in html and "已投 33.33%" in html
    instant_or_transfer = client.get("/listings/5").text
    assert "原债权人承诺到期回购" in instant_or_transfer
    progress = client.get("/listings/4/progress.json").json()
    assert progress == {"id": 4, "status": "published", "amount": "300000.00",
                        "remaining": "200000.00", "funded_percent": "33.33"}


def test_drafts_and_unknown_listings_are_404(client: TestClient, seeded: Platform) -> None:
    from biaodi.adapters.db.tables import Listing

    with seeded.uow() as uow:
        listing = uow.s.get(Listing, 1)
        listing.status = "draft"
        uow.commit()
    assert client.get("/listings/1").status_code == 404
    assert "页面不存在" in client.get("/listings/999").text
    huge = client.get("/listings/99999999999999999999")  # too large for a database id
    assert huge.status_code == 404 and "页面不存在" in huge.text
    bad_page = client.get("/listings", params={"page": "99999999999999999999"})
    assert bad_page.status_code == 400 and "请求有误" in bad_page.text
    assert client.get("/listings/1/progress.json").status_code == 404
    assert 1 not in listing_ids(client.get("/listings", params={"status": "all"}).text)
