"""Statement budgets: count what a piece of code sends to the database.

`statement_counter(engine)` counts every statement SQLAlchemy hands to the driver's cursor
(its `before_cursor_execute` event) while the block runs, on every connection of the engine:
SELECT, INSERT, UPDATE, DELETE, SET, and BEGIN where it goes through a cursor — SQLite's
`BEGIN IMMEDIATE`, which our engine issues itself (adapters/db/engine.py), is counted. An
`executemany` counts once per parameter set: the driver runs the statement for each row, so
a per-row loop shows as what it is. One multi-row `INSERT … VALUES (…), (…)` is one statement.

Not counted, because they never reach a cursor: PostgreSQL's BEGIN (psycopg sends it by
itself before the first statement of a transaction) and COMMIT/ROLLBACK on both databases
(SQLAlchemy calls the DBAPI connection's commit()/rollback()); a pool's reset-on-return.
The statements are kept (`.statements`) so a failing budget shows what was sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Statements:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{n:3}. {' '.join(s.split())[:160]}"
                         for n, s in enumerate(self.statements, 1))


@contextmanager
def statement_counter(*engines: Engine | None) -> Iterator[Statements]:
    """Count on each engine given (a platform's read-only engine too: `None`s are skipped)."""
    seen = Statements()
    watched = [e for e in engines if e is not None]

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        rows = len(parameters) if executemany else 1
        seen.statements.extend([statement] * rows)

    for engine in watched:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in watched:
            event.remove(engine, "before_cursor_execute", count)
