"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.engine import make_engine, normalise_url
from biaodi.adapters.db.migrate import downgrade
from biaodi.adapters.db.schema import Base
from biaodi.adapters.db.tables import STATEMENT_CHECKED_ON_POSTGRESQL
from biaodi.bootstrap import Platform, migrate_database
from conftest import POSTGRES_URL, TEST_KEY


def test_migrated_schema_matches_the_models(platform: Platform) -> None:
    with platform.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _declared_where_enforced(conn.dialect.name)})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _declared_where_enforced(dialect: str):  # type: ignore[no-untyped-def]
    """On PostgreSQL the foreign keys of `STATEMENT_CHECKED_ON_POSTGRESQL` are triggers, not
    constraints (migration 0028; `test_ledger` shows they refuse what the keys refused)."""
    def include(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
        return not (dialect == "postgresql" and type_ == "foreign_key_constraint"
                    and name in STATEMENT_CHECKED_ON_POSTGRESQL)
    return include


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, not migrated (the shared ones are at the latest revision)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    assert POSTGRES_URL
    server = make_url(normalise_url(POSTGRES_URL))
    name = f"biaodi_mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_stored_mobiles_are_encrypted_by_the_upgrade_and_restored_by_the_downgrade(
        empty_database: Engine) -> None:
    engine, cipher = empty_database, PersonalDataCipher(TEST_KEY)
    migrate_database(engine, "0010")
    now = datetime(2026, 11, 28, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (id, username, real_name, mobile, id_number_enc, "
            "id_number_digest, id_number_masked, birth_date, province_code, password_hash, "
            "status, created_at) VALUES (7, 'old_user', '张三', '13812345678', :enc, :dig, "
            "'110***********0018', :born, '11', 'x', 'active', :now)"),
            {"enc": cipher.encrypt("110101199005170018"), "dig": "d" * 64,
             "born": date(1990, 5, 17), "now": now})
        conn.execute(text("INSERT INTO user_roles (user_id, role) VALUES (7, 'borrower')"))
        conn.execute(text(
            "INSERT INTO borrower_contacts (borrower_id, name, mobile, relation, authorised, "
            "created_at) VALUES (7, '李四', '13900001111', 'friend', :yes, :now)"),
            {"yes": True, "now": now})
    with pytest.raises(RuntimeError, match="needs the platform's key"):
        migrate_database(engine)  # no key, nothing changed
    migrate_database(engine, cipher=cipher)

    with engine.connect() as conn:
        user = conn.execute(text("SELECT mobile_enc, mobile_digest, mobile_masked FROM users "
                                 "WHERE id = 7")).one()
        contact = conn.execute(text("SELECT mobile_enc, mobile_masked "
                                    "FROM borrower_contacts")).one()
        roles = conn.execute(text("SELECT role FROM user_roles WHERE user_id = 7")).all()
        columns = {c["name"] for c in inspect(conn).get_columns("users")}
    assert cipher.decrypt(user.mobile_enc) == "13812345678"
    assert (user.mobile_digest, user.mobile_masked) == (cipher.digest("13812345678"),
                                                         "138****5678")
    assert (cipher.decrypt(contact.mobile_enc), contact.mobile_masked) == (
        "13900001111", "139****1111")
    assert roles == [("borrower",)] and "mobile" not in columns  # no clear mobile left

    downgrade(engine, "0010", {"cipher": cipher})  # a downgrade restores the clear column
    with engine.connect() as conn:
        assert conn.execute(text("SELECT mobile FROM users")).scalar_one() == "13812345678"


def test_related_parties_recorded_before_0023_are_related_from_their_recorded_day(
        empty_database: Engine) -> None:
    engine, cipher = empty_database, PersonalDataCipher(TEST_KEY)
    migrate_database(engine, "0022", cipher=cipher)
    # recorded at 20:30 UTC on 2026-11-14: already the 15th in Beijing
    recorded = datetime(2026, 11, 14, 20, 30, tzinfo=UTC)
    users = sa.Table("users", sa.MetaData(), autoload_with=engine)
    # every column the old table requires: a made-up value of its type
    filler = {sa.Date: date(1990, 5, 17), sa.DateTime: recorded, sa.Boolean: False,
              sa.Integer: 0, sa.String: "x", sa.Text: "x"}
    row: dict[str, object] = {}
    for column in users.columns:
        if not column.nullable and column.server_default is None and column.name != "id":
            row[column.name] = next(v for t, v in filler.items()
                                    if isinstance(column.type, t))
    with engine.begin() as conn:
        conn.execute(users.insert().values(id=7, **row))
        conn.execute(text(
            "INSERT INTO related_parties (id, user_id, relation, recorded_by, recorded_at) "
            "VALUES (1, 7, 'shareholder', 7, :at)"), {"at": recorded})
    migrate_database(engine, cipher=cipher)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT since, until FROM related_parties WHERE id = 1")).one()
    assert (str(row.since)[:10], row.until) == ("2026-11-15", None)
    downgrade(engine, "0022")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT user_id FROM related_parties")).scalars().all() == [7]
