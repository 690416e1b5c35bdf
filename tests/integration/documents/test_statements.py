"""Investor statements on both databases, on a hand-built history: a loan of two lenders pays
its first instalment, then lender A sells part of its claim to lender B. Each total is checked
against the figures it must come from (the holding's schedule, the purchase's price)."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.secondary_tables import SecondaryPurchase
from biaodi.adapters.db.tables import HoldingInstalment
from biaodi.bootstrap import Platform
from biaodi.domain.documents.statements import period
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.documents import statements
from biaodi.services.documents.contracts import renderer_for
from biaodi.services.secondary import purchases, sales
from biaodi.services.shared.tx import in_transaction
from servicing_support import due_dates, funded_loan, pay_in, run_close, set_day


def test_statement_totals_on_a_hand_built_history(platform: Platform,
                                                  clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit", tickets=(5_000, 5_000))
    a, b = loan.investors
    pay_in(platform, loan.payer, 5_000_000)
    first_due = due_dates(platform, loan.listing_id)[0]
    set_day(clock, first_due + timedelta(days=1))
    run_close(platform, clock.today())
    rules = platform.secondary_rules
    sale = in_transaction(platform.uow, lambda uow: sales.offer(uow, sales.Offer(
        loan.holdings[0], a, Decimal("-0.01"), Money.yuan(1_000)), rules))
    in_transaction(platform.uow, lambda uow: purchases.buy(uow, purchases.Buy(sale.id, b),
                                                           rules))
    with platform.reader() as uow:
        first = uow.s.scalars(select(HoldingInstalment).where(
            HoldingInstalment.holding_id == loan.holdings[0], HoldingInstalment.seq == 1)).one()
        bought = uow.s.scalars(select(SecondaryPurchase)).one()
        month = period(first_due.year, first_due.month, clock.today())
        mine = statements.statement(uow, a, month)
        theirs = statements.statement(uow, b, month)
        year = statements.statement(uow, a, period(first_due.year, None, clock.today()))
        before = statements.statement(uow, a, period(2026, 11, clock.today()))

    t = mine["totals"]
    assert t["principal_received"].fen == first.principal_fen
    assert t["interest_received"].fen == first.interest_fen > 0
    assert t["penalty_interest_received"].fen == 0
    assert t["transfer_fees"].fen == bought.fee_fen
    gain = bought.price_fen - bought.fee_fen - bought.fair_value_fen
    assert t["transfer_gains"].fen - t["transfer_losses"].fen == gain
    assert t["accrued_interest_sold"].fen == bought.accrued_interest_fen
    assert mine["tax"]["interest_income"].fen == first.interest_fen + bought.accrued_interest_fen
    assert mine["tax"]["net_transfer_result"].fen == gain
    (held,) = mine["holdings"]
    assert held["outstanding_at_end"].fen == 500_000 - first.principal_fen - 100_000
    assert [s["principal"].fen for s in mine["sales"]] == [100_000]

    assert theirs["totals"]["accrued_interest_bought"].fen == bought.accrued_interest_fen
    assert theirs["tax"]["interest_income"].fen == (
        theirs["totals"]["interest_received"].fen - bought.accrued_interest_fen)
    assert len(theirs["holdings"]) == 2 and theirs["sales"] == []

    assert year["totals"] == t  # nothing else happened in the year
    assert before["totals"]["interest_received"].fen == 0 and before["sales"] == []
    assert [h["outstanding_at_end"].fen for h in before["holdings"]] == [500_000]

    workbook = load_workbook(io.BytesIO(statements.as_xlsx(mine)))
    cells = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)
             if row and len(row) > 1}
    assert cells["利息所得 Interest income"] == pytest.approx(
        mine["tax"]["interest_income"].fen / 100)
    renderer = renderer_for(platform.settings.document_font)
    if renderer.available():
        assert statements.as_pdf(mine, renderer, clock.now()).startswith(b"%PDF")


def test_a_statement_of_the_future_is_refused(clock: FixedClock) -> None:
    today = clock.today()
    with pytest.raises(InvalidInput, match="has not begun"):
        period(today.year, 12, today.replace(month=11))
    with pytest.raises(InvalidInput, match="month"):
        period(today.year, 13, today)
