"""The few SQL spellings that differ between SQLite and PostgreSQL, and the business clock.

Close of business is written once, in SQL both databases run: window functions, UPDATE …
FROM, INSERT … SELECT. Only these differ: LEAST/GREATEST (SQLite's scalar MIN/MAX), date
differences, and how a date parameter is bound.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, DateTime, Result, TextClause, bindparam, text
from sqlalchemy.types import TypeEngine

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

    def next_id(self, table: str) -> str:
        """An id for a row of `table` to be inserted later in this transaction, so that
        statements written together can refer to it: the table's sequence on PostgreSQL; on
        SQLite the next rowid, safe because a writing transaction holds the database's write
        lock (BEGIN IMMEDIATE) until it commits."""
        if self.pg:
            return f"nextval(pg_get_serial_sequence('{table}', 'id'))"
        return f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table})"

    def json_rows(self, columns: str, source: str) -> str:
        """A scalar subquery: the rows of `SELECT columns FROM source` as one JSON array of
        arrays (unordered; decode with `decode_json`)."""
        if self.pg:
            return f"(SELECT json_agg(json_build_array({columns})) FROM {source})"
        return f"(SELECT json_group_array(json_array({columns})) FROM {source})"

    def json_table(self, param: str, alias: str, columns: str) -> str:
        """A FROM item: the rows of the JSON array of objects bound as `:param` (`as_json`),
        with `columns` ("name TYPE, …") taken from each object's keys of the same names. One
        parameter however many rows, so that a statement's text stays the same."""
        if self.pg:
            return f"json_to_recordset(CAST(:{param} AS json)) AS {alias}({columns})"
        names = [column.split()[0] for column in columns.split(",")]
        picked = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name in names)
        return f"(SELECT {picked} FROM json_each(:{param})) AS {alias}"

    def params(self, **values: Any) -> dict[str, Any]:
        """Bind values; dates go to SQLite as ISO text (the column storage format)."""
        if self.pg:
            return values
        return {k: v.isoformat() if isinstance(v, date) and not isinstance(v, datetime) else v
                for k, v in values.items()}


def as_json(rows: list[dict[str, Any]]) -> str:
    """Rows for `Sql.json_table`: dates as ISO text (both databases read them so)."""
    return json.dumps(rows, separators=(",", ":"), default=date.isoformat)


def decode_json(value: Any) -> Any:
    """What `Sql.json_rows` returned: psycopg decodes JSON itself, SQLite gives text."""
    return json.loads(value) if isinstance(value, str) else (value or [])


def run(uow: UnitOfWork, sql: str, **params: Any) -> int:
    """Execute one statement (after flushing pending ORM changes); rows changed."""
    uow.s.flush()
    result = uow.s.execute(text(sql), Sql.of(uow).params(**params))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def stamped(sql: str) -> TextClause:
    """A statement whose `:today` is a business date and `:now` a time with its zone, bound
    as the ORM stores them (SQLite keeps both as text in the ORM's own format)."""
    return _parsed(sql, (("today", Date()), ("now", DateTime(timezone=True))))


def _bound(sql: str, types: dict[str, TypeEngine[Any]]) -> TextClause:
    return _parsed(sql, tuple(types.items()))


@lru_cache(maxsize=256)
def _parsed(sql: str, types: tuple[tuple[str, TypeEngine[Any]], ...]) -> TextClause:
    """A hot path sends the same few statements again and again: parse each once (a text
    with a few hundred parameters costs SQLAlchemy ~1 ms to parse)."""
    statement = text(sql)
    used = [bindparam(name, type_=t) for name, t in types if re.search(rf":{name}\b", sql)]
    return statement.bindparams(*used) if used else statement


def write_together(uow: UnitOfWork, steps: list[tuple[str, str]], last: str,
                   params: dict[str, Any], types: dict[str, TypeEngine[Any]] | None = None
                   ) -> Result[Any]:
    """Data-changing statements that belong together, sent as few times as the database
    allows; the result of `last`.

    On PostgreSQL one statement: each step (name, sql) a data-modifying CTE and `last` the
    statement itself. A step may read an earlier step's RETURNING by its name; every step
    sees the tables as they were before the statement (so none reads another's rows except
    through RETURNING), each table is written by one step only, and foreign keys are checked
    at the end. On SQLite, which has no writing CTEs, the steps run one after another and a
    later step reads the table itself: write `{name}` where a step reads another's rows, and
    it becomes the CTE's name or that step's table. `types` binds the named parameters with
    a SQLAlchemy type (datetimes stored as the ORM stores them); dates go through
    `Sql.params`."""
    uow.s.flush()
    sql = Sql.of(uow)
    values = sql.params(**params)
    # PostgreSQL: psycopg sends a datetime as one already; a typed parameter would add a cast
    # to the text at each use and lengthen it past what the driver caches.
    kinds = {} if sql.pg else types or {}
    *first, final = _assembled(sql.pg, tuple(steps), last)
    for statement in first:
        uow.s.execute(_bound(statement, kinds), values).close()
    return uow.s.execute(_bound(final, kinds), values)


@lru_cache(maxsize=64)
def _assembled(pg: bool, steps: tuple[tuple[str, str], ...], last: str) -> tuple[str, ...]:
    """The statements `write_together` sends: one on PostgreSQL, one per step on SQLite."""
    names = {name: name if pg else _written(sql) for name, sql in steps}

    def resolved(sql: str) -> str:
        for name, target in names.items():
            sql = sql.replace(f"{{{name}}}", target)
        return " ".join(sql.split())

    if pg:
        ctes = ", ".join(f"{name} AS ({resolved(sql)})" for name, sql in steps)
        return (f"WITH {ctes} {resolved(last)}",)
    return (*(resolved(sql) for _name, sql in steps), resolved(last))


def _written(sql: str) -> str:
    found = re.match(r"\s*(?:INSERT\s+INTO|UPDATE)\s+(\w+)", sql, re.IGNORECASE)
    if found is None:
        raise ValueError(f"not a writing step: {sql[:60]}")
    return found.group(1)


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
    if Sql.of(uow).pg:  # one statement: set_config(…, true) is SET LOCAL
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        uow.s.execute(text(f"SELECT {lock}({SERVICING_LOCK}), set_config('jit', 'off', true),"
                           " set_config('random_page_cost', '1.1', true)"))


class BusinessClock:
    """Wall-clock time from the platform's clock, but the business date being closed: journal
    entries and funding deadlines written during a close of business belong to that day."""

    def __init__(self, clock: Clock, day: date):
        self._clock, self._day = clock, day

    def now(self) -> datetime:
        return self._clock.now()

    def today(self) -> date:
        return self._day
