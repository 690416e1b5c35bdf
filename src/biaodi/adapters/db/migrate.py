"""Run Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from biaodi.adapters.db.engine import normalise_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "heads", attributes: dict[str, Any] | None = None
            ) -> None:
    """Migrate the database behind `engine` to `revision` (all branch heads by default). The
    platform's own accounts are opened afterwards by the ledger service (see
    `biaodi.bootstrap.migrate_database`). `attributes` reach the migrations (the cipher)."""
    _run(engine, command.upgrade, revision, attributes)


def downgrade(engine: Engine, revision: str, attributes: dict[str, Any] | None = None) -> None:
    """Take the database behind `engine` back to `revision`."""
    _run(engine, command.downgrade, revision, attributes)


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str,
         attributes: dict[str, Any] | None) -> None:
    """One transaction. On SQLite a migration that rebuilds a table others refer to (batch
    mode) cannot drop it while foreign keys are enforced, so they are switched off for the
    migration's connection (the pragma only works outside a transaction) and checked with
    `foreign_key_check` before the commit: a violation aborts the whole migration."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes.update(attributes or {})
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys=ON")


def schema_problem(engine: Engine) -> str | None:
    """Why the database behind `engine` cannot be used as it is, or None when its schema is at
    the latest revision. A SQLite file that does not exist is not created by asking."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = engine.url
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).exists():
        return "does not exist"
    wanted = set(ScriptDirectory.from_config(
        alembic_config(url.render_as_string(hide_password=False))).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return "is not migrated"
    if current != wanted:
        return (f"is at revision {', '.join(sorted(current))}, not the latest "
                f"({', '.join(sorted(wanted))})")
    return None
