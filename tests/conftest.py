"""Shared fixtures: every database test runs on SQLite and, when BIAODI_TEST_POSTGRES_URL is
set, on PostgreSQL too. Each run creates its own PostgreSQL database and drops it afterwards,
so whatever an earlier run left on the server never matters."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.engine import make_engine, normalise_url
from biaodi.adapters.db.schema import Base
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.bootstrap import Platform, build_platform, migrate_database
from biaodi.config import Settings
from biaodi.services.ledger.posting import open_platform_accounts

POSTGRES_URL = os.environ.get("BIAODI_TEST_POSTGRES_URL")
# The suite signs up and signs in hundreds of users from one address: rate limits are off in
# tests (servers started as processes read this too) except where a test turns them on
# (tests/api/meta/test_rate_limits.py).
os.environ["BIAODI_RATE_LIMITS_ENABLED"] = "false"
SKIP_POSTGRES = "PostgreSQL not tested: set BIAODI_TEST_POSTGRES_URL to a server URL to run it"
TEST_KEY = Fernet.generate_key().decode()
START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """Argon2id with small parameters: the suite registers thousands of users."""
    from argon2 import PasswordHasher

    from biaodi.adapters import crypto

    production = crypto._hasher
    crypto._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    crypto._hasher = production


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate_database(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so a copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    server = make_url(normalise_url(POSTGRES_URL))
    name = f"biaodi_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate_database(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_postgres(url: str) -> Engine:
    # up to 48 connections: the server allows 100; a test's database need not survive a crash
    engine = make_engine(url, pool_size=16, durable=False)
    tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    with UnitOfWork(engine) as uow:
        open_platform_accounts(uow)
        uow.commit()
    return engine


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "biaodi.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def engine(db_url: str, backend: str) -> Iterator[Engine]:
    eng = make_engine(db_url) if backend == "sqlite" else _fresh_postgres(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def platform(engine: Engine, clock: FixedClock, db_url: str, tmp_path: Path) -> Platform:
    settings = Settings(
        database_url=db_url, secret_key=TEST_KEY, secret_key_file=tmp_path / "unused-secret"
    )
    return build_platform(settings, clock=clock, engine=engine)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def book_platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[Platform]:
    """An empty platform of its own per test module and database (the clock at START), for
    modules that build one book through the services and read it in every test (analytics,
    disclosure)."""
    tmp: Path = tmp_path_factory.mktemp("book")
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp / "biaodi.db")
        url = f"sqlite:///{tmp / 'biaodi.db'}"
        engine = make_engine(url)
    else:
        if not POSTGRES_URL:
            pytest.skip(SKIP_POSTGRES)
        url = str(request.getfixturevalue("postgres_database"))
        engine = _fresh_postgres(url)
    settings = Settings(database_url=url, secret_key=TEST_KEY,
                        secret_key_file=tmp / "unused-secret")
    platform = build_platform(settings, clock=FixedClock(START), engine=engine)
    yield platform
    engine.dispose()


@pytest.fixture
def uow(platform: Platform) -> Iterator[UnitOfWork]:
    with platform.uow() as unit:
        yield unit
