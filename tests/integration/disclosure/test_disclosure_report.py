"""The monthly operating report on a hand-built book, on SQLite and PostgreSQL.

The book (every loan 10,000.00 yuan in three tickets of different investors, 3 months):
- 2026-11-28: `good` 信用标 interest-first, its borrower pays on time; `kin` 信用标 whose
  borrower an operator records as a related party, never paid; `backed` 担保标 never paid
  by its borrower: the guarantor pays holders three days after each due date (2026-12-28 →
  2026-12-31);
- close of business runs through 2026-11-30 on 2026-12-01: November's report is published by
  the close-of-business step, due 2026-12-07, on time;
- then through 2026-12-31 only on 2027-01-12: December's report is published then, after its
  due date (2027-01-07, the 5th working day of January), so it is flagged late.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from biaodi.adapters.db.tables import LoanInstalment
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.cli.main import app as cli
from biaodi.domain.disclosure.rules import FIGURE_KEYS, due_on
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.services.accounts import users
from biaodi.services.disclosure import events, report
from biaodi.services.disclosure.public import fee_schedule
from biaodi.services.servicing.close_day import CloseDay, close_day
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from factories import identity
from investing_support import user
from servicing_support import INVESTING, Loan, funded_loan, guarantor, pay_in, servicing_rules
from test_support import login

LOAN = 1_000_000


def at(platform: Platform, day: date) -> None:
    platform.clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


def close_through(platform: Platform, day: date) -> None:
    close_day(CloseDay(platform.engine, platform.clock, servicing_rules(platform), INVESTING,
                       day_steps=platform.day_steps), day)


@dataclass
class Book:
    good: Loan
    kin: Loan
    backed: Loan
    operator: int


@pytest.fixture(scope="module")
def book(book_platform: Platform) -> Book:
    platform = book_platform
    at(platform, date(2026, 11, 28))
    good = funded_loan(platform, "credit", method="interest_first")
    pay_in(platform, good.payer, 100_000)  # more than its interest
    kin = funded_loan(platform, "credit")
    backed = funded_loan(platform, "guarantee", guarantor_id=guarantor(platform, days=3))
    operator = user(platform, "operator")
    in_transaction(platform.uow, lambda uow: events.record_related_party(
        uow, kin.applicant, "shareholder's relative", actor_id=operator))
    at(platform, date(2026, 12, 1))
    close_through(platform, date(2026, 11, 30))
    at(platform, date(2027, 1, 12))
    close_through(platform, date(2026, 12, 31))
    return Book(good, kin, backed, operator)


def _sums(platform: Platform, listing_id: int, upto: date | None = None) -> tuple[int, int]:
    """Principal and interest of the loan's instalments (due by `upto`), from its schedule."""
    with platform.uow() as uow:
        q = select(func.sum(LoanInstalment.principal_fen), func.sum(LoanInstalment.interest_fen)
                   ).where(LoanInstalment.listing_id == listing_id)
        if upto is not None:
            q = q.where(LoanInstalment.due_date <= upto)
        p, i = uow.s.execute(q).one()
    return int(p or 0), int(i or 0)


def _figures(published: report.Published) -> dict[str, Any]:
    return {f["key"]: f["value"] for f in published.content["figures"]}


def _get(platform: Platform, month: str) -> report.Published:
    with platform.reader() as uow:
        return report.get(uow, month)


def test_november_is_published_on_time_at_close_of_business(book_platform: Platform,
                                                            book: Book) -> None:
    found = _get(book_platform, "2026-11")
    assert (found.as_of, found.due_on, found.published_on, found.late, found.published_by) == (
        date(2026, 11, 30), date(2026, 12, 7), date(2026, 12, 1), False, "close-of-business")
    interest = sum(_sums(book_platform, loan.listing_id)[1]
                   for loan in (book.good, book.kin, book.backed))
    assert _figures(found) == {
        "cumulative_volume": 3 * LOAN, "cumulative_loans": 3,
        "outstanding_principal": 3 * LOAN, "outstanding_loans": 3,
        "outstanding_interest": interest,  # nothing repaid yet
        "cumulative_lenders": 9, "cumulative_borrowers": 3,
        "current_lenders": 9, "current_borrowers": 3,
        "top10_share": "1.000000", "largest_share": "0.333333",
        "related_party_balance": LOAN, "related_party_loans": 1,
        "overdue_amount": 0, "overdue_loans": 0, "overdue_90_amount": 0, "overdue_90_loans": 0,
        "compensation_amount": 0, "compensation_count": 0,
        "amount_overdue_rate": "0.000000", "count_overdue_rate": "0.000000"}
    assert [f["key"] for f in found.content["figures"]] == list(FIGURE_KEYS)
    assert all(f["formula_zh"] and f["formula_en"] for f in found.content["figures"])
    assert found.content["fee_schedule"] == fee_schedule(book_platform.settings)


def test_december_is_late_and_counts_the_overdue_and_the_compensation(
        book_platform: Platform, book: Book) -> None:
    found = _get(book_platform, "2026-12")
    assert (found.due_on, found.published_on, found.late) == (
        date(2027, 1, 7), date(2027, 1, 12), True)
    first_due = date(2026, 12, 28)
    kin_p, kin_i = _sums(book_platform, book.kin.listing_id, first_due)
    backed_p, backed_i = _sums(book_platform, book.backed.listing_id, first_due)
    good_i = _sums(book_platform, book.good.listing_id, first_due)[1]
    interest = sum(_sums(book_platform, loan.listing_id)[1]
                   for loan in (book.good, book.kin, book.backed))
    figures = _figures(found)
    # good paid its first interest; the guarantor paid backed's first instalment to holders;
    # kin and backed are 3 days past due (M1), their borrowers owing the first instalment
    assert figures == {
        "cumulative_volume": 3 * LOAN, "cumulative_loans": 3,
        "outstanding_principal": 3 * LOAN, "outstanding_loans": 3,
        "outstanding_interest": interest - good_i - backed_i,
        "cumulative_lenders": 9, "cumulative_borrowers": 3,
        "current_lenders": 9, "current_borrowers": 3,
        "top10_share": "1.000000", "largest_share": "0.333333",
        "related_party_balance": LOAN, "related_party_loans": 1,
        "overdue_amount": kin_p + kin_i + backed_p + backed_i, "overdue_loans": 2,
        "overdue_90_amount": 0, "overdue_90_loans": 0,
        "compensation_amount": backed_p + backed_i, "compensation_count": 1,
        "amount_overdue_rate": "0.666667", "count_overdue_rate": "0.666667"}


def test_a_month_is_published_once_and_only_once_closed(book_platform: Platform, book: Book
                                                        ) -> None:
    schedule = fee_schedule(book_platform.settings)
    with pytest.raises(Conflict) as again:
        in_transaction(book_platform.uow, lambda uow: report.publish(
            uow, "2026-12", schedule, by="cli"))
    assert again.value.code == "already_published"
    with pytest.raises(Conflict) as open_month:
        in_transaction(book_platform.uow, lambda uow: report.publish(
            uow, "2027-01", schedule, by="cli"))
    assert open_month.value.code == "month_not_closed"
    with pytest.raises(InvalidInput) as bad:
        _get(book_platform, "2026-13")
    assert bad.value.field == "month"
    with pytest.raises(NotFound):
        _get(book_platform, "2026-10")
    with book_platform.reader() as uow:
        assert [r["month"] for r in report.published(uow)] == ["2026-12", "2026-11"]


def test_a_published_report_cannot_be_changed(book_platform: Platform, book: Book) -> None:
    if book_platform.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), book_platform.engine.begin() as c:
            c.execute(text("UPDATE disclosure_reports SET late = false"))
    else:  # no trigger on SQLite: a change is caught by the digest when read
        with book_platform.engine.begin() as c:
            c.execute(text("UPDATE disclosure_reports SET content = replace(content, "
                           "'\"cumulative_loans\"', '\"cumulative_loans \"') "
                           "WHERE month = '2026-11'"))
        with pytest.raises(Conflict) as tampered:
            _get(book_platform, "2026-11")
        assert tampered.value.code == "report_tampered"


def test_events_are_public_at_once_and_late_after_48_hours(book_platform: Platform,
                                                           book: Book) -> None:
    now = book_platform.clock.now()

    def record(hours: float, kind: str = "executive_change") -> dict[str, Any]:
        cmd = events.RecordEvent(kind, "高管变更", "董事长变更。", now - timedelta(hours=hours))
        return in_transaction(book_platform.uow, lambda uow: events.record_event(
            uow, cmd, actor_id=book.operator))

    assert record(47.5)["late"] is False
    assert record(48.5)["late"] is True
    with pytest.raises(InvalidInput) as future:
        record(-1)
    assert future.value.field == "occurred_at"
    with pytest.raises(InvalidInput) as kind:
        record(1, "gossip")
    assert kind.value.field == "kind"
    with book_platform.reader() as uow:
        assert [e["late"] for e in events.events(uow)] == [True, False]


def test_due_dates_follow_the_working_day_calendar() -> None:
    # 2026-10-01…07 National Day, 10-10 (Saturday) a make-up working day: 8, 9, 10, 12, 13
    assert due_on("2026-09") == date(2026, 10, 13)
    assert due_on("2026-11") == date(2026, 12, 7)


# --- the JSON API and the command line, on the same book ------------------------------------
def _operator_token(client: TestClient, platform: Platform) -> dict[str, str]:
    data = identity()
    cmd = users.Register(**data, roles=("operator",))
    in_transaction(platform.uow, lambda uow: users.create_staff(uow, cmd, platform.cipher))
    return login(client, data["username"])


def test_the_api_publishes_reports_and_events_to_everyone(book_platform: Platform,
                                                          book: Book) -> None:
    with TestClient(create_app(book_platform)) as client:
        overview = client.get("/api/v1/disclosure").json()
        assert overview["institution"]["sandbox"] is True
        assert [r["month"] for r in overview["reports"]] == ["2026-12", "2026-11"]
        assert overview["fee_schedule"] == fee_schedule(book_platform.settings)
        december = client.get("/api/v1/disclosure/reports/2026-12").json()
        assert december["late"] is True and december["due_on"] == "2027-01-07"
        assert {f["key"]: f["value"] for f in december["figures"]}["overdue_loans"] == 2
        assert client.get("/api/v1/disclosure/reports/2026-10").status_code == 404
        assert client.get("/api/v1/disclosure/reports/2026-13").status_code == 422
        op = _operator_token(client, book_platform)
        body = {"kind": "litigation", "title": "诉讼", "body": "平台涉诉。",
                "occurred_at": (book_platform.clock.now() - timedelta(hours=72)).isoformat()}
        assert client.post("/api/v1/operator/disclosure/events", json=body).status_code == 401
        made = client.post("/api/v1/operator/disclosure/events", json=body, headers=op)
        assert made.status_code == 201 and made.json()["late"] is True
        listed = client.get("/api/v1/disclosure/events").json()
        assert listed[0]["id"] == made.json()["id"]
        again = client.post("/api/v1/operator/disclosure/related-parties", headers=op,
                            json={"user_id": book.kin.applicant, "relation": "x"})
        assert again.status_code == 409
        assert client.post("/api/v1/operator/disclosure/reports/2026-12",
                           headers=op).status_code == 409


def test_the_command_line_shows_and_refuses(book_platform: Platform, book: Book,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIAODI_DATABASE_URL", str(book_platform.settings.database_url))
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", book_platform.clock.now().isoformat())
    shown = CliRunner().invoke(cli, ["disclosure", "show", "--month", "2026-12", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["late"] is True
    again = CliRunner().invoke(cli, ["disclosure", "publish", "--month", "2026-12"])
    assert again.exit_code == 1 and "already published" in again.output
    listed = CliRunner().invoke(cli, ["disclosure", "list"])
    assert listed.exit_code == 0 and "2026-11" in listed.output


def test_the_pages_show_the_figures_beside_their_formulas(book_platform: Platform,
                                                          book: Book) -> None:
    with TestClient(create_app(book_platform)) as client:
        index = client.get("/disclosure")
        assert index.status_code == 200
        assert 'id="disclosure-balances"' in index.text and "/static/charts.js" in index.text
        assert "演示环境" in index.text and "逾期披露" in index.text  # December was late
        cmd = events.RecordEvent("custody_change", "存管银行变更", "存管银行变更为某银行。",
                                 book_platform.clock.now())
        in_transaction(book_platform.uow, lambda uow: events.record_event(
            uow, cmd, actor_id=book.operator))
        assert "存管变更" in client.get("/disclosure").text
        zh = client.get("/disclosure/reports/2026-12")
        assert zh.status_code == 200
        assert "逾期笔数 ÷ 借贷余额笔数" in zh.text and "66.67%" in zh.text
        client.cookies.set("lang", "en")
        en = client.get("/disclosure/reports/2026-12")
        assert "overdue loans ÷ outstanding loans" in en.text and "Overdue rate by count" in en.text
        assert client.get("/disclosure/reports/2026-10").status_code == 404
        assert "Major events" in client.get("/disclosure/events").text
