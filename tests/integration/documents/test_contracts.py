"""E-contracts on both databases: a funded loan's agreements are issued once per party by the
close-of-business step, each verifies, a changed byte does not, and only the party downloads
its copy; a guaranteed loan adds the guarantee letters; without the font nothing is issued
and nothing else stops."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.shared.errors import NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.documents import contracts
from biaodi.services.documents.steps import document_steps
from biaodi.services.secondary import purchases, sales
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from servicing_support import due_dates, funded_loan, pay_in, run_close, set_day


def _close(platform: Platform, font: Path | None = None) -> int:
    """The documents' day step as close of business runs it."""
    (step,) = document_steps(font or platform.settings.document_font)
    return in_transaction(platform.uow, lambda uow: step.run(uow, platform.clock.today()))


@pytest.fixture
def font_present(platform: Platform) -> None:
    if not platform.settings.document_font.is_file():
        pytest.skip(f"font {platform.settings.document_font} not installed")


def test_funded_loan_contract_verifies_and_a_changed_byte_fails(
        platform: Platform, font_present: None, db_url: str, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loan = funded_loan(platform, "credit")
    assert _close(platform) == 4  # the borrower and the three lenders
    assert _close(platform) == 0  # issued once
    with platform.reader() as uow:
        borrower_docs = contracts.my_documents(uow, loan.applicant)
        lender_docs = contracts.my_documents(uow, loan.investors[0])
        copy = contracts.download(uow, lender_docs[0]["id"], loan.investors[0])
        with pytest.raises(NotFound):  # another party's copy is not there for them
            contracts.download(uow, lender_docs[0]["id"], loan.investors[1])
        assert contracts.verify(uow, copy.content).issued
        changed = bytearray(copy.content)
        changed[len(changed) // 2] ^= 0x01
        assert not contracts.verify(uow, bytes(changed)).issued
        assert contracts.pending(uow) == {"loans": 0, "purchases": 0}
    assert [d["kind"] for d in borrower_docs] == ["loan_agreement"]
    assert copy.content.startswith(b"%PDF") and b"FontFile2" in copy.content  # font embedded
    roles = [s["party_role"] for s in lender_docs[0]["signatures"]]
    assert roles == ["borrower", "investor", "investor", "investor", "platform"]
    assert borrower_docs[0]["sha256"] != lender_docs[0]["sha256"]  # each party its own copy

    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", clock.now().isoformat())
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(copy.content)
    bad.write_bytes(bytes(changed))
    ok = CliRunner().invoke(app, ["contracts", "verify", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "issued: document" in ok.stdout and "signed by investor" in ok.stdout
    refused = CliRunner().invoke(app, ["contracts", "verify", str(bad)])
    assert refused.exit_code == 1 and "NOT issued" in refused.output


def test_guaranteed_loan_adds_the_guarantee_letter(platform: Platform,
                                                   font_present: None) -> None:
    loan = funded_loan(platform, "guarantee", tickets=(5_000, 5_000))
    assert _close(platform) == 3 + 4  # agreements for 3 parties, letters for them + guarantor
    with platform.reader() as uow:
        mine = contracts.my_documents(uow, loan.guarantor or 0)
    assert [d["kind"] for d in mine] == ["guarantee_letter"]
    assert mine[0]["signatures"][0]["party_role"] == "guarantor"


def test_without_the_font_contracts_stay_pending(platform: Platform, tmp_path: Path) -> None:
    funded_loan(platform, "credit", tickets=(5_000, 5_000))
    assert _close(platform, tmp_path / "no-such-font.ttf") == 0
    with platform.reader() as uow:
        assert contracts.pending(uow) == {"loans": 1, "purchases": 0}


def test_a_secondary_purchase_gets_its_transfer_agreement(platform: Platform,
                                                          font_present: None,
                                                          clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit", tickets=(5_000, 5_000))
    seller, buyer = loan.investors
    pay_in(platform, loan.payer, 5_000_000)
    set_day(clock, due_dates(platform, loan.listing_id)[0] + timedelta(days=1))
    run_close(platform, clock.today())
    rules = platform.secondary_rules
    sale = in_transaction(platform.uow, lambda uow: sales.offer(uow, sales.Offer(
        loan.holdings[0], seller, Decimal("-0.01"), Money.yuan(1_000)), rules))
    in_transaction(platform.uow, lambda uow: purchases.buy(uow, purchases.Buy(sale.id, buyer),
                                                           rules))
    assert _close(platform) == 3 + 2  # the loan's agreements, then the transfer's two copies
    with platform.reader() as uow:
        kinds = [(d["kind"], d["party_role"]) for d in contracts.my_documents(uow, buyer)]
        copy = contracts.my_documents(uow, seller)[0]
    assert kinds == [("transfer_agreement", "buyer"), ("loan_agreement", "investor")]
    assert copy["kind"] == "transfer_agreement" and copy["party_role"] == "seller"
    assert [s["party_role"] for s in copy["signatures"]] == ["seller", "buyer"]


def test_a_contract_that_fails_stays_pending_and_the_rest_are_issued(
        platform: Platform, font_present: None, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = funded_loan(platform, "credit", tickets=(5_000, 5_000))
    funded_loan(platform, "credit", tickets=(5_000, 5_000))
    real = contracts._loan_documents

    def failing(uow, renderer, listing):  # type: ignore[no-untyped-def]
        if listing.id == broken.listing_id:
            raise RuntimeError("a template error")
        return real(uow, renderer, listing)

    monkeypatch.setattr(contracts, "_loan_documents", failing)
    assert _close(platform) == 3  # the other loan's agreements; close of business goes on
    with platform.reader() as uow:
        assert contracts.pending(uow) == {"loans": 1, "purchases": 0}
    monkeypatch.setattr(contracts, "_loan_documents", real)
    assert _close(platform) == 3
    with platform.reader() as uow:
        assert contracts.pending(uow) == {"loans": 0, "purchases": 0}
