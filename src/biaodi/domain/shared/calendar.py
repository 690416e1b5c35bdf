"""The Chinese working-day calendar: public holidays and make-up working days (调休) as dated data.

A working day in the PRC is not simply Monday to Friday: the State Council publishes each year
which days are holidays (放假) and which weekend days are worked instead (上班). Deadlines that
count working days — the disclosure guideline's "5th working day of the next month", a money
fund's T+1 confirmation with its 15:00 cut-off — are counted on this calendar.

Each year is one `HolidayNotice` citing the notice it comes from. A year without a published
notice (here: 2027 on) is counted Monday to Friday and reported as *provisional*
(`WorkingDayCalendar.is_provisional`), so a deadline computed from it can say so; add the year's
notice when the State Council publishes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

from biaodi.domain.shared.errors import InvalidInput


@dataclass(frozen=True)
class HolidayNotice:
    """One year's holiday arrangement: the days off and the weekend days worked, with its source."""

    year: int
    source: str
    holidays: frozenset[date]
    make_up_working_days: frozenset[date]

    def __post_init__(self) -> None:
        stray = [d for d in self.holidays | self.make_up_working_days if d.year != self.year]
        if stray:
            raise InvalidInput(f"days outside {self.year}: {sorted(stray)}", field="year")
        weekday_make_up = [d for d in self.make_up_working_days if d.weekday() < 5]
        if weekday_make_up:
            raise InvalidInput(f"a make-up working day must fall on a weekend: {weekday_make_up}",
                               field="make_up_working_days")


def _days(first: date, last: date) -> frozenset[date]:
    return frozenset(first + timedelta(days=n) for n in range((last - first).days + 1))


def _notice(year: int, source: str, holidays: list[tuple[str, str]],
            worked: list[str]) -> HolidayNotice:
    off: set[date] = set()
    for first, last in holidays:
        off |= _days(date.fromisoformat(first), date.fromisoformat(last))
    make_up = frozenset(date.fromisoformat(d) for d in worked)
    return HolidayNotice(year, source, frozenset(off), make_up)


NOTICES: MappingProxyType[int, HolidayNotice] = MappingProxyType({
    2025: _notice(
        2025, "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）",
        [("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
         ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")],
        ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    ),
    2026: _notice(
        2026, "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）",
        [("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
         ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
         ("2026-10-01", "2026-10-07")],
        ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
    ),
})


class WorkingDayCalendar:
    """Working days under the published notices; Monday to Friday (provisional) elsewhere."""

    def __init__(self, notices: Mapping[int, HolidayNotice] = NOTICES) -> None:
        self.notices = MappingProxyType(dict(notices))

    def is_provisional(self, day: date) -> bool:
        """True when no notice covers `day`'s year, so weekends alone decide."""
        return day.year not in self.notices

    def is_working_day(self, day: date) -> bool:
        notice = self.notices.get(day.year)
        if notice is not None:
            if day in notice.make_up_working_days:
                return True
            if day in notice.holidays:
                return False
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return self.add_working_days(day, 1)

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (count ≥ 1; `day` itself is not counted)."""
        if count < 1:
            raise InvalidInput(f"count must be at least 1, got {count}", field="count")
        current = day
        while count:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count -= 1
        return current

    def nth_working_day_of_month(self, year: int, month: int, n: int) -> date:
        """The `n`-th working day of a month (n ≥ 1): e.g. the disclosure deadline for the month
        before is the 5th working day of this one."""
        return self.add_working_days(date(year, month, 1) - timedelta(days=1), n)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: 0 when end ≤ start."""
        days, current = 0, start
        while current < end:
            current += timedelta(days=1)
            days += self.is_working_day(current)
        return days


CN_CALENDAR = WorkingDayCalendar()
