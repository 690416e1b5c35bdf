"""Grades: score → grade, rate bands under the cost cap, the 信用标 limit, risk levels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from biaodi.domain.risk.grades import (
    Grade,
    GradeCut,
    GradePolicy,
    RateBand,
    credit_limit,
    grade_for,
    parse_policies,
    risk_level,
)
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.risk_modelling.rulepacks import load_pack

CUTS = [GradeCut(Grade.A, 620), GradeCut(Grade.B, 600), GradeCut(Grade.C, 580),
        GradeCut(Grade.D, 550), GradeCut(Grade.E, 520), GradeCut(Grade.HR, 0)]


@pytest.mark.parametrize(("score", "grade"), [
    (700, Grade.A), (620, Grade.A), (619, Grade.B), (580, Grade.C), (551, Grade.D),
    (520, Grade.E), (519, Grade.HR), (-5, Grade.HR),
])
def test_grade_for_score(score: int, grade: Grade) -> None:
    assert grade_for(score, CUTS) is grade


def test_rate_band_under_the_cost_cap() -> None:
    band = RateBand(Decimal("0.105"), Decimal("0.15"))
    assert band.clipped(None) == band
    assert band.clipped(Decimal("0.12")) == RateBand(Decimal("0.105"), Decimal("0.12"))
    assert band.clipped(Decimal("0.10")) is None


POLICY = GradePolicy(Grade.C, RateBand(Decimal("0.09"), Decimal("0.105")), income_multiple=4,
                     limit_cap=Money.yuan(100000), risk_bump=1)


def test_credit_limit_formula() -> None:
    # income × multiple, rounded down to whole hundreds
    assert credit_limit(POLICY, Money.yuan("12345.67"), None) == Money.yuan(49300)
    # the grade's cap
    assert credit_limit(POLICY, Money.yuan(40000), None) == Money.yuan(100000)
    # the headroom under the borrower cap
    assert credit_limit(POLICY, Money.yuan(40000), Money.yuan(25050)) == Money.yuan(25000)
    # no headroom, no limit
    assert credit_limit(POLICY, Money.yuan(40000), Money.yuan(-10)) == Money(0)


def test_risk_level_is_raised_by_the_grade_and_stays_within_1_to_5() -> None:
    assert risk_level(4, POLICY) == 5
    assert risk_level(5, POLICY) == 5
    assert risk_level(1, None) == 1
    assert risk_level(0, None) == 1


def test_pack_grade_policies_are_ordered_sensibly() -> None:
    for name in ("cn-2016", "permissive"):
        grades = load_pack(name).grades
        lows = [grades[g].rate_band.low for g in Grade]
        caps = [grades[g].limit_cap for g in Grade]
        assert lows == sorted(lows) and caps == sorted(caps, reverse=True)
        assert grades[Grade.HR].limit_cap == Money(0)


def test_malformed_grade_tables_are_refused() -> None:
    good = {"rate_min": "6", "rate_max": "8", "income_multiple": 3, "limit_cap": "1000.00"}
    table = {g.value: dict(good) for g in Grade}
    assert parse_policies(table)[Grade.A].rate_band == RateBand(Decimal("0.06"),
                                                                Decimal("0.08"))
    with pytest.raises(InvalidInput, match="rate_min ≤ rate_max"):
        parse_policies(table | {"B": good | {"rate_min": "9"}})
    with pytest.raises(InvalidInput, match="incomplete or malformed"):
        parse_policies(table | {"C": {"rate_min": "6"}})
