"""The console's analytics in a real browser on the demo marketplace: the demo operator opens
the dashboards and Plotly (served from the installed package) draws the charts; the cohort
heatmap too; screenshots in both languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from biaodi.services.demo import seed as demo

pytestmark = pytest.mark.browser


def test_the_dashboards_draw_real_charts(page: Any, site: str, screenshots: Path,
                                         db_url: str) -> None:
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.goto(site + "/login?next=/operator/analytics")
    page.fill("#f-username", "demo_operator")
    page.fill("#f-password", demo.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/operator/analytics")
    page.wait_for_selector("#chart-dau.drawn")  # charts.js marks a chart Plotly has drawn
    # the daily active investors: the demo's investments were made today
    assert page.locator("#chart-dau .main-svg .scatterlayer .trace").count() == 1
    assert page.locator("#chart-volume .main-svg .barlayer").count() == 1
    page.screenshot(path=str(screenshots / f"operator-analytics-zh-CN-{database}.png"),
                    full_page=True)
    page.click("nav.dash-tabs >> text=留存")
    page.wait_for_selector("#chart-cohorts.drawn")
    assert page.locator("#chart-cohorts .heatmaplayer image, #chart-cohorts .hm").count() >= 1
    page.context.add_cookies([{"name": "lang", "value": "en", "url": site}])
    page.reload()
    page.wait_for_selector("#chart-cohorts.drawn")
    assert "Monthly cohort retention" in page.inner_text("main")
    page.screenshot(path=str(screenshots / f"operator-analytics-cohorts-en-{database}.png"),
                    full_page=True)
