"""Fixtures for the browser tests: the system Chromium driven by Playwright, and the platform
served by a real uvicorn server on the test's database (SQLite, and PostgreSQL when
BIAODI_TEST_POSTGRES_URL is set) with the demo marketplace."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.services.demo import seed as demo
from biaodi.services.shared.tx import in_transaction
from payment_support import free_port, serve
from risk_support import env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
NO_CHROMIUM = ("Chromium is missing at /usr/bin/chromium: "
               "apt-get update && apt-get install -y chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="pip install -e '.[test]' installs playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(platform: Platform) -> Iterator[str]:
    """The platform with the demo marketplace, served on a free 127.0.0.1 port."""
    in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher,
                                                       platform.investing_rules, env(platform)))
    with serve(create_app(platform), free_port()) as base:
        yield base


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where screenshots go: $BIAODI_SCREENSHOTS, or tests/e2e/web/screenshots (git-ignored)."""
    folder = Path(os.environ.get("BIAODI_SCREENSHOTS") or Path(__file__).parent / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
