"""Where the CLI finds its database when BIAODI_DATABASE_URL is unset: the Biaodi home, not
the folder a command happens to be run from."""

from __future__ import annotations

from pathlib import Path

import pytest

import biaodi
from biaodi.config import Settings


def test_default_database_is_in_the_checkout_from_any_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIAODI_DATABASE_URL", raising=False)
    monkeypatch.delenv("BIAODI_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    checkout = Path(biaodi.__file__).resolve().parents[2]
    settings = Settings()
    assert settings.database_url == f"sqlite:///{checkout / 'biaodi.db'}"
    assert settings.secret_key_file == checkout / ".biaodi-secret"


def test_biaodi_home_and_the_url_override_the_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIAODI_DATABASE_URL", raising=False)
    monkeypatch.setenv("BIAODI_HOME", str(tmp_path))
    assert Settings().database_url == f"sqlite:///{tmp_path.resolve() / 'biaodi.db'}"
    monkeypatch.setenv("BIAODI_DATABASE_URL", "sqlite:////srv/biaodi/live.db")
    assert Settings().database_url == "sqlite:////srv/biaodi/live.db"
