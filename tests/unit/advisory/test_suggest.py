"""Smart advisory's linear programme: the worked example of issue #20, the risk model's grades
in each listing type, and cash when nothing more fits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from biaodi.domain.advisory.model import AdvisoryTerms, GradeInput, annual_pd
from biaodi.services.advisory import market
from biaodi.services.advisory.suggest import suggest


def _grades() -> list[GradeInput]:
    table = [("A", "0.08", "0.01", "0.60", 2), ("B", "0.10", "0.025", "0.70", 3),
             ("C", "0.13", "0.05", "0.80", 3), ("D", "0.16", "0.09", "0.85", 4),
             ("E", "0.20", "0.15", "0.90", 5)]
    return [GradeInput(g, Decimal(r), Decimal(p), Decimal(lgd), level)
            for g, r, p, lgd, level in table]


def test_the_worked_example_keeps_d_and_e_out_and_no_grade_above_40_percent() -> None:
    advice = suggest(_grades(), AdvisoryTerms("C5"))
    assert set(advice.weights) == {"A", "B", "C"}
    assert max(advice.weights.values()) <= 0.40 + 1e-9
    assert sum(advice.weights.values()) == pytest.approx(1)
    assert advice.cvar <= 0.03 + 1e-9
    assert advice.weights["C"] == pytest.approx(0.40) and advice.weights["B"] == pytest.approx(0.4)
    assert set(advice.excluded) == {"D", "E"}
    assert "eats its 16.00 % coupon" in advice.excluded["D"]
    assert "eats its 20.00 % coupon" in advice.excluded["E"]


def test_the_loss_budget_binds_when_defaults_move_together() -> None:
    loose = suggest(_grades(), AdvisoryTerms("C5"))
    tight = suggest(_grades(), AdvisoryTerms("C5", correlation=Decimal("0.30")))
    assert tight.cvar == pytest.approx(0.03, abs=1e-6)  # on the budget
    assert tight.weights["A"] > loose.weights["A"]  # safer grade takes C's place
    assert tight.expected_return < loose.expected_return and tight.cash == 0


def test_a_budget_no_mix_can_keep_leaves_the_rest_in_cash_instead_of_refusing() -> None:
    tiny = suggest(_grades(), AdvisoryTerms("C5", cvar_budget=Decimal("0.001"),
                                            correlation=Decimal("0.30")))
    assert 0 < tiny.cash < 1 and tiny.cvar == pytest.approx(0.001, abs=1e-6)
    assert sum(tiny.weights.values()) + tiny.cash == pytest.approx(1)
    assert "past the 0.10 % budget" in tiny.cash_reason


def test_suitability_leaves_out_grades_above_the_level_with_its_reason() -> None:
    advice = suggest(_grades(), AdvisoryTerms("C3"))
    assert "above what level C3 may take" in advice.excluded["D"]
    only_a = suggest(_grades(), AdvisoryTerms("C2"))  # one grade may hold 40 % at most
    assert only_a.weights == pytest.approx({"A": 0.40}) and only_a.cash == pytest.approx(0.60)
    assert "full at 40.00 % a grade" in only_a.cash_reason


def test_a_pd_over_the_loan_term_is_made_annual() -> None:
    assert annual_pd(0.0306, 48) == pytest.approx(1 - 0.9694 ** 0.25)
    assert annual_pd(0.12, 12) == pytest.approx(0.12)
    assert annual_pd(0.19, 24) == pytest.approx(0.1)


def test_live_choices_come_from_the_model_card_the_rule_pack_and_the_type_assumptions() -> None:
    choices = {c.key: c for c in market.options("cn-2016")}
    a_credit, b_collateral = choices["A/credit"], choices["B/collateral"]
    assert a_credit.rate == Decimal("0.0675")  # the middle of A's 6.0–7.5 % band
    assert float(a_credit.pd) == pytest.approx(annual_pd(0.0306, 48), abs=1e-6)  # model card
    assert a_credit.lgd > b_collateral.lgd  # unsecured loses more than secured
    assert (a_credit.risk_level, b_collateral.risk_level) == (4, 3)  # the suitability levels
    assert choices["E/credit"].risk_level == 5 and "A/instant" not in choices


def test_live_advice_mixes_grades_and_types_within_every_cap() -> None:
    advice = suggest(market.options("cn-2016"), AdvisoryTerms("C5"))
    by_grade: dict[str, float] = {}
    by_kind: dict[str, float] = {}
    for key, w in advice.weights.items():
        grade, kind = key.split("/")
        by_grade[grade] = by_grade.get(grade, 0) + w
        by_kind[kind] = by_kind.get(kind, 0) + w
    assert max(by_grade.values()) <= 0.40 + 1e-9 and max(by_kind.values()) <= 0.50 + 1e-9
    assert len(by_kind) >= 2 and len(by_grade) >= 3
    assert advice.cvar <= 0.03 and advice.cash == 0
    assert "E" not in by_grade and "HR" not in by_grade
    assert "it loses money on average" in advice.excluded["E/credit"]
    assert "eats its 13.50 % coupon" in advice.excluded["E/collateral"]
    # B collateral earns more than the B guarantee chosen, but collateral's 50 % went to C and
    # D: the reason names both caps rather than claiming the chosen B earns more
    assert "B/guarantee" in advice.weights
    assert "both full" in advice.excluded["B/collateral"]
    assert advice.reasons["B/credit"][1]["other"] == "grade B guarantee"  # its own grade first


def test_live_advice_for_a_growth_investor_keeps_the_rest_in_cash_and_says_why() -> None:
    advice = suggest(market.options("cn-2016"), AdvisoryTerms("C3"))
    assert {key.split("/")[0] for key in advice.weights} == {"A", "B"}  # R3 at most
    assert advice.cash == pytest.approx(0.20)
    assert "risk level R4 is above what level C3 may take" in advice.excluded["C/collateral"]
    steady = suggest(market.options("cn-2016"), AdvisoryTerms("C2"))
    assert steady.weights == {} and steady.cash == 1
    assert "R2 at most" in steady.cash_reason
