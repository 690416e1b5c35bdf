"""A platform per test module and database for the disclosure books: built once through the
services, read by every figure's test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.engine import make_engine
from biaodi.bootstrap import Platform, build_platform
from biaodi.config import Settings
from conftest import POSTGRES_URL, SKIP_POSTGRES, START, TEST_KEY, _fresh_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def book_platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[Platform]:
    """An empty platform of its own for the module (the clock at the suite's START)."""
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
