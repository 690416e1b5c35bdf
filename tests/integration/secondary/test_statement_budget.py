"""Statement budgets on SQLite and PostgreSQL (counts, never timings): what one secondary
purchase and one authenticated API read send to the database, so that a per-row loop or an
extra round trip on a hot path fails a test. `statements_support` says what is counted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.secondary import purchases, sales
from biaodi.services.shared.tx import in_transaction
from investing_support import investor
from servicing_support import funded_loan, set_day
from statements_support import statement_counter
from test_support import register

START = date(2026, 11, 28)  # the loans below start on the test clock's day

#: One purchase: PostgreSQL — the servicing lock, the sale's hot row, one read of the rest
#: (locking the seller's position, holding and the loan), every write as one statement, and
#: the transaction's audit record (head, record and subjects: one statement, sent last).
#: SQLite, which has no writing CTEs — BEGIN IMMEDIATE (sent through a cursor, so counted),
#: the hot row, the read, then one statement per table written: holdings, shares, accounts,
#: journal entry, postings, servicing positions, purchase; and the audit record's three (head,
#: record, subjects). Whatever the number of instalments.
PURCHASE = {"postgres": 5, "sqlite": 13}

#: GET /api/v1/me/wallet with a bearer token (the issue's target: 3): the caller — token, user
#: and roles in one statement, which needs no transaction of its own (`Platform.glance`) — and
#: the wallets. SQLite adds the wallets' read transaction's BEGIN.
WALLET_GET = {"postgres": 2, "sqlite": 3}


@pytest.mark.parametrize("term", [12, 36])
def test_one_secondary_purchase_sends_a_fixed_handful_of_statements(
        platform: Platform, clock: FixedClock, backend: str, term: int) -> None:
    loan = funded_loan(platform, "credit", rate="0.09", term=term, tickets=(10_000, 10_000))
    base = platform.secondary_rules
    market = replace(base, sale=replace(base.sale, holding_period_days=0))
    set_day(clock, START + timedelta(days=10))
    sale = in_transaction(platform.uow, lambda uow: sales.offer(
        uow, sales.Offer(loan.holdings[0], loan.investors[0], Decimal("0.01"),
                         Money.yuan(6_000)), market))
    cmd = purchases.Buy(sale.id, investor(platform, 5_000), Money.yuan(1_000))
    with statement_counter(platform.engine, platform.read_engine) as seen:
        bought = in_transaction(platform.uow, lambda uow: purchases.buy(uow, cmd, market))
    assert bought.quote.principal == 100_000 and bought.sale_status == "open"
    assert seen.count <= PURCHASE[backend], f"{seen.count} statements:\n{seen}"


def test_one_authenticated_api_read(platform: Platform, backend: str) -> None:
    with TestClient(create_app(platform)) as client:
        _, headers = register(client, "investor")
        client.get("/api/v1/me/wallet", headers=headers)  # warm: first-use caches
        with statement_counter(platform.engine, platform.read_engine) as seen:
            response = client.get("/api/v1/me/wallet", headers=headers)
    assert response.status_code == 200, response.text
    assert seen.count <= WALLET_GET[backend], f"{seen.count} statements:\n{seen}"
