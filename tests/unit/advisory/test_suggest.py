"""Smart advisory's linear programme on the worked example of issue #20."""

from __future__ import annotations

from decimal import Decimal

import pytest

from biaodi.domain.advisory.model import AdvisoryTerms, GradeInput
from biaodi.domain.shared.errors import Conflict
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
    assert tight.expected_return < loose.expected_return
    with pytest.raises(Conflict, match="CVaR"):
        suggest(_grades(), AdvisoryTerms("C5", cvar_budget=Decimal("0.001"),
                                         correlation=Decimal("0.30")))


def test_suitability_leaves_out_grades_above_the_level_with_its_reason() -> None:
    advice = suggest(_grades(), AdvisoryTerms("C3"))
    assert "above what level C3 may take" in advice.excluded["D"]
    with pytest.raises(Conflict):  # C2 allows only A: one grade cannot stay within 40 %
        suggest(_grades(), AdvisoryTerms("C2"))
