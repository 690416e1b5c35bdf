"""The public disclosure page in a real browser: after close of business has published
November's report on the demo marketplace, /disclosure draws its chart with Plotly (served
from the installed package) and links the report, whose figures stand beside their
formulas."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from biaodi.bootstrap import Platform
from biaodi.services.servicing.close_day import close_day

pytestmark = pytest.mark.browser


def test_the_disclosure_page_draws_a_real_chart(page: Any, site: str, platform: Platform,
                                                screenshots: Path, db_url: str) -> None:
    platform.clock.set(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    close_day(platform.close_day_command(), date(2026, 11, 30))
    page.goto(site + "/disclosure")
    page.wait_for_selector("#disclosure-balances.drawn")  # charts.js marks a drawn chart
    assert page.locator("#disclosure-balances .main-svg .barlayer .trace").count() == 2
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.screenshot(path=str(screenshots / f"disclosure-zh-CN-{database}.png"), full_page=True)
    page.click("#reports a[href='/disclosure/reports/2026-11']")
    page.wait_for_url("**/disclosure/reports/2026-11")
    assert "借贷余额" in page.inner_text("#figures")
    assert "Σ d 日在贷借款的未还本金" in page.inner_text("#figures")
