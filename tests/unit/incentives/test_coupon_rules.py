"""The coupon rules without a database: templates that cannot be issued, face values, interest
on an actual/365 basis, a boost's accrual in micro-fen adding up to the rounded whole, the
expected reward shown when investing, and levels."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from biaodi.domain.incentives.coupons import (
    MICRO,
    CouponKind,
    Level,
    TemplateTerms,
    boost_micro,
    expires_on,
    level_of,
    simple_interest,
)
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money, round_half_up
from biaodi.services.incentives.coupons import expected_reward

BOOST = TemplateTerms(CouponKind.BOOST, rate_ppm=20_000, days=30,
                      min_invest=Money.yuan(1_000), max_invest=Money.yuan(5_000))


@pytest.mark.parametrize(("terms", "field"), [
    (TemplateTerms(CouponKind.CASH), "amount"),
    (TemplateTerms(CouponKind.CASH, amount=Money.yuan(50), min_invest=Money.yuan(10)), "amount"),
    (TemplateTerms(CouponKind.BOOST, rate_ppm=20_000, days=30), "max_invest"),
    (TemplateTerms(CouponKind.BOOST, rate_ppm=200_000, days=30, max_invest=Money.yuan(1)),
     "rate"),
    (TemplateTerms(CouponKind.TRIAL, amount=Money.yuan(1), rate_ppm=1, days=0), "days"),
    (TemplateTerms(CouponKind.CASH, amount=Money.yuan(1), min_invest=Money.yuan(10),
                   terms=("12 months",)), "terms"),
    (TemplateTerms(CouponKind.CASH, amount=Money.yuan(1), min_invest=Money.yuan(10),
                   max_invest=Money.yuan(5)), "max_invest"),
])
def test_a_template_that_cannot_be_issued_names_its_field(terms: TemplateTerms,
                                                          field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        terms.validate()
    assert refused.value.field == field


def test_face_values_and_interest() -> None:
    assert BOOST.face_value() == Money(822)  # 5,000 × 2 % × 30 / 365 = 8.219…
    trial = TemplateTerms(CouponKind.TRIAL, amount=Money.yuan(10_000), rate_ppm=80_000, days=5)
    assert trial.face_value() == simple_interest(Money.yuan(10_000), 80_000, 5) == Money(1_096)
    assert expires_on(date(2026, 11, 28), 30) == date(2026, 12, 27)


def test_daily_boost_accrual_adds_up_to_the_rounded_whole() -> None:
    daily = sum(boost_micro(500_000, 20_000, 1) for _ in range(30))
    assert round_half_up(Decimal(daily) / MICRO) == 822
    assert boost_micro(500_000, 20_000, 30) - daily < 30  # truncation: under a micro-fen a day


def test_expected_reward_and_levels() -> None:
    cash = {"kind": "cash", "amount": "20.00"}
    boost = {"kind": "boost", "rate": "2.00", "days": 30, "max_investment": "5000.00"}
    assert expected_reward(cash, Money.yuan(1_000)) == Money.yuan(20)
    assert expected_reward(boost, Money.yuan(2_000)) == Money(329)  # 2,000 × 2 % × 30/365
    assert expected_reward(boost, Money.yuan(9_000)) == Money(822)  # at most 5,000 boosted
    levels = (Level("V0", 0), Level("V1", 100))
    assert level_of(99, levels).name == "V0" and level_of(100, levels).name == "V1"
