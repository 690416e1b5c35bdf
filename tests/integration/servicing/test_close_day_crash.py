"""Close of business killed midway (a real `biaodi close-day` process, SIGKILL inside a chunk's
transaction), then run again, ends in exactly the state of an uninterrupted run on an
identical copy of the database — on SQLite (a copied file) and PostgreSQL (a database created
from the first as a template)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.engine import make_engine, normalise_url
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.bootstrap import Platform
from biaodi.services.ledger import posting as ledger
from biaodi.services.servicing.close_day import STEPS
from biaodi.services.shared import audit
from conftest import TEST_KEY
from servicing_support import (
    due_dates,
    funded_loan,
    guarantor,
    pay_in,
    run_close,
    servicing_rules,
    snapshot,
    walk,
)

BIAODI = Path(sys.executable).parent / "biaodi"


@contextmanager
def two_copies(platform: Platform, backend: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two identical copies of the test database: (uninterrupted, crashed)."""
    url = platform.engine.url.render_as_string(hide_password=False)
    platform.engine.dispose()
    if backend == "sqlite":
        source = Path(make_url(url).database or "")
        with sqlite3.connect(source) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copies = []
        for name in ("straight.db", "crashed.db"):
            shutil.copyfile(source, tmp_path / name)
            copies.append(f"sqlite:///{tmp_path / name}")
        yield copies[0], copies[1]
        return
    server = make_url(normalise_url(url))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    names = [f"biaodi_crash_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{server.database}"'))
    try:
        yield tuple(server.set(database=n).render_as_string(hide_password=False)  # type: ignore[misc]
                    for n in names)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def environment(url: str, clock: FixedClock, **extra: str) -> dict[str, str]:
    return os.environ | {
        "BIAODI_DATABASE_URL": url, "BIAODI_SECRET_KEY": TEST_KEY,
        "BIAODI_FIXED_NOW": clock.now().isoformat(), "BIAODI_SERVICING_CHUNK_SIZE": "1",
    } | extra


def close_day(url: str, clock: FixedClock, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIAODI), "close-day", "--date", clock.today().isoformat(), "--json"],
        env=environment(url, clock, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def steps_done(url: str) -> int:
    engine = make_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM close_day_steps")).scalar() or 0)
    finally:
        engine.dispose()


def test_killed_close_day_resumes_to_the_same_state(platform: Platform, clock: FixedClock,
                                                    backend: str, tmp_path: Path) -> None:
    loans = [funded_loan(platform, kind, guarantor_id=guarantor(platform) if kind == "guarantee"
                         else None)
             for kind in ("credit", "collateral", "guarantee", "transfer", "credit", "guarantee")]
    for loan in loans[:3]:  # half of them pay, half fall behind
        pay_in(platform, loan.payer, 400_000)
    dues = due_dates(platform, loans[0].listing_id)
    run_close(platform)
    walk(platform, clock, dues[0] - timedelta(days=2), rules=servicing_rules(platform))
    clock.advance(days=6)  # the next run closes six days: due date, arrears, compensation
    with platform.uow() as uow:
        closed_before = int(uow.s.execute(text("SELECT COUNT(*) FROM close_day_steps")).scalar())

    with two_copies(platform, backend, tmp_path) as (straight, crashed):
        done = close_day(straight, clock)
        out, err = done.communicate(timeout=300)
        assert done.returncode == 0, err
        assert [d["business_date"] for d in json.loads(out)["days"]][-1] == \
            clock.today().isoformat()

        victim = close_day(crashed, clock, BIAODI_SERVICING_CHUNK_PAUSE_MS="150")
        target = closed_before + 3 * len(STEPS)  # well into the first days, before the end
        deadline = time.monotonic() + 120
        while steps_done(crashed) < target:
            assert victim.poll() is None, victim.communicate()
            assert time.monotonic() < deadline, "close-day made no progress"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
        assert victim.returncode == -signal.SIGKILL
        peek = make_engine(crashed)
        try:
            interrupted = snapshot(peek)
        finally:
            peek.dispose()
        assert ("running",) in {(r[1],) for r in interrupted["runs"]}  # type: ignore[index]

        again = close_day(crashed, clock)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        days = json.loads(out)["days"]
        assert days[0]["resumed"] and days[0]["attempts"] >= 2

        straight_engine, crashed_engine = make_engine(straight), make_engine(crashed)
        try:
            expected, got = snapshot(straight_engine), snapshot(crashed_engine)
            assert got == expected
            assert any(row[-1] != "scheduled" for row in got["instalments"])  # type: ignore[index]
            assert got["repayments"] and got["positions"] != interrupted["positions"]
            with UnitOfWork(crashed_engine) as uow:
                assert ledger.verify(uow).balanced
                chain = audit.verify(uow)  # the kill left no half-written audit record
                assert chain.ok and chain.records, chain.problem
        finally:
            straight_engine.dispose()
            crashed_engine.dispose()
