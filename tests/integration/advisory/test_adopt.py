"""One click turns advice into auto-invest rules (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from biaodi.adapters.db.tables import AutoInvestRule
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.advisory import suggest as advisory
from biaodi.services.advisory.suggest import Suggestion
from biaodi.services.shared.tx import in_transaction
from investing_support import CONSERVATIVE, investor


def _rules(platform: Platform, me: int) -> list[AutoInvestRule]:
    with platform.reader() as uow:
        return list(uow.s.scalars(select(AutoInvestRule).where(
            AutoInvestRule.investor_id == me).order_by(AutoInvestRule.id)).all())


def test_live_advice_becomes_one_rule_per_grade_and_listing_type(platform: Platform) -> None:
    me = investor(platform, 20_000)
    shown: dict[str, Suggestion] = {}

    def act(uow):  # type: ignore[no-untyped-def]
        level, advice = advisory.advise(uow, me, settings=platform.settings)
        shown["advice"] = advice
        return level, advisory.adopt(uow, me, advice, Money.yuan(10_000), Money.yuan(500))

    level, ids = in_transaction(platform.uow, act)
    advice = shown["advice"]
    assert level == "C5" and len(ids) == len(advice.weights) >= 3
    rules = _rules(platform, me)
    made = {f"{r.best_grade}/{r.kinds[0]}": r for r in rules}
    assert set(made) == set(advice.weights)
    assert all(r.best_grade == r.worst_grade and len(r.kinds) == 1 for r in rules)
    top = max(advice.weights, key=lambda key: advice.weights[key])
    assert made[top].amount_per_listing_fen == 50_000  # the largest share: the whole ticket
    for key, rule in made.items():  # the others in proportion to their share
        share = advice.weights[key] / advice.weights[top]
        assert rule.amount_per_listing_fen == pytest.approx(50_000 * share, abs=1)
        # each rule holds its own share of the budget, down to the fen
        assert rule.rule_cap_fen == pytest.approx(1_000_000 * advice.weights[key], abs=1)
        assert rule.total_cap_fen is None  # the rule caps hold the budget, not the investor's
    invested = 1_000_000 * sum(advice.weights.values())
    assert invested == pytest.approx(1_000_000 * (1 - advice.cash), abs=1)
    assert sum(r.rule_cap_fen for r in rules) == pytest.approx(invested, abs=len(rules))


def test_the_worked_example_still_adopts_one_rule_per_grade(platform: Platform) -> None:
    from biaodi.domain.advisory.model import EXAMPLE_GRADES

    me = investor(platform, 20_000)

    def act(uow):  # type: ignore[no-untyped-def]
        _level, advice = advisory.advise(uow, me, grades=EXAMPLE_GRADES)
        return advisory.adopt(uow, me, advice, Money.yuan(10_000), Money.yuan(500))

    in_transaction(platform.uow, act)
    assert [(r.best_grade, r.kinds, r.amount_per_listing_fen, r.rule_cap_fen)
            for r in _rules(platform, me)] == [
        ("A", [], 25_000, 200_000), ("B", [], 50_000, 400_000), ("C", [], 50_000, 400_000)]


def test_the_per_listing_cap_is_a_rule_named_in_the_refusal(platform: Platform) -> None:
    me = investor(platform, 20_000)

    def act(uow):  # type: ignore[no-untyped-def]
        _level, advice = advisory.advise(uow, me, settings=platform.settings)
        return advisory.adopt(uow, me, advice, Money.yuan(10_000), Money.yuan(501))

    with pytest.raises(InvalidInput, match="1/20 of the budget") as refused:
        in_transaction(platform.uow, act)
    assert refused.value.field == "per_listing" and _rules(platform, me) == []


def test_a_conservative_investor_is_advised_to_keep_cash_and_gets_no_rules(
        platform: Platform) -> None:
    me = investor(platform, 0, answers=CONSERVATIVE)
    with platform.uow() as uow:
        level, advice = advisory.advise(uow, me, settings=platform.settings)
        assert level == "C1" and advice.cash == 1 and advice.weights == {}
        assert "R1 at most" in advice.cash_reason
        with pytest.raises(Conflict, match="cash wallet"):
            advisory.adopt(uow, me, advice, Money.yuan(10_000), Money.yuan(500))
