import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from biaodi.domain.shared.compliance import (
    CN_2016,
    COST_CAP,
    COST_CAPS,
    DEFAULT_PROFILE,
    INSTANT_LISTING_BAN,
    PERMISSIVE,
    PROFILES,
    RATE_CAP_2015,
    RULES,
    ComplianceViolation,
    CostCap,
    profile_named,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money


def test_default_profile_is_cn_2016():
    assert DEFAULT_PROFILE is CN_2016
    assert profile_named("cn-2016") is CN_2016
    assert profile_named("permissive") is PERMISSIVE
    assert set(PROFILES) == {"cn-2016", "permissive"}


def test_cn_2016_borrowing_caps_follow_article_17():
    assert CN_2016.natural_person_platform_cap == Money.yuan(200_000)
    assert CN_2016.natural_person_all_platforms_cap == Money.yuan(1_000_000)
    assert CN_2016.legal_person_platform_cap == Money.yuan(1_000_000)
    assert CN_2016.legal_person_all_platforms_cap == Money.yuan(5_000_000)


def test_cn_2016_bans_instant_listings_and_permissive_caps_them():
    assert CN_2016.instant_allowed is False
    assert CN_2016.instant_amount_cap is None
    assert PERMISSIVE.instant_allowed is True
    assert PERMISSIVE.instant_amount_cap == Money.yuan(50_000)


def test_permissive_lifts_borrowing_caps_but_keeps_the_cost_cap():
    assert PERMISSIVE.natural_person_platform_cap is None
    assert PERMISSIVE.legal_person_all_platforms_cap is None
    assert PERMISSIVE.cost_caps == CN_2016.cost_caps == COST_CAPS


def test_cost_cap_is_four_times_the_one_year_lpr_from_2020_08_20():
    day = date(2024, 3, 1)
    assert CN_2016.cost_cap_on(day).rule is COST_CAP
    assert CN_2016.cost_cap_rate(day, Decimal("0.0345")) == Decimal("0.1380")
    assert CN_2016.cost_cap_rate(day, None) is None  # no LPR known: nothing to compare with
    uncapped = dataclasses.replace(CN_2016, cost_caps=())
    assert uncapped.cost_cap_on(day) is None
    assert uncapped.cost_cap_rate(day, Decimal("0.0345")) is None


def test_the_cost_cap_table_turns_from_the_24_percent_line_to_4x_lpr_on_2020_08_20():
    lpr = Decimal("0.0385")
    last_old, first_new = date(2020, 8, 19), date(2020, 8, 20)
    for profile in (CN_2016, PERMISSIVE):
        assert profile.cost_cap_on(last_old).rule is RATE_CAP_2015
        assert profile.cost_cap_rate(last_old, lpr) == Decimal("0.24")
        assert profile.cost_cap_rate(last_old, None) == Decimal("0.24")  # a fixed line
        assert profile.cost_cap_on(first_new).rule is COST_CAP
        assert profile.cost_cap_rate(first_new, lpr) == Decimal("0.1540")
    old = CN_2016.cost_cap_on(last_old)
    assert (old.start, old.end, old.fixed_rate, old.void_rate) == (
        date(2015, 9, 1), last_old, Decimal("0.24"), Decimal("0.36"))
    assert old.describe() == "24% a year, above 36% void"
    new = CN_2016.cost_cap_on(first_new)
    assert (new.start, new.end, new.lpr_multiple) == (first_new, None, 4)
    assert new.describe() == "4× the one-year LPR"
    assert CN_2016.cost_cap_on(date(2014, 1, 1)) is old  # before the table: its first line
    assert RATE_CAP_2015.rule_id == "cn2015.rate_cap_24_36" and "法释〔2015〕18号" in \
        RATE_CAP_2015.source and "第二十六条" in RATE_CAP_2015.source


def test_a_cost_cap_table_has_no_gaps_or_overlaps():
    def line(start: date, end: date | None) -> CostCap:
        return CostCap(COST_CAP, start=start, end=end, lpr_multiple=4)

    with pytest.raises(ValueError, match="without a gap or an overlap"):
        dataclasses.replace(CN_2016, cost_caps=(line(date(2015, 1, 1), date(2020, 1, 1)),
                                                line(date(2020, 1, 3), None)))
    with pytest.raises(ValueError, match="without a gap or an overlap"):
        dataclasses.replace(CN_2016, cost_caps=(line(date(2015, 1, 1), None),
                                                line(date(2020, 1, 1), None)))
    with pytest.raises(ValueError, match="a fixed rate or an LPR multiple"):
        CostCap(COST_CAP, start=date(2020, 1, 1), fixed_rate=Decimal("0.24"), lpr_multiple=4)
    with pytest.raises(ValueError, match="ends before it starts"):
        line(date(2020, 1, 2), date(2020, 1, 1))


def test_unknown_profile_is_refused_naming_the_known_ones():
    with pytest.raises(InvalidInput) as caught:
        profile_named("eu-2024")
    assert caught.value.field == "compliance_profile"
    assert "cn-2016" in caught.value.message and "permissive" in caught.value.message


def test_every_profile_cites_known_rules():
    for profile in PROFILES.values():
        assert profile.rules()
        for rule in profile.rules():
            assert RULES[rule.rule_id] is rule
            assert rule.source and rule.summary_zh and rule.summary_en
    assert INSTANT_LISTING_BAN.rule_id in CN_2016.rule_ids
    assert INSTANT_LISTING_BAN.rule_id not in PERMISSIVE.rule_ids


def test_profiles_are_frozen_data():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CN_2016.instant_allowed = True  # type: ignore[misc]


def test_violation_is_a_conflict_naming_its_rule():
    error = ComplianceViolation(INSTANT_LISTING_BAN, "no instant listings", field="kind")
    assert isinstance(error, Conflict)
    assert error.status == 409
    assert error.rule_id == "cn2016.instant_listing_ban"
    assert "cn2016.instant_listing_ban" in error.message
    assert "暂行办法" in error.message
    assert error.as_dict() == {
        "code": "compliance_violation",
        "message": error.message,
        "field": "kind",
        "rule_id": "cn2016.instant_listing_ban",
    }


def test_transfer_listing_rules_cn_2016_bans_term_splitting_and_sets_a_reserve_minimum():
    assert CN_2016.term_splitting_allowed is False
    assert CN_2016.min_buyback_coverage == Decimal("0.10")
    assert {"cn2016.no_term_splitting", "cn2017.buyback_coverage"} <= set(CN_2016.rule_ids)
    assert RULES["cn2016.no_term_splitting"].source.endswith("第十条（七）")
    assert PERMISSIVE.term_splitting_allowed is True
    assert PERMISSIVE.min_buyback_coverage is None
    assert "cn2016.no_term_splitting" not in PERMISSIVE.rule_ids
