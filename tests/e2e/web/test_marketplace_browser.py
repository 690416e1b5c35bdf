"""The marketplace in a real browser: the board, a filter, a listing's page and the language
switch, the funding bar following another investor without a reload, with screenshots of the
main pages in both languages."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from biaodi.bootstrap import Platform
from investing_support import invest, investor

pytestmark = pytest.mark.browser


def test_the_marketplace_journey(page: Any, site: str, screenshots: Path, db_url: str) -> None:
    page.goto(site + "/")
    assert page.locator("article.listing").count() == 5
    page.select_option("#f-kind", "collateral")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/listings?*kind=collateral*")
    cards = page.locator("article.listing")
    assert cards.count() == 2
    assert "抵押率" in cards.first.inner_text()
    cards.filter(has_text="房产抵押").locator("h2 a").click()
    page.wait_for_url("**/listings/2")
    assert "抵押率（借款金额/评估价值）30%" in page.inner_text("main")
    assert page.locator("table.schedule tbody tr").count() == 24  # 24 monthly instalments
    page.click("a[lang=en]")
    page.wait_for_load_state()
    assert page.url.endswith("/listings/2")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Loan-to-value (amount / appraised value) 30%" in page.inner_text("main")
    page.click("text=Back to the board")
    page.wait_for_url("**/listings")
    assert "Marketplace" in page.inner_text("h1")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_screenshots_of_the_main_pages(page: Any, site: str, screenshots: Path, db_url: str,
                                       lang: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": lang, "url": site}])
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    for name, path in (("board", "/"), ("listing-guarantee", "/listings/4"),
                       ("listing-transfer", "/listings/5"), ("signup", "/signup"),
                       ("login", "/login")):
        response = page.goto(site + path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == lang
        page.screenshot(path=str(screenshots / f"{name}-{lang}-{database}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(site + "/")
    page.screenshot(path=str(screenshots / f"board-phone-{lang}-{database}.png"), full_page=True)
    # the board must not scroll sideways on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_funding_bar_follows_other_investors_without_a_reload(
        page: Any, site: str, platform: Platform, db_url: str) -> None:
    platform.settings.web_progress_poll_ms = 300  # the page polls every 0.3 s in this test
    page.goto(site + "/listings/1")
    bar = page.locator("#progress")
    assert bar.get_attribute("data-interval") == "300"
    remaining, funded = page.inner_text("#remaining"), bar.get_attribute("aria-valuenow")
    page.evaluate("window.notReloaded = true")
    someone = investor(platform, 50_000)  # another investor, through the service
    invest(platform, platform.investing_rules, 1, someone, 5_000)
    page.wait_for_function(
        "before => document.getElementById('remaining').textContent !== before", arg=remaining)
    after = Decimal(page.inner_text("#remaining").lstrip("¥").replace(",", ""))
    assert after == Decimal(remaining.lstrip("¥").replace(",", "")) - 5_000
    assert Decimal(bar.get_attribute("aria-valuenow") or 0) > Decimal(funded or 0)
    assert page.evaluate("window.notReloaded") is True  # the same page, never reloaded
