"""The clock is injected: services ask it for now and for the business date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

#: Business dates are China Standard Time (UTC+8): a day closes at midnight in Beijing.
CST = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(CST).date()


class FixedClock:
    """A clock that stands still until moved: for tests, demos and batch catch-up."""

    def __init__(self, now: datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self._now = now

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.astimezone(CST).date()

    def set(self, now: datetime) -> None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self._now = now

    def advance(self, **kwargs: float) -> None:
        self._now += timedelta(**kwargs)


def clock_from_setting(fixed_now: str | None) -> Clock:
    if fixed_now:
        return FixedClock(datetime.fromisoformat(fixed_now))
    return SystemClock()
