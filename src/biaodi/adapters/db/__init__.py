"""The database adapter: SQLAlchemy tables, engines, the unit of work, Alembic migrations."""
