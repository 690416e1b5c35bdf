"""A partial purchase's rows to the fen, on SQLite and PostgreSQL: the buyer's and the seller's
shares of all 36 future instalments, both holdings and servicing positions, the purchase, the
journal entry's postings with their running balances, and the ledger verifying.

The expected rows (tests/data/secondary_purchase_rows.json) were produced by the row-by-row
purchase (ORM objects, one UPDATE per share, one per account) before it became set-based; the
set-based purchase must produce exactly the same. Regenerate only on purpose:
BIAODI_WRITE_GOLDEN=1 pytest tests/integration/secondary/test_purchase_rows.py -k sqlite"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import Holding
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.secondary import purchases, sales
from biaodi.services.shared.tx import in_transaction
from investing_support import investor
from servicing_support import check_books, funded_loan, set_day

START = date(2026, 11, 28)  # the loans below start on the test clock's day
GOLDEN = Path(__file__).resolve().parents[2] / "data" / "secondary_purchase_rows.json"


def partial_purchases(platform: Platform, clock: FixedClock) -> dict[str, Any]:
    """A 36-month loan; on day 10 its first holder offers 6,000.00 of 10,000.00 at 1 % above
    fair value; one buyer takes 1,000.00, a second the remaining 5,000.00."""
    loan = funded_loan(platform, "credit", rate="0.09", term=36, tickets=(10_000, 10_000))
    base = platform.secondary_rules
    market = replace(base, sale=replace(base.sale, holding_period_days=0))
    set_day(clock, START + timedelta(days=10))
    seller, held = loan.investors[0], loan.holdings[0]
    sale = in_transaction(platform.uow, lambda uow: sales.offer(
        uow, sales.Offer(held, seller, Decimal("0.01"), Money.yuan(6_000)), market))
    bought, buyers = [], []
    for yuan in (1_000, None):
        buyer = investor(platform, 8_000)
        buyers.append(buyer)
        cmd = purchases.Buy(sale.id, buyer, None if yuan is None else Money.yuan(yuan))
        bought.append(in_transaction(platform.uow, lambda uow, c=cmd: purchases.buy(uow, c,
                                                                                     market)))
    check_books(platform)
    names = {held: "seller", bought[0].holding_id: "buyer1", bought[1].holding_id: "buyer2"}
    people = {seller: "seller", buyers[0]: "buyer1", buyers[1]: "buyer2"}
    return snapshot(platform, loan.listing_id, names, people, sale.id)


def snapshot(platform: Platform, listing_id: int, names: dict[int, str],
             people: dict[int, str], sale_id: int) -> dict[str, Any]:
    """The rows, with ids replaced by the role they play so both databases compare."""
    def code(c: str) -> str:
        parts = c.split(":")
        if parts[0] == "holding":
            parts[1] = names[int(parts[1])]
        elif parts[0] == "investor":
            parts[1] = people[int(parts[1])]
        return ":".join(parts)

    with platform.uow() as uow:
        q = lambda sql, **p: [dict(r._mapping) for r in uow.s.execute(text(sql), p)]  # noqa: E731
        out: dict[str, Any] = {}
        for hid, name in names.items():
            holding = uow.s.get(Holding, hid)
            assert holding is not None
            out[f"{name}_holding"] = [holding.principal_fen, holding.outstanding_principal_fen,
                                      str(holding.interest_start), holding.status]
            out[f"{name}_shares"] = [
                [r["seq"], str(r["due_date"]), r["principal_fen"], r["interest_fen"],
                 r["status"]]
                for r in q("SELECT seq, due_date, principal_fen, interest_fen, status FROM "
                           "holding_instalments WHERE holding_id = :h ORDER BY seq", h=hid)]
            out[f"{name}_position"] = [[
                r["tier"], r["outstanding_principal_fen"], r["due_principal_fen"],
                r["due_interest_fen"], r["status"], r["bucket"], r["creditor_kind"],
                r["creditor_id"] == hid, code(r["w"]), code(r["p"]), code(r["i"])]
                for r in q("SELECT sp.*, w.code AS w, pa.code AS p, ia.code AS i FROM "
                           "servicing_positions sp JOIN accounts w ON w.id = sp.wallet_account_id"
                           " JOIN accounts pa ON pa.id = sp.principal_account_id JOIN accounts ia"
                           " ON ia.id = sp.interest_account_id WHERE sp.holding_id = :h",
                           h=hid)]
        out["purchases"] = [
            [names[r["seller_holding_id"]], names[r["buyer_holding_id"]], str(r["business_date"]),
             r["principal_fen"], r["accrued_interest_fen"], r["fair_value_fen"], r["price_fen"],
             r["fee_fen"], r["yield_ppm"]]
            for r in q("SELECT * FROM secondary_purchases WHERE sale_id = :s ORDER BY id",
                       s=sale_id)]
        out["entries"] = []
        for r in q("SELECT e.id, e.kind, e.memo, e.idempotency_key, e.business_date FROM "
                   "journal_entries e JOIN secondary_purchases p ON p.entry_id = e.id "
                   "WHERE p.sale_id = :s ORDER BY e.id", s=sale_id):
            memo, key = r["memo"], r["idempotency_key"].split(":")
            for hid, name in names.items():
                memo = memo.replace(f"sale {sale_id}: listing {listing_id}, holding {hid} →",
                                    "sale S: listing L, holding seller →" if name == "seller"
                                    else "?").replace(f"→ {hid}", f"→ {name}")
            assert key[:2] == ["secondary", str(sale_id)]
            postings = [[code(p["code"]), p["amount"], p["balance_after"]] for p in q(
                "SELECT a.code, p.amount, p.balance_after FROM postings p JOIN accounts a ON "
                "a.id = p.account_id WHERE p.entry_id = :e ORDER BY p.id", e=r["id"])]
            out["entries"].append([r["kind"], memo, names[int(key[2])],
                                   str(r["business_date"]), postings])
        out["sale"] = [[r["principal_fen"], r["remaining_fen"], r["status"]] for r in q(
            "SELECT principal_fen, remaining_fen, status FROM secondary_sales WHERE id = :s",
            s=sale_id)]
        out["ledger_balanced"] = ledger.verify(uow).balanced
        touched = q("SELECT a.code, a.balance FROM accounts a WHERE a.id IN (SELECT p.account_id"
                    " FROM postings p JOIN secondary_purchases sp ON sp.entry_id = p.entry_id"
                    " WHERE sp.sale_id = :s) ORDER BY a.code", s=sale_id)
        out["balances"] = sorted([code(r["code"]), r["balance"]] for r in touched)
    return out


def test_a_partial_purchase_writes_the_same_rows_as_before(platform: Platform,
                                                            clock: FixedClock,
                                                            backend: str) -> None:
    got = partial_purchases(platform, clock)
    if os.environ.get("BIAODI_WRITE_GOLDEN") and backend == "sqlite":
        lines = (f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in got.items())
        GOLDEN.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    expected = json.loads(GOLDEN.read_text())
    for key in expected:
        assert got[key] == expected[key], key
    assert got.keys() == expected.keys()


def test_a_part_of_nothing_or_less_is_refused_and_takes_nothing(platform: Platform,
                                                                 clock: FixedClock) -> None:
    from biaodi.adapters.db.secondary_tables import SecondarySale
    from biaodi.domain.shared.errors import InvalidInput

    loan = funded_loan(platform, "credit", rate="0.09", term=12, tickets=(10_000, 10_000))
    base = platform.secondary_rules
    market = replace(base, sale=replace(base.sale, holding_period_days=0))
    set_day(clock, START + timedelta(days=10))
    sale = in_transaction(platform.uow, lambda uow: sales.offer(
        uow, sales.Offer(loan.holdings[0], loan.investors[0], Decimal(0)), market))
    buyer = investor(platform, 8_000)
    for fen in (0, -100_000):
        cmd = purchases.Buy(sale.id, buyer, Money(fen))
        with pytest.raises(InvalidInput) as refused:
            in_transaction(platform.uow, lambda uow, c=cmd: purchases.buy(uow, c, market))
        assert refused.value.field == "principal"
    with platform.uow() as uow:
        left = uow.s.get(SecondarySale, sale.id)
        assert left is not None and (left.remaining_fen, left.status) == (1_000_000, "open")
