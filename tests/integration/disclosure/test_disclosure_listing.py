"""Per-listing disclosure on a hand-built book, on SQLite and PostgreSQL: the borrower's items
before an investor commits, and the post-loan updates after funding.

- `priced`: a 信用标 whose borrower has a risk application on file (decided the day before the
  listing was created) declaring 18,000.00 of monthly income, 50,000.00 of debts (2,000.00 a
  month), 8,000.00 owed on other platforms, no arrears; the bureau found 1 default elsewhere;
  funded on 2026-11-28;
- `override`: a 担保标 approved by an operator's override (no application), funded the same day.
The first 3-month period ends 2027-02-28; its update is due five working days later,
2027-03-05.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.services.disclosure import listing
from biaodi.services.shared.tx import in_transaction
from disclosure_support import decided
from investing_support import published_listing, user
from servicing_support import INVESTING, Loan, funded_loan, run_close

ITEMS = {"funds_use": "用于装修", "finances": "收入稳定", "repayment_ability": "无变化",
         "overdue": "无", "litigation": "无"}


@dataclass
class Book:
    priced: Loan
    override: Loan
    open_listing: int
    operator: int


@pytest.fixture(scope="module")
def book(book_platform: Platform) -> Book:
    platform = book_platform
    borrower = user(platform, "borrower")
    decided(platform, borrower, grade="B", pd_ppm=45_000, expected_ppm=50_000,
            at=platform.clock.now() - timedelta(days=1), purpose="home_improvement",
            income_fen=1_800_000,
            data={"employment_type": "permanent", "debts": "50000.00",
                  "monthly_debt_payments": "2000.00", "has_arrears_record": False,
                  "other_platform_borrowings": "8000.00", "bureau_other_platforms": "8000.00"},
            inputs={"other_platform_defaults": 1})
    priced = funded_loan(platform, "credit", applicant=borrower)
    override = funded_loan(platform, "guarantee")
    open_listing = published_listing(platform, INVESTING, amount=10_000, rate="0.06", term=3)
    run_close(platform, platform.clock.today())
    return Book(priced, override, open_listing, user(platform, "operator"))


def _at(platform: Platform, day: date) -> None:
    platform.clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


def _read(platform: Platform, listing_id: int) -> dict:  # type: ignore[type-arg]
    with platform.reader() as uow:
        return listing.disclosure(uow, listing_id)


def test_a_priced_listing_shows_the_borrower_s_declared_items(book_platform: Platform,
                                                              book: Book) -> None:
    found = _read(book_platform, book.priced.listing_id)["borrower"]
    assert found["name"].endswith("*") and len(found["name"]) >= 2
    assert "*" * 11 in found["id_number"]
    assert {k: found[k] for k in (
        "assessed", "borrower_type", "occupation", "monthly_income", "debts",
        "monthly_debt_payments", "credit_report_overdues_6m", "other_platform_borrowings",
        "purpose", "amount", "term", "term_unit", "repayment_method", "annual_rate",
        "interest_start", "repayment_source")} == {
        "assessed": True, "borrower_type": "natural", "occupation": "permanent",
        "monthly_income": "18000.00", "debts": "50000.00", "monthly_debt_payments": "2000.00",
        "credit_report_overdues_6m": {"declared_arrears": False, "bureau_defaults": 1},
        "other_platform_borrowings": {"declared": "8000.00", "bureau": "8000.00"},
        "purpose": "home_improvement", "amount": "10000.00", "term": 3, "term_unit": "month",
        "repayment_method": "equal_installment", "annual_rate": "6%",
        "interest_start": "2026-11-28", "repayment_source": "borrower's income"}
    assert found["risk_assessment"]["grade"] == "B"
    assert found["risk_assessment"]["probability_of_default"] == "0.045"


def test_an_override_says_it_was_not_assessed_and_names_its_guarantor(
        book_platform: Platform, book: Book) -> None:
    found = _read(book_platform, book.override.listing_id)["borrower"]
    assert found["assessed"] is False and found["monthly_income"] is None
    assert found["safeguards"] == {"guarantor": "中和担保"}
    # an open listing is disclosed before anyone commits; nothing after funding yet
    before = _read(book_platform, book.open_listing)
    assert before["borrower"]["interest_start"] is None and before["post_loan"] is None


def test_post_loan_updates_fall_due_and_are_flagged_late(book_platform: Platform,
                                                         book: Book) -> None:
    _at(book_platform, date(2027, 3, 2))
    first = _read(book_platform, book.priced.listing_id)["post_loan"]["periods"]
    assert first == [{"period_end": "2027-02-28", "due_on": "2027-03-05", "recorded_on": None,
                      "late": False, "items": None}]
    cmd = listing.RecordUpdate(book.priced.listing_id, date(2027, 2, 28), ITEMS)
    made = in_transaction(book_platform.uow, lambda uow: listing.record_update(
        uow, cmd, actor_id=book.operator))
    assert made["late"] is False and made["recorded_on"] == "2027-03-02"
    with pytest.raises(Conflict):
        in_transaction(book_platform.uow, lambda uow: listing.record_update(
            uow, cmd, actor_id=book.operator))
    wrong = listing.RecordUpdate(book.priced.listing_id, date(2027, 2, 27), ITEMS)
    with pytest.raises(InvalidInput) as bad:
        in_transaction(book_platform.uow, lambda uow: listing.record_update(
            uow, wrong, actor_id=book.operator))
    assert bad.value.field == "period_end"
    short = listing.RecordUpdate(book.override.listing_id, date(2027, 2, 28),
                                 ITEMS | {"litigation": " "})
    with pytest.raises(InvalidInput) as blank:
        in_transaction(book_platform.uow, lambda uow: listing.record_update(
            uow, short, actor_id=book.operator))
    assert blank.value.field == "items.litigation"
    _at(book_platform, date(2027, 3, 10))
    missing = _read(book_platform, book.override.listing_id)["post_loan"]["periods"]
    assert missing[0]["items"] is None and missing[0]["late"] is True
    late = listing.RecordUpdate(book.override.listing_id, date(2027, 2, 28), ITEMS)
    assert in_transaction(book_platform.uow, lambda uow: listing.record_update(
        uow, late, actor_id=book.operator))["late"] is True
    with pytest.raises(NotFound):
        _read(book_platform, 999_999)


def test_the_listing_page_and_json_show_the_items(book_platform: Platform, book: Book) -> None:
    with TestClient(create_app(book_platform)) as client:
        page = client.get(f"/listings/{book.priced.listing_id}")
        assert page.status_code == 200 and 'id="borrower-disclosure"' in page.text
        assert "近 6 个月征信逾期" in page.text and "home_improvement" in page.text
        shown = client.get(f"/api/v1/disclosure/listings/{book.priced.listing_id}").json()
        assert shown["borrower"]["monthly_income"] == "18000.00"
