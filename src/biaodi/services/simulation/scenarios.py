"""Where a simulation runs: scenario files, and the scratch database (fresh, or a copy of the
live book for `--from-live`; the live database is only read)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, delete, insert, select

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


def copy_book(source: Engine, target: Engine) -> int:
    """Every row of every table, from `source` into the migrated `target` (emptied first);
    returns the rows copied. `source` is only read."""
    tables = Base.metadata.sorted_tables
    copied = 0
    with target.begin() as dst:
        for table in reversed(tables):
            dst.execute(delete(table))
        with source.connect() as src:
            for table in tables:
                order = [c for c in table.primary_key.columns] or list(table.columns)
                result = src.execute(select(table).order_by(*order)).mappings()
                while batch := result.fetchmany(COPY_BATCH):
                    dst.execute(insert(table), [dict(row) for row in batch])
                    copied += len(batch)
            src.rollback()
    return copied
