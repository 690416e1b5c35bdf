"""The working-day calendar counts the State Council's holidays and make-up working days."""

from __future__ import annotations

from datetime import date

import pytest

from biaodi.domain.shared.calendar import CN_CALENDAR, HolidayNotice
from biaodi.domain.shared.errors import InvalidInput


def test_holidays_are_days_off_and_make_up_weekends_are_worked() -> None:
    assert not CN_CALENDAR.is_working_day(date(2026, 10, 5))   # National Day, a Monday
    assert CN_CALENDAR.is_working_day(date(2026, 10, 10))      # a Saturday worked instead
    assert CN_CALENDAR.is_working_day(date(2026, 2, 14))       # Saturday before Spring Festival
    assert not CN_CALENDAR.is_working_day(date(2026, 11, 7))   # an ordinary Saturday


def test_the_fifth_working_day_skips_the_national_day_week() -> None:
    # October 2026: 1–7 off, Thu 8 and Fri 9 worked, Sat 10 worked, Mon 12, Tue 13.
    assert CN_CALENDAR.nth_working_day_of_month(2026, 10, 5) == date(2026, 10, 13)
    # November 2026 has no holiday: Mon 2 … Fri 6.
    assert CN_CALENDAR.nth_working_day_of_month(2026, 11, 5) == date(2026, 11, 6)


def test_a_year_without_a_notice_is_counted_monday_to_friday_and_said_to_be_provisional() -> None:
    assert CN_CALENDAR.is_provisional(date(2027, 3, 1))
    assert not CN_CALENDAR.is_provisional(date(2026, 3, 1))
    assert CN_CALENDAR.add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 4)


def test_working_days_between_counts_the_end_and_not_the_start() -> None:
    assert CN_CALENDAR.working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2  # 8th, 9th
    assert CN_CALENDAR.working_days_between(date(2026, 10, 9), date(2026, 10, 9)) == 0


def test_a_notice_refuses_a_weekday_make_up_day() -> None:
    with pytest.raises(InvalidInput, match="weekend"):
        HolidayNotice(2026, "test", frozenset(), frozenset({date(2026, 3, 2)}))
