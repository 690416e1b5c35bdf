"""Penalty, the dated cost cap (24 % line, then 4 × LPR) and the disposal waterfall."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biaodi.domain.listings.cost import (
    Cost,
    cap_ppm,
    check_listing_cost,
    to_ppm,
)
from biaodi.domain.servicing.penalty import capped_daily_ppm, check_product_penalty, daily_penalty
from biaodi.domain.servicing.waterfall import waterfall
from biaodi.domain.shared.compliance import CN_2016, PERMISSIVE, ComplianceViolation
from biaodi.domain.shared.errors import InvalidInput

LPR_2025 = 30_000  # 3.00 %
DAY = date(2026, 11, 28)


def test_daily_penalty_rounds_half_up() -> None:
    assert daily_penalty(1_000_000, 300) == 300  # 10,000.00 × 0.03 % = 3.00
    assert daily_penalty(1_650, 300) == 0  # 0.495 fen
    assert daily_penalty(1_667, 300) == 1  # 0.5001 fen
    assert daily_penalty(0, 300) == daily_penalty(5_000, 0) == 0


def test_costs_are_rounded_up_to_a_whole_ppm() -> None:
    assert to_ppm(Decimal("0.0600001")) == 60_001
    assert to_ppm(Decimal("0.06")) == 60_000


def test_cap_is_four_times_the_lpr_and_lowers_the_penalty() -> None:
    cap = cap_ppm(CN_2016, DAY, LPR_2025)
    assert cap == 120_000
    cost = Cost(interest_ppm=60_000, service_fee_ppm=40_000)
    assert capped_daily_ppm(300, cost, cap) == 54  # 20,000 ppm a year of room ÷ 365
    assert capped_daily_ppm(30, cost, cap) == 30
    assert capped_daily_ppm(300, Cost(110_000, 40_000), cap) == 0
    assert capped_daily_ppm(300, cost, None) == 300
    assert cap_ppm(PERMISSIVE, DAY, None) is None
    assert 54 * 365 + 100_000 <= 120_000 < 55 * 365 + 100_000


def test_refusals_name_the_rule() -> None:
    check_listing_cost(Cost(80_000, 40_000), CN_2016, DAY, LPR_2025)  # exactly the cap: allowed
    with pytest.raises(ComplianceViolation) as info:
        check_listing_cost(Cost(80_001, 40_000), CN_2016, DAY, LPR_2025)
    assert info.value.rule_id == "cn2020.cost_cap_4x_lpr" and info.value.field == "annual_rate"
    check_product_penalty(328, CN_2016, DAY, LPR_2025)  # 11.972 % a year
    with pytest.raises(ComplianceViolation) as info:
        check_product_penalty(500, CN_2016, DAY, LPR_2025)  # 0.05 % a day = 18.25 % a year
    assert info.value.field == "penalty_daily_rate"
    check_product_penalty(500, CN_2016, DAY, None)  # no LPR on record: nothing to compare with


def test_before_2020_08_20_the_cap_is_the_24_percent_line_whatever_the_lpr() -> None:
    day = date(2019, 6, 1)
    assert cap_ppm(CN_2016, day, None) == cap_ppm(CN_2016, day, LPR_2025) == 240_000
    check_listing_cost(Cost(200_000, 40_000), CN_2016, day, None)  # exactly 24 %: allowed
    with pytest.raises(ComplianceViolation) as info:
        check_listing_cost(Cost(200_001, 40_000), CN_2016, day, None)
    assert info.value.rule_id == "cn2015.rate_cap_24_36"
    assert "2019-06-01" in info.value.message and "above 36% void" in info.value.message
    check_product_penalty(657, CN_2016, day, None)  # 23.98 % a year
    with pytest.raises(ComplianceViolation) as info:
        check_product_penalty(658, CN_2016, day, None)  # 24.017 % a year
    assert info.value.rule_id == "cn2015.rate_cap_24_36"


def test_waterfall_costs_then_penalty_interest_principal() -> None:
    plan = waterfall(proceeds=600_000, costs=50_000, penalty=2_000, interest=8_000,
                     principal=1_000_000)
    assert (plan.costs, plan.penalty, plan.interest, plan.principal) == \
        (50_000, 2_000, 8_000, 540_000)
    assert plan.surplus == 0 and plan.shortfall == 460_000
    rich = waterfall(2_000_000, 50_000, 2_000, 8_000, 1_000_000)
    assert rich.surplus == 940_000 and rich.shortfall == 0
    poor = waterfall(30_000, 50_000, 2_000, 8_000, 1_000_000)
    assert poor.costs == 30_000 and poor.unpaid_costs == 20_000 and poor.to_creditors == 0
    with pytest.raises(InvalidInput):
        waterfall(-1, 0, 0, 0, 0)


@given(st.integers(0, 10**10), st.integers(0, 10**8), st.integers(0, 10**7),
       st.integers(0, 10**8), st.integers(0, 10**10))
def test_waterfall_accounts_for_every_fen(proceeds: int, costs: int, penalty: int,
                                          interest: int, principal: int) -> None:
    plan = waterfall(proceeds, costs, penalty, interest, principal)
    assert plan.costs + plan.to_creditors + plan.surplus == proceeds
    assert plan.to_creditors + plan.shortfall == penalty + interest + principal
    assert plan.surplus == 0 or plan.shortfall == 0
