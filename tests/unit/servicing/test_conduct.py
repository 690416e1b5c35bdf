"""Rules of conduct for collections."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from biaodi.adapters.clock import CST
from biaodi.domain.servicing.conduct import (
    ConductRules,
    Contact,
    ContactRefused,
    Rule,
    check_contact,
)
from biaodi.domain.shared.errors import InvalidInput


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 30, hour, minute, tzinfo=CST)


DEFAULT = ConductRules()


def refused(contact: Contact, rules: ConductRules = DEFAULT) -> str | None:
    try:
        check_contact(contact, rules)
    except ContactRefused as refusal:
        return refusal.rule_id
    return None


def test_hours_limit_and_third_parties() -> None:
    ok = Contact(at(8), to_borrower=True, authorised=False, made_today=0)
    assert refused(ok) is None
    assert refused(Contact(at(7, 59), True, False, 0)) == Rule.HOURS.value
    assert refused(Contact(at(21), True, False, 0)) == Rule.HOURS.value
    assert refused(Contact(at(20, 59), True, False, 2)) is None
    assert refused(Contact(at(12), True, False, 3)) == Rule.DAILY_LIMIT.value
    assert refused(Contact(at(12), False, False, 0)) == Rule.THIRD_PARTY.value
    assert refused(Contact(at(12), False, True, 0)) is None
    strict = ConductRules(window=(time(9), time(18)), daily_limit=1)
    assert refused(Contact(at(8, 30), True, False, 0), strict) == Rule.HOURS.value
    assert refused(Contact(at(10), True, False, 1), strict) == Rule.DAILY_LIMIT.value


def test_window_is_parsed_strictly() -> None:
    assert ConductRules.parse_window("08:00-21:00") == (time(8), time(21))
    for bad in ("8-21", "21:00-08:00", "noon"):
        with pytest.raises(InvalidInput):
            ConductRules.parse_window(bad)
