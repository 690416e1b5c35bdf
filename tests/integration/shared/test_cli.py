"""The `biaodi` command line against a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.services.accounts.users import roles_of
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from factories import identity


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input)

    return invoke


def test_db_upgrade_is_repeatable(run, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "is at revision 0" in result.output


def test_ledger_verify_passes_then_reports_tampering(run, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    investor = wallet(OwnerKind.INVESTOR, 5)
    in_transaction(platform.uow, lambda uow: ledger.open_accounts(uow, [investor]))
    draft = EntryDraft("deposit").transfer("custody:cash", investor.code, 12_345)
    in_transaction(platform.uow, lambda uow: ledger.post(uow, draft))

    ok = run("ledger", "verify")
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == ("ledger balanced: 1 entries, 10 accounts; counters agree with"
                                 " history")

    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET balance = 1 WHERE code = :c"), {"c": investor.code})
    bad = run("ledger", "verify")
    assert bad.exit_code == 1
    assert "investor:5:available: stored balance 1 fen, postings give 12345 fen" in bad.output


def test_create_operator_then_refuse_a_duplicate(run, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    data = identity()
    args = [
        "users",
        "create-operator",
        "--username",
        data["username"],
        "--real-name",
        "李四",
        "--id-number",
        data["id_number"],
        "--mobile",
        data["mobile"],
        "--password",
        data["password"],
    ]
    first = run(*args)
    assert first.exit_code == 0, first.output
    assert f"created operator {data['username']}" in first.output
    again = run(*args)
    assert again.exit_code == 1
    assert "already registered" in again.output


def test_create_an_operator_who_may_override_risk(run, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    data = identity()
    result = run("users", "create-operator", "--username", data["username"], "--real-name",
                 "李四", "--id-number", data["id_number"], "--mobile", data["mobile"],
                 "--password", data["password"], "--role", "operator,risk_override")
    assert result.exit_code == 0, result.output
    user_id = int(result.output.split("(id ")[1].split(")")[0])
    with platform.uow() as uow:
        assert sorted(roles_of(uow, user_id)) == ["operator", "risk_override"]


def test_create_operator_with_bad_id_exits_2(run, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    data = identity()
    result = run(
        "users",
        "create-operator",
        "--username",
        "ops",
        "--real-name",
        "李四",
        "--id-number",
        "110101199003071234",
        "--mobile",
        data["mobile"],
        "--password",
        data["password"],
    )
    assert result.exit_code == 2
    assert "check digit" in result.output


@pytest.mark.parametrize("command", [
    ("ledger", "verify"), ("demo", "seed"), ("payment-exceptions",), ("close-day",),
    ("serve", "--no-gateway"),
])
def test_an_unmigrated_database_is_one_line_and_exit_2(
        command: tuple[str, ...], tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    monkeypatch.setenv("BIAODI_DATABASE_URL", f"sqlite:///{empty}")
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    result = CliRunner().invoke(app, list(command))
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"error: database at sqlite:///{empty} is not migrated: run `biaodi db upgrade`")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_database_is_reported_not_created(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nowhere.db"
    monkeypatch.setenv("BIAODI_DATABASE_URL", f"sqlite:///{missing}")
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    result = CliRunner().invoke(app, ["ledger", "verify"])
    assert result.exit_code == 2
    assert "does not exist: run `biaodi db upgrade`" in result.output
    assert not missing.exists()
    upgraded = CliRunner().invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert CliRunner().invoke(app, ["ledger", "verify"]).exit_code == 0


def test_serve_names_the_event_loops_and_parsers_it_knows(run) -> None:  # type: ignore[no-untyped-def]
    result = run("serve", "--loop", "tokio")
    assert result.exit_code == 1
    assert "--loop is one of auto, asyncio, uvloop; --http one of auto, h11, httptools" in \
        " ".join(result.output.split())
