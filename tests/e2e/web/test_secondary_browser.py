"""The secondary market in a real browser: a demo investor who holds part of the demo's funded
loan (消费贷 · 已满标示例, repaying) sells part of it from /me, a second demo investor finds it on
the board and buys part through the confirmation; screenshots of the board and the sale's page
in both languages. The holding period is set to 0 days: the demo loans start today."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from biaodi.bootstrap import Platform
from biaodi.services.demo.seed import PASSWORD

pytestmark = pytest.mark.browser
FUNDED = 6  # the demo's funded 信用标: 10,000 each from demo_investor and demo_investor1


def _sign_in(page: Any, site: str, username: str, target: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{site}/login?next={target}")
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**{target}")


def test_one_investor_sells_and_another_buys(page: Any, site: str, platform: Platform,
                                            screenshots: Path, db_url: str) -> None:
    platform.settings = platform.settings.model_copy(update={"secondary_holding_days": 0})
    database = "postgres" if db_url.startswith("postgres") else "sqlite"

    _sign_in(page, site, "demo_investor", "/me")
    row = page.locator("table.holdings tbody tr", has_text="消费贷")
    row.locator("a.sell").click()
    page.wait_for_url("**/me/holdings/*/sell")
    assert page.inner_text("#fair-value").startswith("¥10,000")
    assert "¥" in page.inner_text("#range")
    page.fill("#f-premium", "9")  # above the 5 % guardrail: refused in words
    page.click("#quote")
    page.wait_for_url("**premium=9*")
    assert "溢价不得超过公允价值的 5.00%" in page.inner_text("#e-premium")
    page.fill("#f-premium", "-1")  # grade C: at 1 % off, the buyer's yield after the
    page.fill("#f-principal", "5000")  # grade's expected loss would be negative
    page.click("#quote")
    page.wait_for_url("**premium=-1*")
    assert "收益为负" in page.inner_text("#e-premium")
    page.fill("#f-premium", "-10")
    page.click("#quote")
    page.wait_for_url("**premium=-10*")
    assert page.inner_text("#confirm-principal") == "¥5,000.00"
    page.click("#confirm")
    page.wait_for_url("**/me/market?offered=*")
    assert "已挂牌" in page.inner_text("#done")
    sale_id = re.search(r"offered=(\d+)", page.url).group(1)

    _sign_in(page, site, "demo_investor2", "/me")
    page.click("nav >> text=债权转让")
    page.wait_for_url("**/market")
    card = page.locator(f"article[data-sale='{sale_id}']")
    assert "¥5,000.00" in card.inner_text() and "-10.00%" in card.inner_text()
    card.locator("h2 a").click()
    page.wait_for_url(f"**/market/sales/{sale_id}")
    assert page.locator("#instalments tbody tr").count() == 6
    page.fill("#f-buy-principal", "2000")
    page.click("#buy")
    page.wait_for_url(f"**/market/sales/{sale_id}/buy?principal=2000")
    assert page.inner_text("#confirm-principal") == "¥2,000.00"
    price = page.inner_text("#confirm-price")
    page.click("#confirm")
    page.wait_for_url("**/me/market?bought=*")
    assert f"支付 {price}" in page.inner_text("#done")
    assert page.locator("table.my-purchases tbody tr").count() == 1
    page.goto(site + "/me")
    assert page.locator("table.holdings tbody tr", has_text="消费贷").count() == 1

    for lang in ("zh-CN", "en"):
        page.context.add_cookies([{"name": "lang", "value": lang, "url": site}])
        for name, path in (("market-board", "/market"),
                           ("market-sale", f"/market/sales/{sale_id}"),
                           ("market-buy", f"/market/sales/{sale_id}/buy?principal=1000"),
                           ("market-mine", "/me/market")):
            response = page.goto(site + path)
            assert response.status == 200, path
            assert page.locator("html").get_attribute("lang") == lang
            page.screenshot(path=str(screenshots / f"{name}-{lang}-{database}.png"),
                            full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(site + "/market")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
