"""The console's disclosure pages in a real browser, on the demo marketplace: an operator
opens the 信息披露 tab, records a major event that the public /disclosure page then shows, and
a related party whose end comes before its start is refused next to the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from biaodi.bootstrap import Platform
from biaodi.services.demo import seed as demo

pytestmark = pytest.mark.browser


def test_an_operator_records_an_event_and_is_refused_a_backwards_relation(
        page: Any, site: str, platform: Platform, screenshots: Path, db_url: str) -> None:
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.goto(site + "/login?next=/operator")
    page.fill("#f-username", "demo_operator")
    page.fill("#f-password", demo.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/operator")
    page.click("nav.op-tabs >> text=信息披露")
    page.wait_for_url("**/operator/disclosure")
    page.select_option("#ev-kind", "custody_change")
    page.fill("#ev-title", "存管银行变更公告")
    page.fill("#ev-body", "资金存管银行自下月起变更。")
    page.click("form[data-form=event] button[type=submit]")
    page.wait_for_url("**/operator/disclosure?done=*")
    assert "存管银行变更公告" in page.inner_text(".disclosure-events")
    page.screenshot(path=str(screenshots / f"operator-disclosure-zh-CN-{database}.png"),
                    full_page=True)
    page.goto(site + "/disclosure")
    assert "存管银行变更公告" in page.inner_text("main")
    page.goto(site + "/operator/disclosure/related")
    page.fill("#rp-user_id", "1")
    page.fill("#rp-relation", "股东")
    page.fill("#rp-since", "2026-11-10")
    page.fill("#rp-until", "2026-11-01")
    page.click("form[data-form=add] button[type=submit]")
    error = page.locator("p.error[data-field=until]")
    assert error.inner_text() == "终止日不能早于起始日（2026-11-10）"
    page.screenshot(path=str(screenshots / f"operator-related-zh-CN-{database}.png"),
                    full_page=True)
