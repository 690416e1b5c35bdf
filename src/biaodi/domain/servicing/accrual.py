"""Interest accrued within a period, pro rata to the days elapsed."""

from __future__ import annotations

from datetime import date


def accrued(period_interest: int, period_start: date, period_end: date, today: date) -> int:
    """The part of a period's scheduled interest earned by `today`: interest × elapsed days ÷
    days in the period, rounded half-up to the fen (the same integer formula runs in SQL at
    close of business). Clamped to [0, interest]."""
    span = (period_end - period_start).days
    if span <= 0:
        return period_interest if today >= period_end else 0
    elapsed = min(max((today - period_start).days, 0), span)
    return (2 * period_interest * elapsed + span) // (2 * span)
