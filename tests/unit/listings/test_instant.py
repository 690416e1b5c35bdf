import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from biaodi.domain.listings import DefaultAction, ListingConfig, ListingContext, ListingTerms
from biaodi.domain.listings.instant import POLICY, InstantSecurity
from biaodi.domain.shared.compliance import CN_2016, PERMISSIVE, ComplianceViolation
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money

CN = ListingContext(today=date(2024, 3, 1), profile=CN_2016)
LOOSE = ListingContext(today=date(2024, 3, 1), profile=PERMISSIVE)


def terms(amount="10000", method="bullet"):
    return ListingTerms(Money.yuan(amount), Decimal("0.20"), 1, "day", method)


@pytest.mark.parametrize("check", [POLICY.validate_terms, POLICY.check_publishable])
def test_cn_2016_refuses_instant_listings_naming_the_rule(check):
    with pytest.raises(ComplianceViolation) as caught:
        check(terms(), InstantSecurity(), CN)
    error = caught.value
    assert isinstance(error, Conflict)
    assert error.rule_id == "cn2016.instant_listing_ban"
    assert error.field == "kind"
    assert "cn2016.instant_listing_ban" in error.message
    assert "网络借贷信息中介机构业务活动管理暂行办法" in error.message
    assert "self-financing" in error.message


def test_default_profile_is_cn_2016():
    with pytest.raises(ComplianceViolation):
        POLICY.validate_terms(terms(), InstantSecurity(), ListingContext(today=date(2024, 3, 1)))


def test_permissive_allows_up_to_the_cap():
    POLICY.check_publishable(terms("50000"), InstantSecurity(), LOOSE)
    with pytest.raises(ComplianceViolation) as caught:
        POLICY.validate_terms(terms("50000.01"), InstantSecurity(), LOOSE)
    assert caught.value.field == "amount"
    assert caught.value.rule_id == "permissive.instant_amount_cap"
    assert "exceeds the instant-listing cap 50000.00" in caught.value.message


def test_the_cap_is_configurable():
    profile = dataclasses.replace(PERMISSIVE, instant_amount_cap=Money.yuan(1000))
    with pytest.raises(ComplianceViolation):
        POLICY.validate_terms(terms("1000.01"), InstantSecurity(),
                              ListingContext(today=date(2024, 3, 1), profile=profile))


def test_only_bullet_repayment():
    assert POLICY.repayment_methods == {"bullet"}
    with pytest.raises(InvalidInput) as caught:
        POLICY.validate_terms(terms(method="interest_first"), InstantSecurity(), LOOSE)
    assert caught.value.field == "repayment_method"


def test_always_carries_a_red_flag_and_a_ban_label_where_forbidden():
    labels = POLICY.risk_labels(terms(), InstantSecurity(), PERMISSIVE)
    assert [(label.code, label.severity) for label in labels] == [
        ("instant_listing", "red_flag")]
    assert "RED FLAG" in labels[0].text_en and "秒标" in labels[0].text_zh
    codes = [label.code for label in POLICY.risk_labels(terms(), InstantSecurity(), CN_2016)]
    assert codes == ["instant_listing", "prohibited_by_profile"]


def test_counted_in_integrity_metrics_and_settled_on_funding():
    assert POLICY.counts_in_integrity_metrics is True
    assert POLICY.settles_on_funding is True
    assert POLICY.default_action is DefaultAction.WRITE_OFF
    assert POLICY.base_risk_level(InstantSecurity()) == 5
    rules = POLICY.funding_rules(ListingConfig())
    assert (rules.window_days, rules.partial_allowed) == (1, False)
