"""`biaodi db …`: schema migrations."""

from __future__ import annotations

import typer
from alembic.migration import MigrationContext

from biaodi.bootstrap import migrate_database
from biaodi.cli.common import console, platform

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("heads", help="Target revision.")) -> None:
    """Migrate the database (BIAODI_DATABASE_URL; default biaodi.db in the Biaodi home, see
    README) to the latest schema."""
    p = platform(migrated=False)
    url = p.engine.url.render_as_string(hide_password=True)
    migrate_database(p.engine, revision, p.cipher)
    with p.engine.connect() as conn:
        heads = ", ".join(sorted(MigrationContext.configure(conn).get_current_heads()))
    console.print(f"database at {url} is at revision {heads}", highlight=False)
    p.close()
