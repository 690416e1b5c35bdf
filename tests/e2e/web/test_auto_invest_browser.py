"""Auto-invest in a real browser: an investor makes a rule through the form (a bad amount is
said next to its field first), a listing is published and the engine invests for them, and
the page shows the rule and the allocation; screenshots in both languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.investing import suitability
from biaodi.services.shared.tx import in_transaction
from factories import identity
from investing_support import AGGRESSIVE, deposit, published_listing

pytestmark = pytest.mark.browser
WORDS = {"zh-CN": ("自动投标设置", "正数金额", "启用中", "已出借"),
         "en": ("Auto-invest settings", "positive amount", "On", "Invested")}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_an_auto_invest_rule_through_the_pages(page: Any, site: str, platform: Platform,
                                               screenshots: Path, db_url: str,
                                               lang: str) -> None:
    link, bad_amount, on, invested = WORDS[lang]
    data = identity()
    user_id = in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**data, roles=("investor",)), platform.cipher)).id
    in_transaction(platform.uow, lambda uow: suitability.assess(uow, user_id, AGGRESSIVE))
    deposit(platform, user_id, 20_000)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": site}])
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.goto(site + "/login?next=/me")
    page.fill("#f-username", data["username"])
    page.fill("#f-password", data["password"])
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me")
    page.click(f"text={link}")
    page.wait_for_url("**/me/auto-invest")
    page.click("a[href='/me/auto-invest/new']")
    page.fill("#f-amount_per_listing", "abc")
    page.fill("#f-min_rate", "8")
    page.select_option("#f-best_grade", "E")
    page.select_option("#f-worst_grade", "C")
    page.check("input[name=kinds][value=credit]")
    page.click("main form button[type=submit]")
    assert bad_amount in page.inner_text("#e-amount_per_listing")
    assert page.locator("#e-best_grade").count() == 1  # E is worse than C
    assert page.input_value("#f-min_rate") == "8"  # nothing typed is lost
    assert page.input_value("#f-worst_grade") == "C"
    assert page.is_checked("input[name=kinds][value=credit]")
    page.screenshot(path=str(screenshots / f"auto-invest-errors-{lang}-{database}.png"),
                    full_page=True)
    page.fill("#f-amount_per_listing", "1000")
    page.select_option("#f-best_grade", "")  # the test listing has no grade
    page.select_option("#f-worst_grade", "")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me/auto-invest?done=saved*")
    assert on in page.inner_text("table.auto-rules")

    listing_id = published_listing(platform, platform.investing_rules, amount=10_000,
                                   rate="0.10")
    page.reload()
    line = page.locator(f"table.auto-log tr[data-listing='{listing_id}']")
    assert "¥1,000.00" in line.inner_text() and invested in line.inner_text()
    page.screenshot(path=str(screenshots / f"auto-invest-{lang}-{database}.png"),
                    full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.reload()
    page.screenshot(path=str(screenshots / f"auto-invest-phone-{lang}-{database}.png"),
                    full_page=True)
