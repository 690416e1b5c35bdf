import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from biaodi.domain.listings import DefaultAction, ListingContext, ListingTerms, NotPublishable
from biaodi.domain.listings.guarantee import POLICY, GuaranteeSecurity
from biaodi.domain.shared.compliance import ComplianceViolation
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money

CTX = ListingContext(today=date(2024, 3, 1))
GUARANTOR = GuaranteeSecurity(
    guarantor_id=3, guarantor_name="中和担保", capacity=Money.yuan(1_000_000),
    outstanding=Money.yuan(900_000), fee_rate=Decimal("0.02"),
)


def terms(amount, rate="0.11"):
    return ListingTerms(Money.yuan(amount), Decimal(rate), 6, "month", "interest_first")


def with_(**changes):
    return dataclasses.replace(GUARANTOR, **changes)


def test_defaults_to_compensation_three_days_past_due():
    assert GUARANTOR.compensation_days == 3
    assert GUARANTOR.headroom() == Money.yuan(100_000)


def test_publishable_while_within_the_guarantor_capacity():
    POLICY.check_publishable(terms("100000"), GUARANTOR, CTX)


def test_publishing_beyond_capacity_is_a_conflict_naming_it():
    with pytest.raises(NotPublishable) as caught:
        POLICY.check_publishable(terms("100000.01"), GUARANTOR, CTX)
    error = caught.value
    assert isinstance(error, Conflict)
    assert error.field == "guarantor_capacity"
    assert "guarantor capacity 1000000.00 of 中和担保 is exceeded" in error.message
    assert "outstanding 900000.00 + amount 100000.01 = 1000000.01, short by 0.01" in error.message


def test_amount_beyond_the_whole_capacity_is_bad_input():
    with pytest.raises(InvalidInput) as caught:
        POLICY.validate_terms(terms("1000000.01"), with_(outstanding=Money(0)), CTX)
    assert caught.value.field == "amount"
    assert "guarantor capacity 1000000.00" in caught.value.message


@pytest.mark.parametrize(("changes", "field"), [
    ({"guarantor_name": " "}, "guarantor_name"),
    ({"capacity": Money(0)}, "guarantor_capacity"),
    ({"outstanding": Money(-1)}, "guarantor_outstanding"),
    ({"fee_rate": Decimal("-0.01")}, "guarantee_fee_rate"),
    ({"fee_rate": Decimal("1")}, "guarantee_fee_rate"),
    ({"fee_rate": 0.02}, "guarantee_fee_rate"),
    ({"compensation_days": 0}, "compensation_days"),
    ({"compensation_days": 91}, "compensation_days"),
])
def test_bad_guarantee_terms_are_refused_naming_the_field(changes, field):
    with pytest.raises(InvalidInput) as caught:
        POLICY.validate_terms(terms("1000"), with_(**changes), CTX)
    assert caught.value.field == field


def test_cost_cap_counts_the_guarantee_fee():
    ctx = ListingContext(today=date(2024, 3, 1), one_year_lpr=Decimal("0.0345"))
    POLICY.validate_terms(terms("1000", rate="0.118"), GUARANTOR, ctx)  # 11.8 % + 2 % = 13.8 %
    with pytest.raises(ComplianceViolation) as caught:
        POLICY.validate_terms(terms("1000", rate="0.119"), GUARANTOR, ctx)
    assert caught.value.field == "annual_rate"
    assert "13.9%" in caught.value.message


def test_labels_name_the_guarantor_and_warn_when_it_is_stretched():
    labels = POLICY.risk_labels(terms("1000"), with_(outstanding=Money(0)), CTX.profile)
    assert [label.code for label in labels] == ["guaranteed"]
    assert labels[0].text_zh == "由中和担保提供本息担保，逾期3天后代偿"
    labels = POLICY.risk_labels(terms("1000"), GUARANTOR, CTX.profile)
    stretched = labels[1]
    assert (stretched.code, stretched.severity) == ("guarantor_stretched", "warning")
    assert "90.1%" in stretched.text_en


def test_identity_and_default_action():
    assert (POLICY.kind, POLICY.name_zh) == ("guarantee", "担保标")
    assert POLICY.default_action is DefaultAction.GUARANTOR_COMPENSATION
    assert POLICY.base_risk_level(GUARANTOR) == 3
