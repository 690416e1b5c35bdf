"""One click turns advice into auto-invest rules (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from biaodi.adapters.db.tables import AutoInvestRule
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict
from biaodi.domain.shared.money import Money
from biaodi.services.advisory import suggest as advisory
from biaodi.services.shared.tx import in_transaction
from investing_support import CONSERVATIVE, investor


def test_advice_for_an_aggressive_investor_becomes_one_rule_per_grade(platform: Platform) -> None:
    me = investor(platform, 20_000)

    def act(uow):  # type: ignore[no-untyped-def]
        level, advice = advisory.advise(uow, me)
        return level, advisory.adopt(uow, me, advice, Money.yuan(10_000), Money.yuan(500))

    level, ids = in_transaction(platform.uow, act)
    assert level == "C5" and len(ids) == 3
    with platform.reader() as uow:
        rules = uow.s.scalars(select(AutoInvestRule).order_by(AutoInvestRule.best_grade)).all()
    assert [(r.best_grade, r.worst_grade, r.total_cap_fen, r.amount_per_listing_fen)
            for r in rules] == [("A", "A", 200_000, 50_000), ("B", "B", 400_000, 50_000),
                                ("C", "C", 400_000, 50_000)]


def test_a_conservative_investor_gets_no_mix_that_breaks_the_40_percent_cap(
        platform: Platform) -> None:
    me = investor(platform, 0, answers=CONSERVATIVE)
    with platform.uow() as uow, pytest.raises(Conflict, match="C1"):
        advisory.advise(uow, me)
