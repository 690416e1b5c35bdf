"""The dynamic blacklist on SQLite and PostgreSQL: manual entries, removal with a reason,
expiry, default past M3, confirmed fraud, linked identities, and the checks at application
and before disbursement."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.risk_tables import BlacklistAudit, BlacklistEntry
from biaodi.bootstrap import Platform
from biaodi.domain.risk.blacklist import Blacklisted
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.risk_modelling.rulepacks import load_pack
from biaodi.services.risk import applications as risk_service
from biaodi.services.risk import blacklist
from biaodi.services.shared.tx import in_transaction
from risk_support import application, apply, env, fired, register_borrower

PACK = load_pack("cn-2016")
OFFICER = 7


def _add(platform: Platform, kind: str, value: str, **fields: object) -> BlacklistEntry:
    cmd = blacklist.AddEntry(kind=kind, value=value, note=str(fields.pop("note", "bad actor")),
                             **fields)  # type: ignore[arg-type]
    return in_transaction(platform.uow, lambda uow: blacklist.add(
        uow, cmd, cipher=platform.cipher, pack=PACK, actor_id=OFFICER))


def _check(platform: Platform, user_id: int) -> None:
    in_transaction(platform.uow, lambda uow: blacklist.check_before_disbursement(
        uow, user_id, platform.cipher))


@pytest.mark.parametrize("kind", ["id_number", "mobile", "bank_card", "device"])
def test_each_kind_of_entry_refuses_an_application(platform: Platform, kind: str) -> None:
    user_id, person = register_borrower(platform)
    cmd = application(person)
    value = {"id_number": cmd.id_number, "mobile": cmd.mobile, "bank_card": cmd.bank_card,
             "device": cmd.device_id}[kind]
    entry = _add(platform, kind, str(value))
    assert entry.value_masked != value and entry.expires_at is not None
    decision = apply(platform, user_id, cmd, env(platform))
    assert decision["outcome"] == "refused"
    hit = fired(decision)["blacklist.hit"]
    assert hit["message_en"] == f"on the blacklist: {kind}"
    assert hit["message_zh"] == f"命中黑名单：{kind}"


def test_removal_needs_a_reason_and_everything_is_audited(platform: Platform) -> None:
    user_id, person = register_borrower(platform)
    entry = _add(platform, "mobile", person["mobile"], note="reported by a partner")
    assert entry.user_id is None
    with pytest.raises(InvalidInput, match="needs a reason"):
        in_transaction(platform.uow, lambda uow: blacklist.remove(
            uow, entry.id, actor_id=OFFICER, reason=" "))
    in_transaction(platform.uow, lambda uow: blacklist.remove(
        uow, entry.id, actor_id=OFFICER, reason="number reassigned by the carrier"))
    with pytest.raises(Conflict, match="already removed"):
        in_transaction(platform.uow, lambda uow: blacklist.remove(
            uow, entry.id, actor_id=OFFICER, reason="again, to be sure"))
    with pytest.raises(NotFound):
        in_transaction(platform.uow, lambda uow: blacklist.remove(
            uow, 999_999, actor_id=OFFICER, reason="no such entry"))
    with platform.uow() as uow:
        shown = blacklist.get(uow, entry.id)
        assert not shown["active"] and shown["removal_reason"] == (
            "number reassigned by the carrier")
        assert [(a["action"], a["actor_id"], a["reason"]) for a in shown["audit"]] == [
            ("added", OFFICER, "reported by a partner"),
            ("removed", OFFICER, "number reassigned by the carrier")]
        assert blacklist.browse(uow)["items"] == []
        assert len(blacklist.browse(uow, active_only=False)["items"]) == 1
    assert apply(platform, user_id, application(person), env(platform))["outcome"] == "approved"


def test_manual_entries_need_a_note_and_cannot_pretend_to_be_automatic(
        platform: Platform) -> None:
    with pytest.raises(InvalidInput, match="say why") as exc:
        _add(platform, "device", "device-123456", note="")
    assert exc.value.field == "note"
    with pytest.raises(InvalidInput, match="made by the platform"):
        _add(platform, "device", "device-123456", reason="default_m3")
    with pytest.raises(InvalidInput, match="kind must be one of"):
        _add(platform, "email", "x@example.com")


def test_entries_expire(platform: Platform, clock: FixedClock) -> None:
    user_id, person = register_borrower(platform)
    _add(platform, "id_number", person["id_number"], expires_in_days=10)
    risk = env(platform)
    assert apply(platform, user_id, application(person), risk)["outcome"] == "refused"
    clock.advance(days=11)
    assert apply(platform, user_id, application(person), risk)["outcome"] == "approved"
    with platform.uow() as uow:
        assert blacklist.browse(uow)["items"] == []


def test_default_past_m3_lists_the_identity_once(platform: Platform) -> None:
    user_id, person = register_borrower(platform)
    apply(platform, user_id, application(person), env(platform))  # leaves card and device
    with pytest.raises(InvalidInput, match="not past M3"):
        in_transaction(platform.uow, lambda uow: blacklist.on_default_past_m3(
            uow, user_id, days_overdue=90, reference="listing 1", cipher=platform.cipher,
            pack=PACK))

    def default(uow):  # type: ignore[no-untyped-def]
        return blacklist.on_default_past_m3(uow, user_id, days_overdue=91,
                                            reference="listing 1", cipher=platform.cipher,
                                            pack=PACK)

    entries = in_transaction(platform.uow, default)
    assert sorted(e.kind for e in entries) == ["bank_card", "device", "id_number", "mobile"]
    assert {e.reason for e in entries} == {"default_m3"} and {e.source for e in entries} == {
        "servicing"}
    assert all(e.expires_at is not None for e in entries)
    again = in_transaction(platform.uow, default)  # close of business runs it every day
    assert {e.id for e in again} == {e.id for e in entries}
    with platform.uow() as uow:
        assert len(uow.s.execute(select(BlacklistEntry)).scalars().all()) == 4
        assert len(uow.s.execute(select(BlacklistAudit)).scalars().all()) == 4
    with pytest.raises(Blacklisted, match="no disbursement"):
        _check(platform, user_id)


def test_confirmed_fraud_links_identities_sharing_a_phone_card_or_device(
        platform: Platform) -> None:
    risk = env(platform)
    fraud_id, fraudster = register_borrower(platform)
    mule_id, mule = register_borrower(platform)
    bystander_id, bystander = register_borrower(platform)
    cmd = application(fraudster)
    apply(platform, fraud_id, cmd, risk)
    apply(platform, mule_id, application(mule, device_id=cmd.device_id), risk)
    apply(platform, bystander_id, application(bystander), risk)

    entries = in_transaction(platform.uow, lambda uow: blacklist.on_confirmed_fraud(
        uow, fraud_id, note="forged pay slips", actor_id=OFFICER, cipher=platform.cipher,
        pack=PACK))
    own = [e for e in entries if e.reason == "fraud"]
    linked = [e for e in entries if e.reason == "linked_identity"]
    assert {e.kind for e in own} == {"id_number", "mobile", "bank_card", "device"}
    assert all(e.expires_at is None for e in own)  # fraud stays until removed
    assert [e.user_id for e in linked] == [mule_id] and linked[0].kind == "id_number"
    assert linked[0].linked_entry_id == own[0].id and linked[0].expires_at is not None

    assert fired(apply(platform, mule_id, application(mule), risk))["blacklist.hit"]
    assert apply(platform, bystander_id, application(bystander), risk)["outcome"] == (
        "approved")
    with pytest.raises(Blacklisted):
        _check(platform, mule_id)
    _check(platform, bystander_id)
    with pytest.raises(InvalidInput, match="describe the confirmed fraud"):
        in_transaction(platform.uow, lambda uow: blacklist.on_confirmed_fraud(
            uow, bystander_id, note="", actor_id=OFFICER, cipher=platform.cipher, pack=PACK))


def test_a_manual_fraud_entry_by_id_number_also_links(platform: Platform) -> None:
    risk = env(platform)
    a_id, a = register_borrower(platform)
    b_id, b = register_borrower(platform)
    card = application(a).bank_card
    apply(platform, a_id, application(a), risk)
    apply(platform, b_id, application(b, bank_card=card), risk)
    entry = _add(platform, "id_number", a["id_number"], reason="fraud", note="stolen identity")
    assert entry.user_id == a_id and entry.expires_at is None
    with platform.uow() as uow:
        linked = blacklist.browse(uow, user_id=b_id)["items"]
    assert [(e["reason"], e["linked_entry_id"]) for e in linked] == [
        ("linked_identity", entry.id)]


def test_the_blacklist_is_checked_again_before_disbursement_and_at_review(
        platform: Platform) -> None:
    risk = env(platform)
    user_id, person = register_borrower(platform)
    decision = apply(platform, user_id, application(person, province="广东"), risk)
    assert decision["outcome"] == "referred"
    _check(platform, user_id)  # clean at application
    entry = _add(platform, "device", str(application(person).device_id))
    with pytest.raises(Blacklisted, match=r"on the blacklist \(device\)") as exc:
        _check(platform, user_id)
    assert exc.value.status == 409 and exc.value.field == "user_id"
    with pytest.raises(Blacklisted):
        in_transaction(platform.uow, lambda uow: risk_service.review(
            uow, decision["application_id"], officer_id=OFFICER, approve=True,
            reason="documents fine", cipher=platform.cipher))
    in_transaction(platform.uow, lambda uow: blacklist.remove(
        uow, entry.id, actor_id=OFFICER, reason="device belongs to an internet cafe"))
    in_transaction(platform.uow, lambda uow: risk_service.screen_before_disbursement(
        uow, user_id, platform.cipher))
