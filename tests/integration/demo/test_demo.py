"""The demo marketplace seeds once, balances, and shows every allowed listing type."""

from __future__ import annotations

from sqlalchemy import select

from biaodi.adapters.db.tables import Listing
from biaodi.bootstrap import Platform
from biaodi.services.demo import seed as demo
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.tx import in_transaction


def test_demo_seed_creates_a_balanced_marketplace_once(platform: Platform) -> None:
    rules = InvestingRules()
    first = in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher, rules))
    assert first.created and first.listings == 6
    again = in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher, rules))
    assert not again.created
    with platform.uow() as uow:
        rows = uow.s.execute(select(Listing.kind, Listing.status)).all()
        check = ledger.verify(uow)
    assert {kind for kind, _ in rows} == {"credit", "collateral", "guarantee", "transfer"}
    assert sorted(status for _, status in rows).count("published") == 5
    assert ("credit", "repaying") in rows
    assert check.balanced, check.problems
