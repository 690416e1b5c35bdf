"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite: WAL journal, foreign keys on, a busy timeout, and every transaction opened with
BEGIN IMMEDIATE so that writers queue for the lock instead of failing with "database is
locked" half-way through a read-then-write transaction. Connections to a database file are
pooled (`pool_size` kept open, more opened and closed as needed): opening one costs its
pragmas, and closing the last connection to a WAL database checkpoints and deletes the WAL
file — with a connection per unit of work, that was a third of a risk decision.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from biaodi.adapters.db.audit import sha256hex

SQLITE_BUSY_TIMEOUT_MS = 30_000


#: Execution option for a read that sends one statement (the bearer token's check): on
#: SQLite's read-only engine it runs without BEGIN, since a single statement is its own read
#: transaction. Elsewhere it changes nothing.
ONE_STATEMENT = "biaodi_one_statement"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pick the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, pool_size: int = 20, echo: bool = False, read_only: bool = False,
    durable: bool = True,
) -> Engine:
    """An engine for `url`. With `read_only` on SQLite, transactions start deferred and the
    connection refuses writes, so readers never queue behind the write lock (WAL lets them
    read while one writer writes). SQL parameters (personal data among them) are never logged
    nor put in error messages (`hide_parameters`), even with `echo` on.

    `durable=False` is for a throwaway database (a simulation's scratch, a test's): PostgreSQL
    then acknowledges a COMMIT before its WAL reaches the disk (`synchronous_commit = off`),
    which saves a disk flush per transaction; a crash may lose the last transactions, never
    consistency. SQLite (WAL, `synchronous=NORMAL`) does not flush at COMMIT anyway."""
    url = normalise_url(url)
    if is_sqlite(url):
        # a file: as many connections as asked for at once, `pool_size` of them kept open
        pooling = ({"pool_size": pool_size, "max_overflow": -1} if ":memory:" not in url
                   else {})
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            **pooling,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine, read_only=read_only)
        return engine
    # A fixed pool: `pool_size` connections per process, no overflow to open and close under a
    # rush, no ping per checkout (a round trip per request); connections are recycled hourly.
    return create_engine(
        url, echo=echo, hide_parameters=True, pool_size=pool_size, max_overflow=0,
        pool_pre_ping=False, pool_recycle=3600,
        connect_args={} if durable else {"options": "-c synchronous_commit=off"},
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
        if read_only and connection.get_execution_options().get(ONE_STATEMENT):
            return  # one SELECT reads one consistent snapshot by itself: no BEGIN to send
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


#: A server's SQLite connections leave the checkpoint to `background_checkpoints` unless the
#: WAL grows past this many pages (~40 MB): then the committing request checkpoints, as
#: SQLite does by itself at 1,000.
BACKSTOP_CHECKPOINT_PAGES = 10_000
CHECKPOINT_INTERVAL_S = 0.5
log = logging.getLogger("biaodi.db")


@contextmanager
def background_checkpoints(engine: Engine,
                           interval_s: float = CHECKPOINT_INTERVAL_S) -> Iterator[None]:
    """SQLite: while the block runs, a thread of its own copies the WAL back into the
    database file every `interval_s` (a PASSIVE checkpoint: it waits for no reader and no
    writer). Without it the commit that takes the WAL past 1,000 pages does that copy and
    its two disk flushes itself — about one risk decision in 45, each 5–100 ms longer than
    the others: most of the latency tail. Any other database: nothing to do."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return

    def backstop(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")

    event.listen(engine, "connect", backstop)
    engine.dispose()  # the pooled connections reconnect with the backstop
    stop = threading.Event()

    def run() -> None:
        connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                                     isolation_level=None)
        try:
            while not stop.wait(interval_s):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the requests' backstop still holds the WAL
                    log.warning("background checkpoint failed: %s", exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="biaodi-checkpoint", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        event.remove(engine, "connect", backstop)
        engine.dispose()  # and back to SQLite's own checkpoints
