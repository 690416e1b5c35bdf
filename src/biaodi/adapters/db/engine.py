"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite: WAL journal, foreign keys on, a busy timeout, and every transaction opened with
BEGIN IMMEDIATE so that writers queue for the lock instead of failing with "database is
locked" half-way through a read-then-write transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from biaodi.adapters.db.audit import sha256hex

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pick the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, read_only: bool = False
) -> Engine:
    """An engine for `url`. With `read_only` on SQLite, transactions start deferred and the
    connection refuses writes, so readers never queue behind the write lock (WAL lets them
    read while one writer writes). SQL parameters (personal data among them) are never logged
    nor put in error messages (`hide_parameters`), even with `echo` on."""
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            poolclass=NullPool if ":memory:" not in url else None,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine, read_only=read_only)
        return engine
    return create_engine(
        url, echo=echo, hide_parameters=True, pool_size=pool_size, max_overflow=pool_size * 2,
        pool_pre_ping=True,
    )


def _configure_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's begin event below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        # The audit trail's chain hash, computed in SQL as PostgreSQL's sha256() does.
        dbapi_connection.create_function("sha256hex", 1, sha256hex, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
