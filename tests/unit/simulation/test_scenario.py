"""Scenario files: the shipped ones load; a bad one is refused naming the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.simulation import market
from biaodi.domain.simulation.scenario import load, parse

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def test_the_shipped_scenarios_load_with_their_changes() -> None:
    found = {p.stem: load(p) for p in sorted(SCENARIOS.glob("*.toml"))}
    assert set(found) == {"baseline", "default_shock", "guarantor_failure", "collateral_fall",
                          "investor_run", "rate_rise"}
    assert found["default_shock"].default_factor(179) == 1
    assert found["default_shock"].default_factor(180) == 3
    assert found["collateral_fall"].haircut("art", 200) == Decimal("0.50")
    assert found["collateral_fall"].haircut("house", 10) == 0
    assert found["investor_run"].run_on(185) and not found["investor_run"].run_on(230)
    assert found["rate_rise"].extra_rate_bp(180) == 150
    assert found["guarantor_failure"].guarantor_failed(180)
    assert not found["baseline"].guarantor_failed(10_000)


@pytest.mark.parametrize(("data", "field"), [
    ({"defaults": {"multiplier": "lots"}}, "defaults.multiplier"),
    ({"collateral_fall": {"boat": 0.2}}, "collateral_fall.boat"),
    ({"collateral_fall": {"car": 1.5}}, "collateral_fall.car"),
    ({"investor_run": {"from_day": -1}}, "investor_run.from_day"),
    ({"rate_rise": {"lpr_bp": 1.5}}, "rate_rise.lpr_bp"),
    ({"surprise": 1}, "surprise"),
])
def test_a_bad_scenario_names_its_field(data: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(data, "x")
    assert refused.value.field == field


def test_a_scenario_multiplies_only_the_odds_it_names() -> None:
    import random

    # the same draw, three times the odds: whoever stops without the shock stops with it
    for key in range(200):
        calm = market.stops_at_due_date(random.Random(key), True, 12, Decimal(1))
        shocked = market.stops_at_due_date(random.Random(key), True, 12, Decimal(3))
        assert shocked or not calm
    assert market.parse_mix("credit:consumer=3,collateral:car=1") == {
        "credit:consumer": 3, "collateral:car": 1}
    with pytest.raises(InvalidInput):
        market.parse_mix("boats=3")
