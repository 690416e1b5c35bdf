"""The borrower in a real browser: the demo borrower signs in, applies for credit and reads
the decision, drafts a listing after previewing every repayment method, submits it, then opens
the demo loan in repayment and repays what is due; a part early repayment (quote, then confirm)
and a house listing's offline steps in both languages; screenshots of the borrower's pages in
both languages."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import User
from biaodi.bootstrap import Platform
from biaodi.domain.accounts.identity import make_resident_id
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.services.demo import seed as demo
from biaodi.services.listings import lifecycle
from biaodi.services.listings.security import AssetInput, SecurityInput
from biaodi.services.risk import applications as risk
from biaodi.services.shared.tx import in_transaction
from servicing_support import balance, due_dates, move, pay_in, run_close, set_day

pytestmark = pytest.mark.browser
DEMO_N = 3  # 张借款, demo_borrower


def _sign_in(page: Any, site: str, target: str) -> None:
    page.goto(f"{site}/login?next={target}")
    page.fill("#f-username", "demo_borrower")
    page.fill("#f-password", demo.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{target}")


def _shot(page: Any, screenshots: Path, name: str, db_url: str) -> None:
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    lang = page.locator("html").get_attribute("lang")
    page.screenshot(path=str(screenshots / f"borrower-{name}-{lang}-{database}.png"),
                    full_page=True)


def _apply(page: Any) -> None:
    born = date(1985, 1 + DEMO_N % 12, 1 + DEMO_N)
    page.fill("#f-id_number", make_resident_id("310101", born, 100 + DEMO_N))
    page.fill("#f-declared_age", "41")
    page.fill("#f-province", "上海")
    page.fill("#f-mobile", f"139{DEMO_N:08d}")
    body = f"622848{DEMO_N:09d}"
    from biaodi.domain.risk.consistency import luhn_ok
    page.fill("#f-bank_card", next(body + str(d) for d in range(10) if luhn_ok(body + str(d))))
    page.fill("#f-monthly_income", "30000")
    page.fill("#f-employment_years", "10")
    page.select_option("#f-marital_status", "married")
    page.fill("#f-monthly_expenses", "6000")
    page.fill("#f-assets", "570000")
    page.select_option("#f-purpose", "business")
    page.fill("#f-amount", "8000")
    page.fill("#f-term_months", "12")
    page.click("form.grid-form button[type=submit]")
    page.wait_for_url("**/borrow/applications/*")


def test_the_borrower_journey(page: Any, site: str, platform: Platform, screenshots: Path,
                              db_url: str) -> None:
    _sign_in(page, site, "/borrow")
    _shot(page, screenshots, "dashboard", db_url)
    page.click("a[href='/borrow/apply']")
    page.wait_for_url("**/borrow/apply")
    _shot(page, screenshots, "apply", db_url)
    _apply(page)
    decision = page.inner_text("#decision")
    assert "已通过" in decision and "主要影响因素" in decision, decision
    _shot(page, screenshots, "decision", db_url)

    page.click("a[href='/borrow/listings/new']")
    band = re.search(r"可用年利率区间 ([\d.]+)%", page.inner_text("main"))
    assert band
    page.select_option("#f-kind", "collateral")
    page.fill("#f-title", "车辆抵押 · 备货")
    page.fill("#f-amount", "5000")
    page.fill("#f-annual_rate", band.group(1))
    page.fill("#f-term", "6")
    page.select_option("#f-repayment_method", "interest_first")
    page.select_option("[id='f-assets.0.asset_class']", "car")
    page.fill("[id='f-assets.0.appraisal_value']", "60000")
    page.fill("[id='f-assets.0.appraised_on']", "2026-11-20")
    page.fill("[id='f-assets.0.appraiser']", "车易估")
    page.fill("[id='f-assets.0.plate_number']", "沪B·C6789")
    page.fill("[id='f-assets.0.registration_certificate_no']", "310098765432")
    page.click("button[value=preview]")
    page.wait_for_selector("#preview")
    chosen = page.locator("details.option").first
    assert chosen.get_attribute("data-method") == "interest_first"
    assert "符合规则" in chosen.inner_text(), chosen.inner_text()
    assert page.locator("details.option").count() == 4
    _shot(page, screenshots, "preview", db_url)
    page.click("button[value=create]")
    page.wait_for_url(re.compile(r".*/borrow/listings/\d+$"))
    assert "草稿" in page.inner_text("#status")
    page.click("text=提交审核")
    page.wait_for_selector("text=已提交审核")
    assert "待审核" in page.inner_text("#status")

    page.goto(site + "/borrow")
    loans = page.locator("#loans li a")
    if loans.count() == 0:  # the demo has no loan in repayment: nothing more to do
        return
    href = loans.first.get_attribute("href")
    assert href
    listing_id = int(href.rsplit("/", 1)[1])
    first_due = due_dates(platform, listing_id)[0]
    if not first_due:
        return
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    # the borrower spent the loan, so the close of business a month later finds nothing to
    # collect and leaves the first instalment due; then money comes in to repay it
    with platform.reader() as uow:
        borrower = uow.s.execute(select(User.id).where(
            User.username == "demo_borrower")).scalar_one()
    code = wallet(OwnerKind.BORROWER, borrower).code
    spent = balance(platform, code)
    move(platform, code, "custody:cash", spent)
    set_day(clock, first_due)
    run_close(platform, first_due)
    pay_in(platform, code, spent)
    _sign_in(page, site, href)  # the session of a month ago has expired
    due = page.input_value("#f-amount")
    assert float(due) > 0
    _shot(page, screenshots, "loan", db_url)
    page.click("#repay button[type=submit]")
    page.wait_for_selector("#paid")
    assert f"还款成功：¥{float(due):,.2f}" in page.inner_text("#paid")
    assert page.input_value("#f-amount") == "0.00"


@pytest.mark.parametrize("lang", ["en"])
def test_screenshots_of_the_borrower_pages_in_english(page: Any, site: str, screenshots: Path,
                                                       db_url: str, lang: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": lang, "url": site}])
    _sign_in(page, site, "/borrow")
    for name, path in (("dashboard", "/borrow"), ("apply", "/borrow/apply"),
                       ("new-listing", "/borrow/listings/new"), ("loan", "/borrow/loans/6")):
        response = page.goto(site + path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == lang
        _shot(page, screenshots, name, db_url)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(site + "/borrow/loans/6")
    _shot(page, screenshots, "loan-phone", db_url)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _house_draft(platform: Platform) -> int:
    """A house-mortgage draft of the demo borrower with its contract signed offline, as an
    operator records it."""
    today = platform.clock.today()
    with platform.reader() as uow:
        ids = dict(uow.s.execute(select(User.username, User.id).where(User.username.in_(
            ("demo_borrower", "demo_operator")))).all())
        band = risk.latest_decision(uow, ids["demo_borrower"])["rate_band"]  # type: ignore[index]
    house = AssetInput("house", Money.yuan(1_500_000), today - timedelta(days=4),
                       "上海同信房地产估价有限公司", "徐汇区三居室")
    cmd = lifecycle.CreateListing("collateral", "房产抵押 · 经营周转", Money.yuan(8_000),
                                  Decimal(band["min"]) / 100, 12, "month", "equal_installment",
                                  security=SecurityInput(assets=(house,)))

    return int(in_transaction(platform.uow, lambda uow: lifecycle.create_listing(
        uow, cmd, applicant_id=ids["demo_borrower"], rules=platform.listing_rules).id))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_part_early_repayment_and_offline_steps(page: Any, site: str, platform: Platform,
                                                 screenshots: Path, db_url: str,
                                                 lang: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": lang, "url": site}])
    listing_id = _house_draft(platform)
    _sign_in(page, site, f"/borrow/listings/{listing_id}")
    house = page.locator("#o2o table.o2o-steps").first
    asset_id = int(house.get_attribute("data-asset") or 0)
    assert house.locator("tr.pending").count() == 3  # contract, notarisation, registration
    with platform.reader() as uow:
        operator = uow.s.execute(select(User.id).where(
            User.username == "demo_operator")).scalar_one()
    in_transaction(platform.uow, lambda uow: lifecycle.record_offline_step(
        uow, listing_id, asset_id, step="signed_contract", done_on=platform.clock.today(),
        reference="HT-2026-0042", operator_id=operator))
    page.reload()
    house = page.locator("#o2o table.o2o-steps").first
    assert house.locator("tr.done[data-step='signed_contract']").count() == 1
    needs = page.inner_text("#o2o-needs")
    assert ("抵押登记" if lang == "zh-CN" else "Mortgage registration") in needs, needs
    assert page.locator("#o2o form").count() == 0  # read only
    _shot(page, screenshots, "listing-o2o", db_url)

    page.goto(f"{site}/borrow/loans/6")
    before = page.inner_text("main")
    page.fill("#f-principal", "2000")
    page.check("input[name=reamortise][value=shorter_term]")
    page.click("#prepay button[type=submit]")
    page.wait_for_selector("#prepay-quote")
    assert page.inner_text("#quote-charge") == "¥0.00"
    assert page.inner_text("main") != before
    _shot(page, screenshots, "loan-prepay", db_url)
    page.click("#prepay-confirm button[type=submit]")
    page.wait_for_selector("#paid")
    paid = page.inner_text("#paid")
    assert ("本金 ¥2,000.00" if lang == "zh-CN" else "principal ¥2,000.00") in paid, paid
