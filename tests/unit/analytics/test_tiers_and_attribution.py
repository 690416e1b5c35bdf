"""Investor tiers and acquisition attribution: the pure rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from biaodi.config import Settings
from biaodi.domain.accounts.attribution import Channel, parse_attribution
from biaodi.domain.analytics.tiers import (
    DEFAULT_TIERS,
    Tier,
    parse_tiers,
    rate,
    tier_for,
    whole_months,
)
from biaodi.domain.shared.errors import InvalidInput


def test_the_default_tiers_are_the_configured_ones() -> None:
    assert Settings.model_fields["analytics_tiers"].default == DEFAULT_TIERS
    assert parse_tiers(DEFAULT_TIERS) == (
        Tier("普通", 0, 0), Tier("白银", 1_000_000, 1), Tier("黄金", 10_000_000, 6),
        Tier("钻石", 100_000_000, 12))


@pytest.mark.parametrize(("assets", "months", "tier"), [
    (0, 0, "普通"), (999_999, 12, "普通"), (1_000_000, 0, "普通"), (1_000_000, 1, "白银"),
    (100_000_000, 5, "白银"), (100_000_000, 6, "黄金"), (100_000_000, 12, "钻石")])
def test_a_tier_needs_both_its_assets_and_its_months(assets: int, months: int, tier: str
                                                     ) -> None:
    assert tier_for(assets, months, parse_tiers(DEFAULT_TIERS)).name == tier


@pytest.mark.parametrize("spec", ["", "白银:100:1", "普通:0:0,白银:100", "普通:0:0,白银:1.001:1",
                                  "普通:0:0,白银:100:2,黄金:200:1", "普通:0:0,普通:1:1",
                                  "普通:0:0,白银:-1:0"])
def test_a_bad_tier_setting_is_refused_naming_it(spec: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_tiers(spec)
    assert refused.value.field == "analytics_tiers"


def test_whole_months_and_rates() -> None:
    assert whole_months(2026, 11, 28, 2026, 12, 27) == 0
    assert whole_months(2026, 11, 28, 2026, 12, 28) == 1
    assert whole_months(2026, 1, 31, 2026, 2, 28) == 0
    assert rate(2, 3) == Decimal("0.666667") and rate(1, 0) is None


def test_attribution_defaults_to_organic_and_bounds_the_campaign() -> None:
    assert parse_attribution(None, None).channel is Channel.ORGANIC
    assert parse_attribution(" WeChat ", " a  b ") == parse_attribution("wechat", "a b")
    with pytest.raises(InvalidInput) as refused:
        parse_attribution("wechat", "x" * 65)
    assert refused.value.field == "campaign"
