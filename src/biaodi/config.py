"""Configuration, read from the environment (prefix BIAODI_) by pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BIAODI_", env_file=None, extra="ignore")

    #: SQLAlchemy URL. SQLite file in the working directory by default; PostgreSQL in production
    #: (``postgresql://user@host/db`` is taken to mean the psycopg 3 driver).
    database_url: str = "sqlite:///./biaodi.db"
    #: Key for encrypting personal data (Fernet, urlsafe base64 of 32 bytes). When unset a key is
    #: generated once into ``secret_key_file`` with owner-only permissions.
    secret_key: str | None = None
    secret_key_file: Path = Path("./.biaodi-secret")
    #: Compliance profile: rule pack that governs listing types and limits.
    compliance_profile: str = "cn-2016"
    #: Largest single amount accepted from outside, in fen (default 100,000,000.00 yuan).
    money_ceiling_fen: int = Field(default=100_000_000_00, gt=0)
    #: Lifetime of a login token, in minutes.
    token_ttl_minutes: int = Field(default=12 * 60, gt=0)
    #: Fixed clock for demos and tests, ISO datetime (UTC); unset means the system clock.
    fixed_now: str | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
