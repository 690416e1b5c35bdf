"""Where a simulation runs: scenario files, and the scratch database (fresh, or a copy of the
live book for `--from-live`; the live database is only read)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, insert, select, text

from biaodi.adapters.db.schema import Base
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.simulation.scenario import Scenario, load

#: The scenario files shipped with Biaodi (the repository's `scenarios/` folder).
SHIPPED = Path(__file__).resolve().parents[4] / "scenarios"
COPY_BATCH = 2_000


def find(name: str) -> Scenario:
    """A scenario by name (`scenarios/NAME.toml`, here or shipped) or by a TOML file's path."""
    if name == "baseline":
        candidates = [Path("scenarios") / "baseline.toml", SHIPPED / "baseline.toml"]
        found = next((p for p in candidates if p.is_file()), None)
        return load(found) if found else Scenario()
    path = Path(name)
    candidates = [path] if path.suffix == ".toml" else [
        Path("scenarios") / f"{name}.toml", SHIPPED / f"{name}.toml"]
    for candidate in candidates:
        if candidate.is_file():
            return load(candidate)
    known = sorted(p.stem for p in SHIPPED.glob("*.toml")) if SHIPPED.is_dir() else []
    raise InvalidInput(f"no scenario {name!r}" + (f": one of {', '.join(known)}" if known
                                                   else ""), field="scenario")


def has_users(engine: Engine) -> bool:
    from biaodi.adapters.db.tables import User

    with engine.connect() as conn:
        return conn.execute(select(User.id).limit(1)).first() is not None


def copy_book(source: Engine, target: Engine) -> int:
    """Every row of every table, from `source` into the migrated `target` (emptied first);
    returns the rows copied. `source` is only read. The target's triggers (counters kept by
    the database) are off while the rows go in: the copied rows already hold their effects."""
    tables = Base.metadata.sorted_tables
    copied = 0
    with target.begin() as dst:
        restore = _triggers_off(dst)
        for table in reversed(tables):
            dst.execute(delete(table))
        with source.connect() as src:
            for table in tables:
                order = list(table.primary_key.columns) or list(table.columns)
                result = src.execute(select(table).order_by(*order)).mappings()
                while batch := result.fetchmany(COPY_BATCH):
                    dst.execute(insert(table), [dict(row) for row in batch])
                    copied += len(batch)
            src.rollback()
        restore()
    return copied


def _triggers_off(conn: Connection) -> Callable[[], None]:
    if conn.dialect.name == "sqlite":
        found = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                  "ORDER BY name")).all()
        for name, _ in found:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
        return lambda: [conn.execute(text(sql)) for _, sql in found] and None
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    return lambda: None
