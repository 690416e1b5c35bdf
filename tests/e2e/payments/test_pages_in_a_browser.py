"""The sandbox's pay page and /docs in headless Chromium: a click on Pay books the deposit,
and the API reference renders with every request going to our own servers.
Run with `-m browser`; needs /usr/bin/chromium (Playwright drives it, no browser download)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from payment_support import Live

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def test_clicking_pay_books_the_deposit(live: Live, browser: Any) -> None:
    _, headers = live.register("investor")
    order = live.start("deposits", headers, "88.00")
    page = browser.new_page()
    page.goto(order["pay_url"])
    page.click("#pay")
    page.wait_for_selector("#outcome")
    assert page.inner_text("#status") == "succeeded"
    page.close()
    assert live.wallet(headers)["available"] == "88.00"


def test_docs_render_from_our_server_only(live: Live, browser: Any) -> None:
    base = str(live.http.base_url).rstrip("/")
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(base + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)  # operations rendered
    shown = page.locator(".opblock-summary-path").all_inner_texts()
    paths = [p.replace("\u200b", "") for p in shown]  # Swagger UI breaks paths with ZWSPs
    assert "/api/v1/payments/deposits" in paths
    page.close()
    assert requested and all(u.startswith(base + "/") for u in requested), requested
