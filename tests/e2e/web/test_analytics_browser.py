"""The console's analytics in a real browser on the demo marketplace: the demo operator opens
the dashboards and Plotly (served from the installed package) draws the charts; the cohort
heatmap too; screenshots in both languages. And the monthly report's HTML file, opened from
disk with every network request refused, draws its charts all the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.services.demo import seed as demo
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from risk_support import env

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


def test_the_report_opens_offline(page: Any, platform: Platform, db_url: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch, screenshots: Path) -> None:
    in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher,
                                                       platform.investing_rules, env(platform)))
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", platform.clock.now().isoformat())
    month = platform.clock.today().strftime("%Y-%m")
    done = CliRunner().invoke(app, ["report", "--month", month, "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    asked: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            asked.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto((tmp_path / f"report-{month}.html").as_uri())
    page.wait_for_selector("#chart-dau.drawn")
    page.wait_for_selector("#chart-cohorts.drawn")
    assert page.locator(".chart.drawn").count() >= 6 and asked == []
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.screenshot(path=str(screenshots / f"report-zh-CN-{database}.png"), full_page=True)
