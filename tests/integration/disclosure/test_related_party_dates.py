"""Related parties with their dates, on SQLite and PostgreSQL: the monthly report counts a
borrower's loans only when the borrower is related on the month's last day.

The book (three 信用标 of 10,000.00 yuan funded 2026-10-20, never repaid, so each owes its
whole principal at both month-ends): `always`'s borrower related from 2026-10-01, `newer`'s
from 2026-11-15, `former`'s from 2026-10-01 to 2026-10-31. Close of business closes
2026-10-31 and 2026-11-30; the relations are recorded afterwards, on 2026-12-01, with their dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.cli.main import app as cli
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.services.accounts import users
from biaodi.services.disclosure import events, report
from biaodi.services.servicing.close_day import CloseDay, close_day
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from factories import identity
from investing_support import user
from servicing_support import INVESTING, TICKETS, Loan, funded_loan, servicing_rules
from test_support import login

LOAN = sum(TICKETS) * 100


def at(platform: Platform, day: date) -> None:
    platform.clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


@dataclass
class Book:
    always: Loan
    newer: Loan
    former: Loan
    operator: int
    parties: dict[str, int]


def _relate(platform: Platform, borrower: int, operator: int, since: date,
            until: date | None = None) -> int:
    found = in_transaction(platform.uow, lambda uow: events.record_related_party(
        uow, borrower, "shareholder", actor_id=operator, since=since, until=until))
    return int(found["id"])


@pytest.fixture(scope="module")
def book(book_platform: Platform) -> Book:
    platform = book_platform
    at(platform, date(2026, 10, 20))
    always, newer, former = (funded_loan(platform, "credit") for _ in range(3))
    operator = user(platform, "operator")
    for closed, today in ((date(2026, 10, 31), date(2026, 11, 1)),
                          (date(2026, 11, 30), date(2026, 12, 1))):
        at(platform, today)
        close_day(CloseDay(platform.engine, platform.clock, servicing_rules(platform),
                           INVESTING, day_steps=platform.day_steps), closed)
    parties = {
        "always": _relate(platform, always.applicant, operator, date(2026, 10, 1)),
        "newer": _relate(platform, newer.applicant, operator, date(2026, 11, 15)),
        "former": _relate(platform, former.applicant, operator, date(2026, 10, 1),
                          date(2026, 10, 31)),
    }
    return Book(always, newer, former, operator, parties)


def _related(platform: Platform, day: date) -> tuple[int, int]:
    with platform.reader() as uow:
        values = report.figures(uow, day)
    return int(values["related_party_balance"] or 0), int(values["related_party_loans"] or 0)


def test_each_month_end_counts_only_the_parties_related_that_day(book_platform: Platform,
                                                                book: Book) -> None:
    # October 31: `always` and `former` (its last related day); `newer` not yet
    assert _related(book_platform, date(2026, 10, 31)) == (2 * LOAN, 2)
    # November 30: `always` and `newer`; `former` ended on October 31
    assert _related(book_platform, date(2026, 11, 30)) == (2 * LOAN, 2)


def test_the_list_says_who_is_related_today(book_platform: Platform, book: Book) -> None:
    with book_platform.reader() as uow:
        listed = {p["id"]: p for p in events.related_parties(uow)}
    former = listed[book.parties["former"]]
    assert (former["since"], former["until"], former["current"]) == (
        "2026-10-01", "2026-10-31", False)
    newer = listed[book.parties["newer"]]
    assert (newer["since"], newer["until"], newer["current"]) == ("2026-11-15", None, True)


def test_dates_that_make_no_sense_are_refused_naming_the_field(book_platform: Platform,
                                                               book: Book) -> None:
    borrower = book.always.investors[0]  # anyone not yet related

    def refused(since: date | None, until: date | None) -> InvalidInput:
        with pytest.raises(InvalidInput) as caught:
            _relate(book_platform, borrower, book.operator, since, until)  # type: ignore[arg-type]
        return caught.value

    assert refused(date(2026, 11, 2), date(2026, 11, 1)).field == "until"
    assert refused(date(2026, 12, 2), None).field == "since"  # tomorrow
    with pytest.raises(Conflict) as overlap:  # `former` again, overlapping October
        _relate(book_platform, book.former.applicant, book.operator, date(2026, 9, 1),
                date(2026, 10, 15))
    assert (overlap.value.field, overlap.value.code) == ("user_id", "already_related")
    with pytest.raises(InvalidInput) as early:
        in_transaction(book_platform.uow, lambda uow: events.end_related_party(
            uow, book.parties["newer"], date(2026, 11, 1), actor_id=book.operator))
    assert early.value.field == "until"
    with pytest.raises(Conflict) as twice:
        in_transaction(book_platform.uow, lambda uow: events.end_related_party(
            uow, book.parties["former"], date(2026, 11, 5), actor_id=book.operator))
    assert (twice.value.field, twice.value.code) == ("until", "already_ended")
    # nothing changed: the November figures are as before
    assert _related(book_platform, date(2026, 11, 30)) == (2 * LOAN, 2)


def test_the_api_takes_the_dates_and_ends_a_relation(book_platform: Platform, book: Book
                                                     ) -> None:
    someone = book.newer.investors[0]
    with TestClient(create_app(book_platform)) as client:
        data = identity()
        in_transaction(book_platform.uow, lambda uow: users.create_staff(
            uow, users.Register(**data, roles=("operator",)), book_platform.cipher))
        op = login(client, data["username"])
        url = "/api/v1/operator/disclosure/related-parties"
        bad = client.post(url, headers=op, json={"user_id": someone, "relation": "director",
                                                 "since": "2026-11-20", "until": "2026-11-10"})
        assert bad.status_code == 422 and "until" in bad.text
        made = client.post(url, headers=op, json={"user_id": someone, "relation": "director",
                                                  "since": "2026-11-01"})
        assert made.status_code == 201, made.text
        assert (made.json()["since"], made.json()["until"]) == ("2026-11-01", None)
        ended = client.post(f"{url}/{made.json()['id']}/end", headers=op,
                            json={"until": "2026-11-29"})
        assert ended.status_code == 200 and ended.json()["until"] == "2026-11-29"
        again = client.post(f"{url}/{made.json()['id']}/end", headers=op, json={})
        assert again.status_code == 409
        # related again from December on: a period after the first is accepted
        back = client.post(url, headers=op, json={"user_id": someone, "relation": "director",
                                                  "since": "2026-12-01"})
        assert back.status_code == 201, back.text
        listed = client.get(url, headers=op).json()
        assert [(p["since"], p["until"]) for p in listed if p["user_id"] == someone] == [
            ("2026-11-01", "2026-11-29"), ("2026-12-01", None)]


def test_the_command_line_records_and_ends(book_platform: Platform, book: Book,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIAODI_DATABASE_URL", str(book_platform.settings.database_url))
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", book_platform.clock.now().isoformat())
    someone = book.former.investors[1]
    run = CliRunner().invoke
    bad = run(cli, ["disclosure", "related", "add", "--user", str(someone), "--relation", "x",
                    "--since", "2026-11-05", "--until", "2026-11-01",
                    "--operator", str(book.operator)])
    assert bad.exit_code == 1 and "until" in bad.output
    made = run(cli, ["disclosure", "related", "add", "--user", str(someone), "--relation",
                     "officer", "--since", "2026-11-05", "--operator", str(book.operator)])
    assert made.exit_code == 0, made.output
    party = made.output.split()[2].rstrip(":")
    ended = run(cli, ["disclosure", "related", "end", party, "--until", "2026-11-20",
                      "--operator", str(book.operator)])
    assert ended.exit_code == 0 and "to 2026-11-20" in ended.output, ended.output
    not_op = run(cli, ["disclosure", "related", "end", party, "--operator", str(someone)])
    assert not_op.exit_code == 1 and "operator" in not_op.output
