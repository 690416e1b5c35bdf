"""Fees as the borrower sees them, through HTTP: the full principal is paid out, each
instalment carries its fees, the fees are collected with the instalments, and a short art
loan at the seed's terms can be listed, funded, disbursed and repaid."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import Account, JournalEntry, LoanInstalment, PostingRow
from biaodi.bootstrap import Platform
from biaodi.services.investing import suitability
from biaodi.services.shared.tx import in_transaction
from investing_support import AGGRESSIVE, deposit
from servicing_support import (
    balance,
    check_books,
    close,
    due_dates,
    funded_loan,
    loan_state,
    pay_in,
    seed_lpr,
    set_day,
)
from test_support import listing_body, register, walk_to


@pytest.fixture(autouse=True)
def long_sessions(platform: Platform) -> None:
    platform.settings.token_ttl_minutes = 400 * 24 * 60


def test_the_full_principal_is_paid_out_and_fees_come_with_instalments(
        client: TestClient, platform: Platform, clock: FixedClock,
        operator_headers: dict[str, str]) -> None:
    # a year at 10 %: the 0.5 % yearly service fee of the 7–12 month band
    loan = funded_loan(platform, "credit", rate="0.10", term=12)
    with platform.uow() as uow:  # the disbursement paid the borrower 10,000.00: nothing off
        paid_out = uow.s.execute(select(PostingRow.amount).join(JournalEntry).join(Account).where(
            JournalEntry.kind == "disbursement", Account.code == loan.payer)).scalar_one()
        first_due = uow.s.execute(select(LoanInstalment).where(
            LoanInstalment.listing_id == loan.listing_id, LoanInstalment.seq == 1)).scalar_one()
        instalment = (first_due.principal_fen + first_due.interest_fen
                      + first_due.service_fee_fen + first_due.guarantee_fee_fen)
    assert abs(paid_out) == 1_000_000
    assert first_due.service_fee_fen == 417 and first_due.guarantee_fee_fen == 0
    assert balance(platform, "platform:fee_income") == 0
    detail = client.get(f"/api/v1/listings/{loan.listing_id}").json()
    first = detail["schedule_preview"][0]
    assert detail["fees"]["service_fee_rate"] == "0.50"
    assert first["service_fee"] == "4.17"  # 10,000.00 × 0.5 % ÷ 12
    assert detail["all_in_cost"] == detail["fees"]["all_in_cost"]
    assert Decimal("10.49") < Decimal(detail["all_in_cost"]) < Decimal("10.51")  # 10 % + 0.5 %

    dues = due_dates(platform, loan.listing_id)
    close(client, operator_headers, clock.today())
    set_day(clock, dues[0])
    pay_in(platform, loan.payer, instalment)  # the first instalment with its fee
    close(client, operator_headers, clock.today())
    state = loan_state(platform, loan.listing_id)
    assert state.paid_fee_fen == 417 and state.due_service_fee_fen == 0
    assert balance(platform, "platform:fee_income") == 417
    assert state.due_principal_fen == state.due_interest_fen == 0  # the instalment was paid
    assert balance(platform, loan.payer) == 0
    with platform.uow() as uow:
        kinds = set(uow.s.scalars(select(JournalEntry.kind)))
    assert "fee_collection" in kinds
    check_books(platform)


def test_a_fourteen_day_art_loan_is_listed_funded_disbursed_and_repaid(
        client: TestClient, platform: Platform, clock: FixedClock,
        operator_headers: dict[str, str]) -> None:
    seed_lpr(platform)
    borrower_id, borrower = register(client, "borrower")
    painting = {"asset_class": "art", "appraisal_value": "1000.00",
                "appraised_on": str(clock.today()), "appraiser": "某拍卖行鉴定部",
                "description": "ink painting, framed"}
    created = client.post("/api/v1/listings", json=listing_body(
        "collateral", amount="100.00", annual_rate="8", term=14, term_unit="day",
        repayment_method="bullet", assets=[painting]), headers=borrower)
    assert created.status_code == 201, created.text
    listing = created.json()
    assert listing["fees"]["service_fee_rate"] == "0.00"  # short terms carry no fee
    assert listing["all_in_cost"] == "8.0822"  # 0.31 interest on 100.00 for 14 days
    walk_to(client, listing["id"], borrower, operator_headers)

    backer, headers = register(client, "investor")
    deposit(platform, backer, 100)
    in_transaction(platform.uow, lambda uow: suitability.assess(uow, backer, AGGRESSIVE))
    made = client.post(f"/api/v1/listings/{listing['id']}/investments",
                       json={"amount": "100.00"},
                       headers=headers | {"Idempotency-Key": "art-1"})
    assert made.status_code == 201, made.text
    assert made.json()["listing_status"] == "repaying"
    assert balance(platform, f"borrower:{borrower_id}:available") == 10_000  # all of it

    [due] = due_dates(platform, listing["id"])
    assert due == clock.today() + timedelta(days=14)
    pay_in(platform, f"borrower:{borrower_id}:available", 31)  # the interest
    set_day(clock, due)
    close(client, operator_headers, clock.today())
    view = client.get(f"/api/v1/listings/{listing['id']}").json()
    assert view["status"] == "settled"
    assert balance(platform, f"investor:{backer}:available") == 10_031
    check_books(platform)
