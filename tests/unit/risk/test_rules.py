"""Rule packs: loading, validation, every rule firing with its message, outcomes."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from biaodi.domain.risk.rules import Outcome, Severity, decide, parse_pack
from biaodi.domain.shared.compliance import CN_2016, PERMISSIVE
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.risk_modelling.rulepacks import available_packs, load_pack, load_pack_file

PACKS = ("cn-2016", "permissive")

CLEAN: dict[str, Any] = {
    "borrower_type": "natural", "listing_kind": "credit", "requested_amount": Money.yuan(30000),
    "term_months": 24, "identity_matches_account": True, "id_checksum_ok": True, "id_age": 36,
    "declared_age": 36, "age_difference": 0, "age_at_maturity": 38, "id_province": "北京",
    "declared_province": "北京", "id_province_matches": True, "credit_code_ok": None,
    "bank_card_ok": True, "four_elements": "match", "four_elements_mismatched": (),
    "phone_shared_identities": 0, "card_shared_identities": 0, "device_shared_identities": 0,
    "blacklist_hits": (), "other_platform_defaults": 0, "platform_outstanding": Money(0),
    "platform_outstanding_after": Money.yuan(30000),
    "all_platforms_outstanding_after": Money.yuan(30000),
    "monthly_income": Money.yuan(20000), "monthly_instalment": Money.yuan(1350),
    "debt_to_income": Decimal("0.0675"), "loan_to_value": None, "employment_years": 8,
    "score": 620, "grade": "A", "rate_band_min": Decimal("0.06"),
    "rate_band_max": Decimal("0.075"), "grade_rate_min": Decimal("0.06"),
    "cost_cap_rate": Decimal("0.12"), "cost_cap_rule": "cn2020.cost_cap_4x_lpr",
    "rate_band_clipped": False,
}

# rule id → (facts that make it fire, words its English message must contain, and per pack
# where the packs differ).
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "identity.account_mismatch": ({"identity_matches_account": False},
                                  "differs from the applicant's real-name account"),
    "identity.id_checksum": ({"id_checksum_ok": False}, "check digit is wrong (GB 11643)"),
    "identity.age_mismatch": ({"declared_age": 30, "age_difference": 6},
                              "declared age 30 does not match the ID's birth date (age 36)"),
    "identity.minimum_age": ({"id_age": 17, "declared_age": 17}, "the borrower is under 18"),
    "identity.age_at_maturity": ({"age_at_maturity": 71}, "the borrower will be 71 at maturity"),
    "identity.province_mismatch": (
        {"id_province_matches": False, "declared_province": "上海"},
        "the ID's region code is in 北京, the declared household registration in 上海"),
    "identity.credit_code": ({"borrower_type": "legal", "credit_code_ok": False},
                             "unified social credit code is invalid"),
    "identity.bank_card": ({"bank_card_ok": False}, "bank card number fails its check digit"),
    "bureau.four_elements_mismatch": (
        {"four_elements": "mismatch", "four_elements_mismatched": ("bank_card", "mobile")},
        "four-element verification failed: bank_card, mobile do not match"),
    "bureau.four_elements_unavailable": ({"four_elements": "unavailable"},
                                         "could not verify the four elements"),
    "linked.bank_card": ({"card_shared_identities": 1}, "bank card is used by 1 other"),
    "linked.phone": ({"phone_shared_identities": 2}, "phone number is used by 2 other"),
    "linked.device_many": ({"device_shared_identities": 4}, "used to apply by 4 other"),
    "linked.device": ({"device_shared_identities": 1}, "used to apply by 1 other"),
    "blacklist.hit": ({"blacklist_hits": ("bank_card", "mobile")},
                      "on the blacklist: bank_card, mobile"),
    "bureau.other_platform_defaults": ({"other_platform_defaults": 2},
                                       "reports 2 defaults on other platforms"),
    "capacity.no_income": ({"monthly_income": Money(0)}, "no income declared"),
    "capacity.debt_to_income": ({"debt_to_income": Decimal("0.75")},
                                "take 75% of monthly income, above the"),
    "capacity.debt_to_income_review": ({"debt_to_income": Decimal("0.6")},
                                       "take 60% of monthly income, above"),
    "capacity.loan_to_value": ({"loan_to_value": Decimal("0.9")},
                               "the amount is 90% of the security's value"),
    "capacity.short_employment": ({"employment_years": 0}, "less than a year"),
    "cn2016.borrowing_caps.platform": (
        {"platform_outstanding_after": Money.yuan(210000)},
        "would reach 210,000.00 yuan, above the natural-person cap of 200,000.00"),
    "cn2016.borrowing_caps.all_platforms": (
        {"all_platforms_outstanding_after": Money.yuan(1000001)},
        "across platforms would reach 1,000,001.00 yuan, above the natural-person cap of"
        " 1,000,000.00"),
    "cn2016.borrowing_caps.legal_platform": (
        {"borrower_type": "legal", "credit_code_ok": True,
         "platform_outstanding_after": Money.yuan(1000001)},
        "above the legal-person cap of 1,000,000.00"),
    "cn2016.borrowing_caps.legal_all_platforms": (
        {"borrower_type": "legal", "credit_code_ok": True,
         "all_platforms_outstanding_after": Money.yuan(5000001)},
        "above the legal-person cap of 5,000,000.00"),
    "cn2016.instant_listing_ban": ({"listing_kind": "instant"}, "listings are banned"),
    "permissive.instant_amount_cap": (
        {"listing_kind": "instant", "requested_amount": Money.yuan(60000)},
        "an instant listing of 60,000.00 yuan exceeds the 50,000.00 cap"),
    "permissive.instant_red_flag": ({"listing_kind": "instant"}, "investors see a red flag"),
    "cn2020.cost_cap_4x_lpr": ({"grade_rate_min": Decimal("0.15")},
                               "lowest rate 15.00% exceeds the legal cap 12.00%"),
    "cn2015.rate_cap_24_36": (
        {"cost_cap_rule": "cn2015.rate_cap_24_36", "cost_cap_rate": Decimal("0.24"),
         "grade_rate_min": Decimal("0.25")},
        "lowest rate 25.00% exceeds the legal cap 24.00% (contracts made before 2020-08-20"),
    "pricing.band_clipped": ({"rate_band_clipped": True, "rate_band_max": Decimal("0.12")},
                             "the rate band is cut at the legal cap, 12.00%"),
    "grade.high_risk": ({"grade": "E", "score": 490}, "credit score 490, grade E"),
    "grade.review": ({"grade": "D", "score": 520}, "credit score 520, grade D"),
}


def _pack_rules() -> list[tuple[str, str]]:
    return [(name, rule.rule_id) for name in PACKS for rule in load_pack(name).rules]


def test_both_packs_ship_and_load() -> None:
    assert set(PACKS) <= set(available_packs())
    for name in PACKS:
        pack = load_pack(name)
        assert pack.name == name and pack.version
        assert pack.label == f"{name}@{pack.version}"
        assert len(pack.grades) == 6


def test_a_clean_application_fires_nothing() -> None:
    for name in PACKS:
        assert load_pack(name).evaluate(CLEAN) == []


def test_every_rule_of_every_pack_has_a_case() -> None:
    assert {rule_id for _, rule_id in _pack_rules()} == set(CASES)


@pytest.mark.parametrize(("pack_name", "rule_id"), _pack_rules())
def test_each_rule_fires_with_its_message(pack_name: str, rule_id: str) -> None:
    pack = load_pack(pack_name)
    overrides, words = CASES[rule_id]
    hits = {h.rule_id: h for h in pack.evaluate(CLEAN | overrides)}
    assert rule_id in hits, f"{rule_id} did not fire in {pack_name}"
    hit = hits[rule_id]
    assert words in hit.message_en
    assert hit.message_zh and "{" not in hit.message_zh and "{" not in hit.message_en
    assert hit.severity is pack.rule(rule_id).severity


def test_cn2016_refuses_what_permissive_only_refers() -> None:
    cn, permissive = load_pack("cn-2016"), load_pack("permissive")
    for rule_id in ("linked.bank_card", "grade.high_risk"):
        assert cn.rule(rule_id).severity is Severity.REFUSE
        assert permissive.rule(rule_id).severity is Severity.REFER
    assert permissive.rule("identity.province_mismatch").severity is Severity.WARN


def test_conditions_and_unknown_facts_keep_rules_quiet() -> None:
    pack = load_pack("cn-2016")
    # natural-person caps do not apply to a legal person, and vice versa
    legal = CLEAN | {"borrower_type": "legal", "credit_code_ok": True,
                     "platform_outstanding_after": Money.yuan(300000)}
    assert pack.evaluate(legal) == []
    # a fact the bureau could not supply (None) fires nothing
    assert pack.evaluate(CLEAN | {"all_platforms_outstanding_after": None,
                                  "other_platform_defaults": None}) == []
    # the device rule's `in [1, 2]` leaves 3+ to the refusing rule
    hits = {h.rule_id for h in pack.evaluate(CLEAN | {"device_shared_identities": 3})}
    assert hits == {"linked.device_many"}


def test_outcome_refuse_beats_refer_beats_warn() -> None:
    pack = load_pack("cn-2016")
    assert decide(pack.evaluate(CLEAN)) is Outcome.APPROVED
    assert decide(pack.evaluate(CLEAN | {"employment_years": 0})) is Outcome.APPROVED
    assert decide(pack.evaluate(CLEAN | {"phone_shared_identities": 1})) is Outcome.REFERRED
    both = CLEAN | {"phone_shared_identities": 1, "bank_card_ok": False}
    assert decide(pack.evaluate(both)) is Outcome.REFUSED


def test_packs_hold_the_same_compliance_numbers_as_the_profiles() -> None:
    for name, profile in (("cn-2016", CN_2016), ("permissive", PERMISSIVE)):
        from_pack = load_pack(name).compliance_profile()
        for field in dataclasses.fields(profile):
            if field.name != "description":
                assert getattr(from_pack, field.name) == getattr(profile, field.name), field.name
    pack = load_pack("cn-2016")
    assert pack.cost_cap_rate(date(2026, 11, 28), Decimal("0.03")) == Decimal("0.12")
    assert pack.cost_cap_rate(date(2020, 8, 19), Decimal("0.03")) == Decimal("0.24")
    assert pack.cost_cap_on(date(2020, 8, 20)).rule.rule_id == "cn2020.cost_cap_4x_lpr"


def test_only_the_cost_cap_rule_of_the_date_fires() -> None:
    pack = load_pack("cn-2016")
    old = CLEAN | {"cost_cap_rule": "cn2015.rate_cap_24_36", "cost_cap_rate": Decimal("0.24"),
                   "grade_rate_min": Decimal("0.15")}  # above 4 × LPR, within 24 %
    assert pack.evaluate(old) == []
    new = {h.rule_id for h in pack.evaluate(old | {"cost_cap_rule": "cn2020.cost_cap_4x_lpr",
                                                  "cost_cap_rate": Decimal("0.12")})}
    assert new == {"cn2020.cost_cap_4x_lpr"}


@pytest.mark.parametrize(("entry", "error"), [
    ({"rule": "nowhere.cap"}, "unknown compliance rule 'nowhere.cap'"),
    ({"from": "2020-08-20"}, "from and until must be dates"),
    ({"rate": "24"}, "a fixed rate or an LPR multiple, not both"),
    ({"lpr_multiple": None}, "a fixed rate or an LPR multiple, not both or neither"),
    ({"colour": "red"}, "unknown cost-cap key(s) colour"),
])
def test_a_bad_cost_cap_table_is_refused(entry: dict[str, Any], error: str) -> None:
    line = {"rule": "cn2020.cost_cap_4x_lpr", "from": date(2020, 8, 20), "lpr_multiple": 4}
    raw = {"name": "x", "version": "1", "grades": GRADES, "blacklist": BLACKLIST,
           "cost_caps": [{k: v for k, v in (line | entry).items() if v is not None}]}
    with pytest.raises(InvalidInput, match=re.escape(error)) as exc:
        parse_pack(raw)
    assert exc.value.field == "cost_caps[0]"


def test_loading_by_path_and_refusing_unknown_packs(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown rule pack 'nowhere'"):
        load_pack("nowhere")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [")
    with pytest.raises(InvalidInput, match="cannot read rule pack"):
        load_pack_file(broken)


GRADES = {g: {"rate_min": "6", "rate_max": "8", "income_multiple": 3, "limit_cap": "1000.00"}
          for g in ("A", "B", "C", "D", "E", "HR")}
BLACKLIST = {"default_m3_days": 1, "fraud_days": 0, "linked_days": 1, "manual_days": 1}
RULE = {"id": "r1", "fact": "score", "op": "<", "value": 500, "severity": "refuse",
        "message_zh": "分数 {actual}", "message_en": "score {actual}"}


@pytest.mark.parametrize(("change", "error"), [
    ({"fact": "shoe_size"}, "unknown fact 'shoe_size'"),
    ({"op": "~="}, "unknown operator"),
    ({"op": ">", "fact": "grade", "value": "A"}, "needs a numeric fact"),
    ({"severity": "panic"}, "severity must be refuse, refer or warn"),
    ({"message_en": ""}, "needs message_zh and message_en"),
    ({"message_en": "score {nonsense}"}, "unknown fact {nonsense}"),
    ({"limit": "no_such_limit"}, "give exactly one of value, limit or than_fact"),
    ({"value": "high"}, "'high' is not a int value"),
    ({"op": "in", "value": 3}, "needs a list value"),
    ({"when": {"colour": "red"}}, "unknown fact 'colour'"),
])
def test_malformed_rules_are_refused_naming_the_rule(change: dict[str, Any], error: str) -> None:
    raw = {"name": "t", "version": "1", "grades": GRADES, "blacklist": BLACKLIST,
           "rules": [RULE | change]}
    with pytest.raises(InvalidInput, match=error.replace("{", r"\{").replace("(", r"\(")) as exc:
        parse_pack(raw)
    assert exc.value.field == "rules.r1"


def test_pack_level_errors() -> None:
    base = {"name": "t", "version": "1", "grades": GRADES, "blacklist": BLACKLIST}
    with pytest.raises(InvalidInput, match="appears twice"):
        parse_pack(base | {"rules": [RULE, RULE]})
    with pytest.raises(InvalidInput, match="is not in \\[limits\\]"):
        parse_pack(base | {"rules": [{k: v for k, v in RULE.items() if k != "value"}
                                     | {"limit": "nope"}]})
    with pytest.raises(InvalidInput, match="lacks grades HR"):
        parse_pack(base | {"grades": {k: v for k, v in GRADES.items() if k != "HR"}})
    with pytest.raises(InvalidInput, match="needs a name and a version"):
        parse_pack({"grades": GRADES})
    with pytest.raises(InvalidInput, match=r"\[blacklist\] needs"):
        parse_pack(base | {"blacklist": {"fraud_days": 0}})
