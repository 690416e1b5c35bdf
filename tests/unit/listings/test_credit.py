from datetime import date
from decimal import Decimal

import pytest

from biaodi.domain.listings import DefaultAction, ListingConfig, ListingContext, ListingTerms
from biaodi.domain.listings.credit import POLICY, CreditSecurity
from biaodi.domain.listings.instant import InstantSecurity
from biaodi.domain.shared.compliance import ComplianceViolation
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

CTX = ListingContext(today=date(2024, 3, 1))


def terms(amount="50000", **changes):
    amount = amount if isinstance(amount, Money) else Money.yuan(amount)
    values = dict(amount=amount, annual_rate=Decimal("0.12"), term=12,
                  term_unit="month", repayment_method="equal_installment")
    return ListingTerms(**(values | changes))


def limit(value="50000", used="0"):
    return CreditSecurity(credit_limit=Money.yuan(value), credit_used=Money.yuan(used))


def refused(field, t=None, security=None, ctx=CTX):
    with pytest.raises(InvalidInput) as caught:
        POLICY.validate_terms(t or terms(), security or limit(), ctx)
    assert caught.value.field == field
    return caught.value.message


def test_amount_up_to_the_credit_limit_is_publishable():
    POLICY.validate_terms(terms("50000"), limit("50000"), CTX)
    POLICY.check_publishable(terms("50000"), limit("50000"), CTX)


def test_amount_above_the_limit_is_refused_naming_amount():
    message = refused("amount", terms("50000.01"), limit("50000"))
    assert "exceeds the borrower's available credit 50000.00" in message


def test_credit_already_used_reduces_what_is_available():
    message = refused("amount", terms("30000"), limit("50000", used="25000"))
    assert "available credit 25000.00" in message and "used 25000.00" in message
    POLICY.validate_terms(terms("25000"), limit("50000", used="25000"), CTX)


def test_no_credit_limit_is_refused():
    message = refused("credit_limit", security=CreditSecurity(credit_limit=None))
    assert "none is set" in message


def test_wrong_security_type_is_a_clear_error():
    message = refused("security", security=InstantSecurity())
    assert message == "a credit listing takes CreditSecurity, not InstantSecurity"


@pytest.mark.parametrize("method", ["equal_installment", "equal_principal", "interest_first",
                                    "bullet"])
def test_all_four_repayment_methods_are_allowed(method):
    POLICY.validate_terms(terms(repayment_method=method), limit(), CTX)


@pytest.mark.parametrize(("changes", "field"), [
    ({"repayment_method": "balloon"}, "repayment_method"),
    ({"annual_rate": 0.12}, "annual_rate"),
    ({"annual_rate": Decimal("0")}, "annual_rate"),
    ({"annual_rate": Decimal("1")}, "annual_rate"),
    ({"annual_rate": Decimal("NaN")}, "annual_rate"),
    ({"term": 0}, "term"),
    ({"term": 361}, "term"),
    ({"term": True}, "term"),
    ({"term": 3651, "term_unit": "day"}, "term"),
    ({"term_unit": "week"}, "term_unit"),
    ({"amount": Money(0)}, "amount"),
])
def test_bad_terms_are_refused_naming_the_field(changes, field):
    refused(field, terms(**changes))


def test_term_limits_are_configurable():
    ctx = ListingContext(today=date(2024, 3, 1), config=ListingConfig(max_term_months=24))
    assert "from 1 to 24" in refused("term", terms(term=36), ctx=ctx)


def test_rate_above_four_times_lpr_breaks_the_cost_cap():
    ctx = ListingContext(today=date(2024, 3, 1), one_year_lpr=Decimal("0.0345"))
    POLICY.validate_terms(terms(annual_rate=Decimal("0.138")), limit(), ctx)
    with pytest.raises(ComplianceViolation) as caught:
        POLICY.validate_terms(terms(annual_rate=Decimal("0.1381")), limit(), ctx)
    assert caught.value.field == "annual_rate"
    assert caught.value.rule_id == "cn2020.cost_cap_4x_lpr"
    assert "13.81% exceeds 13.8%" in caught.value.message
    assert "2024-03-01" in caught.value.message and "4× the one-year LPR" in caught.value.message


def test_before_2020_08_20_the_24_percent_line_caps_the_rate():
    ctx = ListingContext(today=date(2019, 6, 1))  # no LPR needed for a fixed line
    POLICY.validate_terms(terms(annual_rate=Decimal("0.24")), limit(), ctx)
    with pytest.raises(ComplianceViolation) as caught:
        POLICY.validate_terms(terms(annual_rate=Decimal("0.30")), limit(), ctx)
    assert caught.value.rule_id == "cn2015.rate_cap_24_36"
    assert "30% exceeds 24%" in caught.value.message and "2019-06-01" in caught.value.message


def test_identity_default_and_labels():
    assert (POLICY.kind, POLICY.name_zh, POLICY.name_en) == ("credit", "信用标", "Credit listing")
    assert POLICY.default_action is DefaultAction.WRITE_OFF
    assert POLICY.base_risk_level(limit()) == 4
    [label] = POLICY.risk_labels(terms(), limit(), CTX.profile)
    assert (label.code, label.severity) == ("unsecured", "warning")
    assert "信用" in label.text_zh and "Unsecured" in label.text_en


def test_funding_is_all_or_nothing_by_default():
    rules = POLICY.funding_rules(ListingConfig())
    assert rules.partial_allowed is False
    assert rules.min_ticket == rules.step == Money.yuan(100)
    assert rules.window_days == 7
    assert rules.interest_start == "on_full_funding"
