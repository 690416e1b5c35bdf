"""The few SQL spellings that differ between SQLite and PostgreSQL, and the business clock.

Close of business is written once, in SQL both databases run: window functions, UPDATE …
FROM, INSERT … SELECT. Only these differ: LEAST/GREATEST (SQLite's scalar MIN/MAX), date
differences, and how a date parameter is bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from biaodi.adapters.clock import Clock
from biaodi.adapters.db.uow import UnitOfWork


@dataclass(frozen=True)
class Sql:
    dialect: str

    @classmethod
    def of(cls, uow: UnitOfWork) -> Sql:
        return cls(uow.s.get_bind().dialect.name)

    @property
    def pg(self) -> bool:
        return self.dialect == "postgresql"

    def least(self, *args: str) -> str:
        return f"{'LEAST' if self.pg else 'MIN'}({', '.join(args)})"

    def greatest(self, *args: str) -> str:
        return f"{'GREATEST' if self.pg else 'MAX'}({', '.join(args)})"

    def date(self, param: str) -> str:
        """A date parameter (`:d`) usable in arithmetic."""
        return f"CAST(:{param} AS DATE)" if self.pg else f":{param}"

    def days(self, later: str, earlier: str) -> str:
        """Whole days from `earlier` to `later` (both date expressions)."""
        if self.pg:
            return f"({later} - {earlier})"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def params(self, **values: Any) -> dict[str, Any]:
        """Bind values; dates go to SQLite as ISO text (the column storage format)."""
        if self.pg:
            return values
        return {k: v.isoformat() if isinstance(v, date) and not isinstance(v, datetime) else v
                for k, v in values.items()}


def run(uow: UnitOfWork, sql: str, **params: Any) -> int:
    """Execute one statement (after flushing pending ORM changes); rows changed."""
    uow.s.flush()
    result = uow.s.execute(text(sql), Sql.of(uow).params(**params))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def rows(uow: UnitOfWork, sql: str, **params: Any) -> list[Any]:
    uow.s.flush()
    return list(uow.s.execute(text(sql), Sql.of(uow).params(**params)))


#: PostgreSQL advisory lock: close-of-business chunks hold it exclusively, a per-loan
#: servicing transaction (a repayment, a disposal) shared — so one never reads claim
#: balances the other is about to change. SQLite's write lock already does this.
SERVICING_LOCK = 0x62696164  # "biad"


def tune(uow: UnitOfWork, *, exclusive: bool = False) -> None:
    """Start a servicing transaction: take the servicing lock (exclusive for a chunk of close
    of business) and, on PostgreSQL, plan for what a chunk touches — a few thousand rows of
    tables with millions: no JIT (compiling each batch statement costs more than running
    it), and index lookups priced as the cached or SSD reads they are (random_page_cost 1.1
    rather than the spinning-disk default 4, which makes PostgreSQL scan all the accounts to
    update a few thousand)."""
    if Sql.of(uow).pg:
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        uow.s.execute(text(f"SELECT {lock}({SERVICING_LOCK})"))
        uow.s.execute(text("SET LOCAL jit = off"))
        uow.s.execute(text("SET LOCAL random_page_cost = 1.1"))


class BusinessClock:
    """Wall-clock time from the platform's clock, but the business date being closed: journal
    entries and funding deadlines written during a close of business belong to that day."""

    def __init__(self, clock: Clock, day: date):
        self._clock, self._day = clock, day

    def now(self) -> datetime:
        return self._clock.now()

    def today(self) -> date:
        return self._day
