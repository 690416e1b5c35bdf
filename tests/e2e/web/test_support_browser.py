"""Customer service in a real browser on the demo marketplace: the demo investor opens a ticket
from the help centre and reads it back, then its documents page; screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from biaodi.services.demo import seed as demo

pytestmark = pytest.mark.browser


def test_open_a_ticket_and_see_documents(page: Any, site: str, screenshots: Path,
                                         db_url: str) -> None:
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.goto(site + "/login?next=/support")
    page.fill("#f-username", "demo_investor")
    page.fill("#f-password", demo.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/support")
    page.select_option("#f-category", "repayment")
    page.fill("#f-subject", "第一期还款日")
    page.fill("#f-body", "请问第一期什么时候还款？")
    page.click("#ticket-form button[type=submit]")
    page.wait_for_url("**/support/tickets/*")
    assert page.get_attribute("#ticket-status", "data-status") == "open"
    assert "请问第一期什么时候还款？" in page.inner_text(".conversation")
    page.screenshot(path=str(screenshots / f"support-ticket-zh-CN-{database}.png"),
                    full_page=True)
    page.goto(site + "/me/documents")
    assert page.locator("#statement-form").count() == 1
    page.screenshot(path=str(screenshots / f"documents-zh-CN-{database}.png"), full_page=True)
