"""Calendar arithmetic for schedules: month steps and day-count conventions, free of I/O.

Interest for a period counted in days is ``principal × annual rate × days ÷ basis``, where
the convention fixes how days are counted and the basis (days in a year):

* ``act365`` (ACT/365 Fixed, the default): actual calendar days over 365.
* ``30/360`` (30/360 bond basis, ISDA 2006 4.16(f)): every month counts 30 days over 360;
  a start on the 31st counts as the 30th, and an end on the 31st counts as the 30th when the
  start was the 30th or 31st.
"""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum


class DayCount(StrEnum):
    ACT_365 = "act365"
    THIRTY_360 = "30/360"

    @property
    def basis(self) -> int:
        """Days in the conventional year: the denominator of the year fraction."""
        return 365 if self is DayCount.ACT_365 else 360


def accrual_days(start: date, end: date, convention: DayCount) -> int:
    """Days from `start` to `end` as `convention` counts them (the numerator of the fraction)."""
    if convention is DayCount.ACT_365:
        return (end - start).days
    d1 = min(start.day, 30)
    d2 = 30 if end.day == 31 and d1 == 30 else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def add_months(start: date, months: int) -> date:
    """`start` moved `months` calendar months on, its day clamped to the month's last day.

    Always step from the original start (Jan 31 + 1 → Feb 28/29, Jan 31 + 2 → Mar 31), never
    from the previous due date, so that a short month does not pull later dates earlier.
    """
    year, month_index = divmod(start.month - 1 + months, 12)
    year += start.year
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(start.day, last_day))
