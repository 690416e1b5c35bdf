"""Disclosure rules without a database: months, due dates, lateness, masking, post-loan
periods, the institution file."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from biaodi.domain.disclosure.institution import REQUIRED, parse_institution
from biaodi.domain.disclosure.postloan import add_months, period_ends, update_due
from biaodi.domain.disclosure.rules import event_late, mask_name, parse_month
from biaodi.domain.shared.errors import InvalidInput


def test_months_parse_to_their_first_and_last_day() -> None:
    assert parse_month("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert parse_month("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    for bad in ("2026-13", "2026-1", "26-01", "2026/01", "x"):
        with pytest.raises(InvalidInput) as refused:
            parse_month(bad)
        assert refused.value.field == "month"


def test_an_event_is_late_only_after_48_hours() -> None:
    at = datetime(2026, 11, 28, 2, tzinfo=UTC)
    assert not event_late(at, at + timedelta(hours=48))
    assert event_late(at, at + timedelta(hours=48, seconds=1))


def test_names_keep_only_their_first_character() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"
    assert mask_name(" ") == ""


def test_post_loan_periods_run_every_three_months_from_funding() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert period_ends(date(2026, 11, 28), date(2027, 8, 27)) == [
        date(2027, 2, 28), date(2027, 5, 28)]
    # 2026-10-01…07 National Day; 10-10 a make-up working day: 8, 9, 10, 12, 13
    assert update_due(date(2026, 9, 30)) == date(2026, 10, 13)


def test_the_institution_file_needs_every_field_and_no_other() -> None:
    full = {name: "x" for name in REQUIRED}
    found = parse_institution(json.dumps(full))
    assert found.name == "x" and found.sandbox is False
    with pytest.raises(InvalidInput) as missing:
        parse_institution(json.dumps(full | {"custody_bank": " "}))
    assert missing.value.field == "disclosure_institution.custody_bank"
    with pytest.raises(InvalidInput) as unknown:
        parse_institution(json.dumps(full | {"motto": "y"}))
    assert unknown.value.field == "disclosure_institution.motto"
    with pytest.raises(InvalidInput):
        parse_institution("{not json")
