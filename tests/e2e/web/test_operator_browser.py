"""The operator console in a real browser, on the demo marketplace plus one application
waiting for review: the demo operator signs in, approves and publishes it, runs close of
business for today and sees the run, and opens the payment exceptions; with screenshots of
the console's pages in both languages (default handling and guarantors on loans taken past
M3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.gateway.protocol import StatementLine, TxnType
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.demo import seed as demo
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings.lifecycle import CreateListing
from biaodi.services.payments import reconciliation
from biaodi.services.shared.tx import in_transaction
from factories import identity
from payment_support import free_port, serve
from risk_support import application, apply, env, register_borrower
from servicing_support import due_dates, funded_loan, run_close, set_day

pytestmark = pytest.mark.browser
TITLE = "门店扩张 · 待审核"


@pytest.fixture
def console(platform: Platform) -> Iterator[tuple[str, int]]:
    """The demo marketplace with a new borrower's listing waiting for review and a payment
    exception from reconciliation, served on a free port: (base URL, listing id)."""
    risk_env = env(platform)
    in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher,
                                                       platform.investing_rules, risk_env))
    borrower, person = register_borrower(platform)
    decision = apply(platform, borrower, application(person), risk_env)
    rate = Decimal(decision["rate_band"]["min"]) / 100
    cmd = CreateListing("credit", TITLE, Money.yuan(20_000), rate, 12, "month",
                        "equal_installment")
    rules = platform.listing_rules

    def submit(uow):  # type: ignore[no-untyped-def]
        listing = listings.create_listing(uow, cmd, applicant_id=borrower, rules=rules)
        listings.submit(uow, listing.id, actor_id=borrower, rules=rules)
        return listing.id

    listing_id = in_transaction(platform.uow, submit)
    stray = StatementLine("TDEMO1", "D-UNKNOWN", TxnType.DEPOSIT, Money(88_00), "pos",
                          platform.clock.now())
    in_transaction(platform.uow, lambda uow: reconciliation.reconcile(
        uow, platform.clock.today(), [stray]))
    with serve(create_app(platform), free_port()) as base:
        yield base, listing_id


def sign_in(page: Any, site: str) -> None:
    page.goto(site + "/login?next=/operator")
    page.fill("#f-username", "demo_operator")
    page.fill("#f-password", demo.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/operator")


def test_the_operator_journey(page: Any, console: tuple[str, int], screenshots: Path,
                              db_url: str) -> None:
    site, listing_id = console
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    sign_in(page, site)
    row = page.locator(f"tr[data-listing='{listing_id}']")
    assert TITLE in row.inner_text()
    row.locator("a").click()
    page.wait_for_url(f"**/operator/listings/{listing_id}")
    assert "申请人的风控结论" in page.inner_text("#risk")
    page.fill("#approve-reason", "资料齐全，风控通过")
    page.click("#approve")
    page.wait_for_load_state()
    page.wait_for_url(re.compile(r"done=approved$"))
    assert "已审核通过" in page.inner_text("main")
    page.click("#publish")
    page.wait_for_url(re.compile(r"done=published$"))
    assert "已发布" in page.inner_text("main") and "募集中" in page.inner_text("#status")
    page.click("nav.op-tabs >> text=日终批处理")
    page.wait_for_url("**/operator/close-day")
    page.click("#run-close-day")
    page.wait_for_load_state()
    today = page.locator("details.op-run").first
    assert "已完成" in today.inner_text() and "close_funding" in today.inner_text()
    page.screenshot(path=str(screenshots / f"operator-close-day-zh-CN-{database}.png"),
                    full_page=True)
    page.click("nav.op-tabs >> text=支付异常")
    page.wait_for_url("**/operator/payments/exceptions")
    assert "对账单有、账务无" in page.inner_text("main")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_screenshots_of_the_console(page: Any, console: tuple[str, int], screenshots: Path,
                                    db_url: str, lang: str) -> None:
    site, listing_id = console
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    sign_in(page, site)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": site}])
    for name, path in (("operator-queue", "/operator"),
                       ("operator-review", f"/operator/listings/{listing_id}"),
                       ("operator-collateral", "/operator/listings/2"),
                       ("operator-loans", "/operator/loans?bucket=all"),
                       ("operator-exceptions", "/operator/payments/exceptions"),
                       ("operator-blacklist", "/operator/risk/blacklist")):
        response = page.goto(site + path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == lang
        page.screenshot(path=str(screenshots / f"{name}-{lang}-{database}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(site + f"/operator/listings/{listing_id}")
    page.screenshot(path=str(screenshots / f"operator-review-phone-{lang}-{database}.png"),
                    full_page=True)


@pytest.fixture
def defaults_console(platform: Platform, clock: FixedClock) -> Iterator[tuple[str, dict]]:
    """A 信用标, a 抵押标 and a 担保标 closed past M3 (written off, in disposal, compensated),
    and an operator, served on a free port: (base URL, the operator's sign-in)."""
    loans = [funded_loan(platform, kind, term=1) for kind in ("credit", "collateral",
                                                               "guarantee")]
    past_m3 = due_dates(platform, loans[0].listing_id)[0] + timedelta(days=92)
    set_day(clock, past_m3)
    run_close(platform, past_m3)
    person = identity()
    in_transaction(platform.uow, lambda uow: users.create_staff(
        uow, users.Register(**person, roles=("operator",)), platform.cipher))
    with serve(create_app(platform), free_port()) as base:
        yield base, person


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_screenshots_of_defaults_and_guarantors(page: Any, defaults_console: tuple[str, dict],
                                                screenshots: Path, db_url: str,
                                                lang: str) -> None:
    site, person = defaults_console
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.context.add_cookies([{"name": "lang", "value": lang, "url": site}])
    page.goto(site + "/login?next=/operator/defaults")
    page.fill("#f-username", person["username"])
    page.fill("#f-password", person["password"])
    page.click("main form button[type=submit]")
    page.wait_for_url("**/operator/defaults")
    assert page.locator("section.op-default").count() == 3
    for name, path in (("operator-defaults", "/operator/defaults"),
                       ("operator-guarantors", "/operator/guarantors")):
        response = page.goto(site + path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == lang
        page.screenshot(path=str(screenshots / f"{name}-{lang}-{database}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(site + "/operator/defaults")
    page.screenshot(path=str(screenshots / f"operator-defaults-phone-{lang}-{database}.png"),
                    full_page=True)
