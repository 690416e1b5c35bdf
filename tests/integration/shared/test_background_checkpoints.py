"""SQLite's WAL is copied back into the database file by a thread of its own while a server
runs (`background_checkpoints`), not by whichever request's commit takes it past 1,000 pages;
the requests' connections checkpoint themselves only past a backstop."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, text

from biaodi.adapters.db.engine import (
    BACKSTOP_CHECKPOINT_PAGES,
    background_checkpoints,
    make_engine,
)


def _autocheckpoint(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_the_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)"))
    with background_checkpoints(engine, interval_s=0.05):
        assert _autocheckpoint(engine) == BACKSTOP_CHECKPOINT_PAGES
        before = path.stat().st_size
        with engine.begin() as connection:  # ~400 KB: 100 pages, well under any threshold
            connection.execute(text("INSERT INTO t (data) VALUES (randomblob(4000))"),
                               [{}] * 100)
        deadline = time.monotonic() + 10
        while path.stat().st_size <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > before + 300_000  # the pages reached the database file
    assert _autocheckpoint(engine) == 1000  # SQLite's own, once the server has stopped
    engine.dispose()


def test_nothing_to_do_for_a_database_in_memory() -> None:
    engine = create_engine("sqlite://")
    with background_checkpoints(engine):
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
