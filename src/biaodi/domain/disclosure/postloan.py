"""Post-loan updates (借后信息): after funding, a report on each funded loan every three months
while it is live — how the money was used, the borrower's finances and ability to repay,
overdues, lawsuits and penalties — recorded within five working days of the period's end."""

from __future__ import annotations

from datetime import date, timedelta

from biaodi.domain.shared.calendar import CN_CALENDAR, WorkingDayCalendar

PERIOD_MONTHS = 3
GRACE_WORKING_DAYS = 5
#: What each update reports (every item required, free text).
ITEMS = ("funds_use", "finances", "repayment_ability", "overdue", "litigation")


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, the day clipped to the month's last (01-31 + 1 → 02-28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last = (following - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def period_ends(funded_on: date, through: date) -> list[date]:
    """The ends of the three-month periods after funding that fall on or before `through`."""
    ends, k = [], 1
    while (end := add_months(funded_on, PERIOD_MONTHS * k)) <= through:
        ends.append(end)
        k += 1
    return ends


def update_due(period_end: date, calendar: WorkingDayCalendar = CN_CALENDAR) -> date:
    return calendar.add_working_days(period_end, GRACE_WORKING_DAYS)
