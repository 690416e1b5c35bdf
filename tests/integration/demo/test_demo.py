"""The demo marketplace seeds once, balances, and shows every allowed listing type, lending by
the rules: risk decisions behind every borrower's listing and the borrowing caps kept."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from biaodi.adapters.db.tables import Listing, ListingTransition
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.demo import seed as demo
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.tx import in_transaction
from risk_support import env


def test_demo_seed_creates_a_balanced_marketplace_once(platform: Platform) -> None:
    rules, risk_env = platform.investing_rules, env(platform)  # the rules the CLI seeds with
    first = in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher, rules,
                                                               risk_env))
    assert first.created and first.listings == 6
    again = in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher, rules,
                                                               risk_env))
    assert not again.created
    with platform.uow() as uow:
        rows = uow.s.execute(select(Listing.kind, Listing.status, Listing.applicant_id,
                                    Listing.amount_fen, Listing.grade)).all()
        overrides = uow.s.execute(select(ListingTransition.reason).where(
            ListingTransition.reason.like("%risk override%"))).all()
        check = ledger.verify(uow)
    assert {kind for kind, *_ in rows} == {"credit", "collateral", "guarantee", "transfer"}
    assert sorted(status for _, status, *_ in rows).count("published") == 5
    assert ("credit", "repaying") in [(kind, status) for kind, status, *_ in rows]
    # every borrower's listing rests on an approved risk decision (no override), with a grade
    assert not overrides
    assert all(grade for kind, _, _, _, grade in rows if kind != "transfer")
    owed = Counter[int]()
    for kind, _, applicant, amount, _ in rows:
        if kind != "transfer":
            owed[applicant] += amount
    assert sorted(owed.values()) == [Money.yuan(190_000).fen, Money.yuan(900_000).fen]
    assert check.balanced, check.problems
