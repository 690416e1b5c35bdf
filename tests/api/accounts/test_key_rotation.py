"""Key rotation of personal data: users registered under key A stay readable, found and masked
under key B (A configured as old); `biaodi keys rotate` re-encrypts every value under B, and
running it again changes nothing."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.servicing_tables import BorrowerContact
from biaodi.adapters.db.tables import User
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform, build_platform
from biaodi.cli.main import app as cli
from biaodi.config import Settings
from biaodi.services.accounts import personal_data, users
from biaodi.services.shared.tx import in_transaction
from factories import identity
from test_support import login

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def _platform(engine: Engine, clock: FixedClock, db_url: str, tmp_path: Path, key: str,
              old: str = "", digest_key: str | None = None) -> Platform:
    settings = Settings(database_url=db_url, secret_key=key, old_secret_keys=old,
                        digest_key=digest_key, secret_key_file=tmp_path / "unused-secret")
    return build_platform(settings, clock=clock, engine=engine)


def _values(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(User.id_number_enc, User.mobile_enc)).all()
        contacts = conn.execute(select(BorrowerContact.mobile_enc)).scalars().all()
    return [v for row in rows for v in row] + list(contacts)


def test_values_under_an_old_key_stay_readable_then_rotate_to_the_new(
        engine: Engine, clock: FixedClock, db_url: str, tmp_path: Path) -> None:
    old = _platform(engine, clock, db_url, tmp_path, KEY_A)
    people = [identity() for _ in range(3)]
    with TestClient(create_app(old)) as client:
        for person in people:
            body = person | {"roles": ["borrower"]}
            assert client.post("/api/v1/users", json=body).status_code == 201
        headers = login(client, people[0]["username"])
        added = client.post("/api/v1/me/contacts", headers=headers, json={
            "name": "李四", "mobile": "13900001111", "relation": "friend", "authorised": True})
        assert added.status_code == 201, added.text
    officer = identity()
    in_transaction(old.uow, lambda uow: users.create_staff(
        uow, users.Register(**officer, roles=("risk_officer",)), old.cipher))
    before = _values(engine)

    # key B is current, A old: everything still reads, is found, and shows masked
    new = _platform(engine, clock, db_url, tmp_path, KEY_B, old=KEY_A)
    with TestClient(create_app(new)) as client:
        person = people[0]
        by_mobile = login(client, person["mobile"])  # sign-in by mobile: found by digest
        me = client.get("/api/v1/me", headers=by_mobile).json()
        assert me["username"] == person["username"]
        assert me["mobile_masked"] == person["mobile"][:3] + "****" + person["mobile"][-4:]
        assert me["id_number_masked"] == person["id_number"][:3] + "*" * 11 + person[
            "id_number"][-4:]
        assert person["id_number"] not in str(me) and person["mobile"] not in str(me)
        again = client.post("/api/v1/users", json=identity() | {
            "id_number": person["id_number"], "roles": ["investor"]})
        assert again.status_code == 409
        assert again.json()["error"]["message"] == "id_number is already registered"
        listed = client.post("/api/v1/risk/blacklist", headers=login(client, officer["username"]),
                             json={"kind": "id_number", "value": person["id_number"],
                                   "note": "lookup after rotation", "expires_in_days": 0})
        assert listed.status_code == 201, listed.text
        assert listed.json()["user_id"] == me["id"]  # the ID number found its user
        assert person["id_number"] not in listed.text
    with new.reader() as uow:
        status = personal_data.key_status(uow, new.cipher)
        assert personal_data.digests_match(uow, new.cipher) is True
    assert sum(s.old for s in status) == len(before) and sum(s.current for s in status) == 0

    done = personal_data.rotate(new.uow, new.cipher, chunk_size=2)
    assert (done.rewritten, done.unchanged) == (len(before), 0)
    only_b = PersonalDataCipher(KEY_B)
    after = _values(engine)
    assert all(only_b.is_current(v) for v in after)
    assert sorted(only_b.decrypt(v) for v in after) == sorted(
        PersonalDataCipher(KEY_A).decrypt(v) for v in before)
    assert personal_data.rotate(new.uow, new.cipher).rewritten == 0
    assert _values(engine) == after

    # A can go once the digest key is pinned: lookups by digest still work under B alone
    pinned = _platform(engine, clock, db_url, tmp_path, KEY_B,
                       digest_key=new.cipher.digest_key_hex)
    with TestClient(create_app(pinned)) as client:
        assert client.get("/api/v1/me", headers=login(client, people[1]["mobile"])).json()[
            "username"] == people[1]["username"]


def test_the_keys_commands_report_rotate_and_change_nothing_twice(
        engine: Engine, clock: FixedClock, db_url: str, tmp_path: Path) -> None:
    old = _platform(engine, clock, db_url, tmp_path, KEY_A)
    for _ in range(2):
        in_transaction(old.uow, lambda uow: users.register(
            uow, users.Register(**identity(), roles=("investor",)), old.cipher))
    runner = CliRunner()
    env = {"BIAODI_DATABASE_URL": db_url, "BIAODI_SECRET_KEY": KEY_B,
           "BIAODI_OLD_SECRET_KEYS": KEY_A}
    status = runner.invoke(cli, ["keys", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert "values under an old key: 4; unreadable: 0" in status.output
    rotated = runner.invoke(cli, ["keys", "rotate", "--chunk-size", "1"], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 4 values; 0 already under the current key" in rotated.output
    again = runner.invoke(cli, ["keys", "rotate"], env=env)
    assert "re-encrypted 0 values; 4 already under the current key" in again.output
    status = runner.invoke(cli, ["keys", "status"], env=env)
    assert "values under an old key: 0; unreadable: 0" in status.output
    # without the old key the digests no longer match: rotation refuses, changing nothing
    wrong = runner.invoke(cli, ["keys", "rotate"], env=env | {"BIAODI_OLD_SECRET_KEYS": ""})
    assert wrong.exit_code == 1 and "digest key does not match" in wrong.output
    fresh = runner.invoke(cli, ["keys", "new"])
    Fernet(fresh.output.strip().encode())  # a usable key
