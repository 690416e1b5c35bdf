"""The audit trail on both databases: one hash-chained record per committed transaction, the
chain recomputed by `verify`, and a changed, deleted or reordered record named by number."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from biaodi.adapters.db.audit_tables import GENESIS_HASH
from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared import audit
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from factories import identity
from statements_support import statement_counter


def deposits(platform: Platform, n: int, user_id: int = 7) -> str:
    """`n` deposits into one investor's wallet: `n` records."""
    account = wallet(OwnerKind.INVESTOR, user_id)
    in_transaction(platform.uow, lambda uow: ledger.open_accounts(uow, [account]))
    for k in range(n):
        draft = EntryDraft("deposit", memo=f"deposit {k}").transfer(
            "custody:cash", account.code, 100 * (k + 1))
        in_transaction(platform.uow, lambda uow, d=draft: ledger.post(uow, d))
    return account.code


def records(platform: Platform) -> list[dict]:
    with platform.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(
            "SELECT seq, actor_id, request_id, payload, prev_hash, hash FROM audit_records "
            "ORDER BY seq"))]


def verify(platform: Platform) -> audit.Verification:
    with platform.reader() as uow:
        return audit.verify(uow)


@pytest.fixture
def tamper(platform: Platform, backend: str) -> Iterator[Engine]:
    """The database with the append-only trigger out of the way (as an intruder with the
    owner's rights would have it): verification must still catch what they do."""
    engine = platform.engine
    if backend == "postgres":
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_records DISABLE TRIGGER "
                              "audit_records_append_only"))
    yield engine
    if backend == "postgres":
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_records ENABLE TRIGGER "
                              "audit_records_append_only"))


def test_each_transaction_writes_one_record_chained_to_the_last(platform: Platform) -> None:
    deposits(platform, 3)
    rows = records(platform)
    assert [r["seq"] for r in rows] == [1, 2, 3]  # opening accounts noted nothing
    assert rows[0]["prev_hash"] == GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after["prev_hash"] == before["hash"]
    for row in rows:
        digest = hashlib.sha256((row["prev_hash"] + row["payload"]).encode()).hexdigest()
        assert row["hash"] == digest  # computed by the database, recomputed here
    payload = json.loads(rows[2]["payload"])
    assert payload["actor"] == "system" and payload["business_date"] == "2026-11-28"
    [event] = payload["events"]
    assert event["action"] == "ledger.post" and event["subjects"] == [["user", 7]]
    assert event["changes"]["postings"] == [["custody:cash", 300], ["investor:7:available",
                                                                     -300]]
    assert rows[2]["payload"] == audit.canonical(payload)  # canonical: sorted, compact
    result = verify(platform)
    assert result.ok and result.records == 3


def test_the_record_names_the_actor_and_request_and_a_rollback_writes_nothing(
        platform: Platform) -> None:
    account = wallet(OwnerKind.INVESTOR, 8)
    in_transaction(platform.uow, lambda uow: ledger.open_accounts(uow, [account]))
    draft = EntryDraft("deposit").transfer("custody:cash", account.code, 500)
    with audit.acting("cli", request_id="req-1") as ctx:
        ctx.signed_in(42)
        in_transaction(platform.uow, lambda uow: ledger.post(uow, draft))
    with platform.uow() as uow:  # noted, then rolled back: no record
        ledger.post(uow, draft)
        uow.rollback()
    with platform.uow() as uow:  # noted inside a savepoint rolled back: not in the record
        savepoint = uow.s.begin_nested()
        ledger.post(uow, draft)
        savepoint.rollback()
        audit.note(uow, "user.disabled", subjects=[("user", 8)], changes={"status": "x"})
        uow.commit()
    rows = records(platform)
    assert len(rows) == 2
    assert (rows[0]["actor_id"], rows[0]["request_id"]) == (42, "req-1")
    assert json.loads(rows[0]["payload"])["actor"] == "user"
    assert [e["action"] for e in json.loads(rows[1]["payload"])["events"]] == ["user.disabled"]
    assert verify(platform).ok


def test_payloads_hold_no_floats_and_money_as_fen() -> None:
    assert audit.canonical({"b": Money(150), "a": [1, "x"]}) == '{"a":[1,"x"],"b":150}'
    with pytest.raises(TypeError, match="float"):
        audit.canonical({"rate": 0.1})


def test_a_subjects_trail_lists_its_records_oldest_first(platform: Platform) -> None:
    deposits(platform, 2, user_id=9)
    with platform.reader() as uow:
        trail = audit.trail(uow, "user", 9)
        assert [e.seq for e in trail] == [1, 2]
        assert trail[0].events[0]["action"] == "ledger.post"
        assert audit.trail(uow, "user", 10) == []
        with pytest.raises(InvalidInput) as refused:
            audit.trail(uow, "wallet", 9)
    assert refused.value.field == "subject_kind"
    assert audit.parse_subject("listing:5") == ("listing", 5)


def test_signing_in_and_out_is_on_the_users_trail(platform: Platform) -> None:
    from datetime import timedelta

    from biaodi.services.accounts import users

    data = identity()
    user_id = in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**data, roles=("investor",)), platform.cipher)).id
    token, _ = in_transaction(platform.uow, lambda uow: users.login(
        uow, data["username"], data["password"], timedelta(hours=1), platform.cipher))
    in_transaction(platform.uow, lambda uow: users.logout(uow, token))
    in_transaction(platform.uow, lambda uow: users.logout(uow, token))  # already out: no record
    with platform.reader() as uow:
        actions = [event["action"] for entry in audit.trail(uow, "user", user_id)
                   for event in entry.events]
        assert audit.verify(uow).ok
        payloads = " ".join(uow.s.scalars(text("SELECT payload FROM audit_records")))
    assert actions == ["user.created", "user.signed_in", "user.signed_out"]
    assert token not in payloads and hashlib.sha256(token.encode()).hexdigest() not in payloads


def test_a_changed_payload_is_named(platform: Platform, tamper: Engine) -> None:
    deposits(platform, 4)
    with tamper.begin() as conn:
        conn.execute(text("UPDATE audit_records SET payload = REPLACE(payload, '300', '301') "
                          "WHERE seq = 3"))
    result = verify(platform)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (3, "changed")
    assert result.records == 2


def test_a_rehashed_change_is_named(platform: Platform, tamper: Engine) -> None:
    """Changed and given a fresh hash of its own: the next record no longer links to it."""
    deposits(platform, 4)
    row = records(platform)[1]
    payload = row["payload"].replace("200", "201")
    with tamper.begin() as conn:
        conn.execute(text("UPDATE audit_records SET payload = :p, hash = :h WHERE seq = 2"),
                     {"p": payload, "h": hashlib.sha256(
                         (row["prev_hash"] + payload).encode()).hexdigest()})
    problem = verify(platform).problem
    assert problem is not None and (problem.seq, problem.kind) == (2, "changed")


def test_a_deleted_record_is_named(platform: Platform, tamper: Engine) -> None:
    deposits(platform, 4)
    with tamper.begin() as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 2"))
    problem = verify(platform).problem
    assert problem is not None and (problem.seq, problem.kind) == (2, "missing")


def test_a_deleted_last_record_is_named(platform: Platform, tamper: Engine) -> None:
    deposits(platform, 3)
    with tamper.begin() as conn:
        conn.execute(text("DELETE FROM audit_subjects WHERE seq = 3"))
        conn.execute(text("DELETE FROM audit_records WHERE seq = 3"))
    problem = verify(platform).problem
    assert problem is not None and (problem.seq, problem.kind) == (3, "missing")


def test_two_swapped_records_are_named(platform: Platform, tamper: Engine) -> None:
    deposits(platform, 4)
    with tamper.begin() as conn:  # records 2 and 3 trade places
        conn.execute(text("UPDATE audit_records SET seq = -2 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_records SET seq = 2 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_records SET seq = 3 WHERE seq = -2"))
    problem = verify(platform).problem
    assert problem is not None and (problem.seq, problem.kind) == (2, "out of order")


def test_a_changed_subject_index_is_named(platform: Platform, tamper: Engine) -> None:
    deposits(platform, 3)
    with tamper.begin() as conn:
        conn.execute(text("UPDATE audit_subjects SET subject_id = 99 WHERE seq = 2"))
    problem = verify(platform).problem
    assert problem is not None and (problem.seq, problem.kind) == (2, "changed")


def test_postgresql_refuses_to_update_or_delete_a_record(platform: Platform,
                                                         backend: str) -> None:
    if backend != "postgres":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    deposits(platform, 1)
    for statement in ("UPDATE audit_records SET payload = '{}' WHERE seq = 1",
                      "DELETE FROM audit_records WHERE seq = 1"):
        with pytest.raises(DBAPIError, match="append-only"), platform.engine.begin() as conn:
            conn.execute(text(statement))
    assert verify(platform).ok


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_verify_says_ok_then_names_the_changed_record(
        cli, platform: Platform, tamper: Engine) -> None:  # type: ignore[no-untyped-def]
    deposits(platform, 3)
    ok = cli("audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "audit trail OK: 3 records, chain intact"
    with tamper.begin() as conn:
        conn.execute(text("UPDATE audit_records SET payload = REPLACE(payload, 'deposit 1', "
                          "'deposit 9') WHERE seq = 2"))
    bad = cli("audit", "verify")
    assert bad.exit_code == 1
    assert "record 2 changed: its hash does not match its contents" in bad.output


@pytest.mark.parametrize(("how", "named"), [
    (("DELETE FROM audit_records WHERE seq = 3",), "record 3 missing"),
    (("UPDATE audit_records SET seq = -2 WHERE seq = 2",
      "UPDATE audit_records SET seq = 2 WHERE seq = 3",
      "UPDATE audit_records SET seq = 3 WHERE seq = -2"), "record 2 out of order"),
])
def test_cli_verify_names_a_deleted_or_swapped_record(
        cli, platform: Platform, tamper: Engine,  # type: ignore[no-untyped-def]
        how: tuple[str, ...], named: str) -> None:
    deposits(platform, 4)
    with tamper.begin() as conn:
        for statement in how:
            conn.execute(text(statement))
    bad = cli("audit", "verify")
    assert bad.exit_code == 1
    assert named in bad.output


def test_a_cli_command_records_the_actor_cli(cli, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    data = identity()
    result = cli("users", "create-operator", "--username", data["username"], "--real-name",
                 data["real_name"], "--id-number", data["id_number"], "--mobile",
                 data["mobile"], "--password", data["password"])
    assert result.exit_code == 0, result.output
    [row] = records(platform)
    payload = json.loads(row["payload"])
    assert payload["actor"] == "cli" and row["request_id"].startswith("cli-")
    assert payload["events"][0]["action"] == "user.created"
    assert data["id_number"] not in row["payload"] and data["mobile"] not in row["payload"]


def test_the_record_is_written_last_and_in_one_statement_on_postgresql(
        platform: Platform, backend: str) -> None:
    """The head of the chain is the last row a transaction locks (no lock-order inversion, so
    no deadlock), and on PostgreSQL the whole record is one statement."""
    account = deposits(platform, 1)
    draft = EntryDraft("deposit").transfer("custody:cash", account, 100)
    with statement_counter(platform.engine) as seen:
        in_transaction(platform.uow, lambda uow: ledger.post(uow, draft))
    touching = [n for n, s in enumerate(seen.statements) if "audit_" in s]
    expected = 1 if backend == "postgres" else 3
    assert touching == list(range(seen.count - expected, seen.count)), str(seen)
    assert "audit_head" in seen.statements[touching[0]]


def test_concurrent_writers_chain_in_commit_order(platform: Platform, backend: str) -> None:
    """Writers on different accounts at once: every commit gets its record, numbered without
    gaps, and the chain verifies (the head is taken last, so no deadlock)."""
    workers, per_worker = 6, 15
    accounts = [wallet(OwnerKind.INVESTOR, 100 + n) for n in range(workers)]
    in_transaction(platform.uow, lambda uow: ledger.open_accounts(uow, accounts))
    errors: list[BaseException] = []

    def work(n: int) -> None:
        for k in range(per_worker):
            draft = EntryDraft("deposit", memo=f"{n}:{k}").transfer(
                "custody:cash", accounts[n].code, 1 + k)
            try:
                in_transaction(platform.uow, lambda uow, d=draft: ledger.post(uow, d))
            except BaseException as exc:  # collected: a thread's failure fails the test
                errors.append(exc)
                return

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    result = verify(platform)
    assert result.ok, result.problem
    assert result.records == workers * per_worker
