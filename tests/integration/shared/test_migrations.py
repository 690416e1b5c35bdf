"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from biaodi.adapters.db.schema import Base
from biaodi.bootstrap import Platform


def test_migrated_schema_matches_the_models(platform: Platform) -> None:
    with platform.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
