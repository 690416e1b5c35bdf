"""The investor in a real browser: sign up, take the questionnaire, invest in a demo listing
through the confirmation, and find the holding on /me; screenshots of the investor's pages in
both languages. The wallet is funded by a test helper (a ledger deposit): the browser fixture
runs no sandbox gateway, so the deposit page is shown but not paid through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from biaodi.adapters.db.tables import User
from biaodi.bootstrap import Platform
from factories import identity
from investing_support import deposit

pytestmark = pytest.mark.browser
TRANSFER = 5  # the demo's 流转标: a subscription settles at once into a holding


def _sign_up(page: Any, site: str) -> str:
    data = identity()
    page.goto(site + "/signup")
    page.check("input[name=role][value=investor]")
    for name in ("username", "password", "real_name", "id_number", "mobile"):
        page.fill(f"#f-{name}", data[name])
    page.click("form button[type=submit]")
    page.wait_for_url(site + "/")
    return data["username"]


def _fund(platform: Platform, username: str, yuan: int) -> None:
    with platform.uow() as uow:
        user_id = uow.s.scalars(select(User.id).where(User.username == username)).one()
    deposit(platform, user_id, yuan)


def test_the_investor_journey(page: Any, site: str, platform: Platform, screenshots: Path,
                              db_url: str) -> None:
    username = _sign_up(page, site)
    _fund(platform, username, 20_000)
    page.click("nav >> text=我的出借")
    page.wait_for_url("**/me")
    assert "¥20,000.00" in page.inner_text("#available")
    assert "尚未测评" in page.inner_text("#level")
    page.click("main a[href='/me/assessment']")
    for question in ("age", "income", "experience", "horizon", "loss_tolerance",
                     "share_of_assets"):
        page.check(f"input[name={question}][value='3']")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me/assessment")
    assert "进取型" in page.inner_text("#level")
    page.goto(f"{site}/listings/{TRANSFER}")
    page.fill("#f-invest-amount", "1000")
    page.click("#invest")
    page.wait_for_url(f"**/listings/{TRANSFER}/invest?amount=1000")
    assert page.inner_text("#confirm-amount") == "¥1,000.00"
    assert page.inner_text("#expected-interest").startswith("¥")
    assert page.inner_text("#listing-level").startswith("R")
    page.click("#confirm")
    page.wait_for_url("**/me?invested=*")
    assert "出借成功" in page.inner_text("#invested")
    holdings = page.locator("table.holdings tbody tr")
    assert holdings.count() == 1 and "流转标" in holdings.first.inner_text()
    assert "¥19,000.00" in page.inner_text("#available")
    page.wait_for_selector("#cashflow.drawn")  # Plotly drew the figure embedded in the page
    assert page.locator("#cashflow g.trace.bars").count() == 2  # principal and interest
    drawn = "document.getElementById('cashflow').data[0].y.filter(Boolean).length"
    assert page.evaluate(drawn) == 1  # a bullet in 6 months


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_screenshots_of_the_investor_pages(page: Any, site: str, platform: Platform,
                                           screenshots: Path, db_url: str, lang: str) -> None:
    username = _sign_up(page, site)
    _fund(platform, username, 20_000)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": site}])
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.goto(site + "/me/assessment")
    for question in ("age", "income", "experience", "horizon", "loss_tolerance",
                     "share_of_assets"):
        page.check(f"input[name={question}][value='3']")
    page.screenshot(path=str(screenshots / f"investor-assessment-{lang}-{database}.png"),
                    full_page=True)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me/assessment")
    page.goto(f"{site}/listings/{TRANSFER}/invest?amount=1000")
    page.click("#confirm")
    page.wait_for_url("**/me?invested=*")
    shots = (("investor-me", "/me"), ("investor-invest", "/listings/1/invest?amount=1000"),
             ("investor-refusal", "/listings/2/invest?amount=200000"),
             ("investor-deposit", "/me/deposit"), ("investor-withdraw", "/me/withdraw"))
    for name, path in shots:
        response = page.goto(site + path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == lang
        page.screenshot(path=str(screenshots / f"{name}-{lang}-{database}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site + "/me")
    page.screenshot(path=str(screenshots / f"investor-me-phone-{lang}-{database}.png"),
                    full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
