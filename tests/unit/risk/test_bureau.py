"""The sandbox credit bureau: configurable answers per identity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biaodi.adapters.bureau import BureauError, FourElements, Verification
from biaodi.adapters.bureau.sandbox import SandboxAnswer, SandboxBureau
from biaodi.domain.shared.money import Money

ID = "11010119900101003X"
ELEMENTS = FourElements("张三", ID, "13800001111", "6222020200112233")


def test_by_default_everyone_verifies_and_owes_nothing_elsewhere() -> None:
    bureau = SandboxBureau()
    assert bureau.verify(ELEMENTS).status is Verification.MATCH
    report = bureau.report(ID)
    assert report.available and report.outstanding == Money(0) and report.defaults == 0
    assert bureau.calls == [("verify", ID), ("report", ID)]


def test_answers_are_configured_per_identity() -> None:
    bureau = SandboxBureau()
    bureau.configure(ID.lower(), four_elements=Verification.MISMATCH, mismatched=("mobile",),
                     outstanding=Money.yuan(850000), platforms=3, defaults=1)
    result = bureau.verify(ELEMENTS)
    assert result.status is Verification.MISMATCH and result.mismatched == ("mobile",)
    report = bureau.report(ID)
    assert (report.outstanding, report.platforms, report.defaults) == (
        Money.yuan(850000), 3, 1)
    other = bureau.report("110101199001020038")
    assert other.outstanding == Money(0)
    bureau.configure(ID, SandboxAnswer(report_available=False))
    assert not bureau.report(ID).available
    bureau.configure(ID, fail=True)
    with pytest.raises(BureauError, match="outage"):
        bureau.verify(ELEMENTS)
    bureau.reset()
    assert bureau.verify(ELEMENTS).status is Verification.MATCH


def test_a_mismatch_names_at_least_one_element() -> None:
    bureau = SandboxBureau()
    bureau.configure(ID, four_elements=Verification.MISMATCH)
    assert bureau.verify(ELEMENTS).mismatched == ("bank_card",)


def test_answers_load_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "bureau.json"
    path.write_text(json.dumps({ID: {"four_elements": "unavailable",
                                     "outstanding": "1200.50", "defaults": 2}}))
    bureau = SandboxBureau.from_file(path)
    assert bureau.verify(ELEMENTS).status is Verification.UNAVAILABLE
    assert bureau.report(ID).outstanding == Money.yuan("1200.50")
