import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from biaodi.domain.listings import (
    DefaultAction,
    FundingSettings,
    ListingConfig,
    ListingContext,
    ListingTerms,
    NotPublishable,
)
from biaodi.domain.listings.transfer import POLICY, TransferSecurity, required_reserve
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money

TODAY = date(2024, 3, 1)
CTX = ListingContext(today=TODAY)
CLAIM = TransferSecurity(
    originator_id=9, claim_principal=Money.yuan(200_000), claim_rate=Decimal("0.12"),
    claim_maturity=date(2024, 9, 1), reserve_balance=Money.yuan(10_000),
)


def terms(amount="100000", term=6, method="bullet", unit="month"):
    return ListingTerms(Money.yuan(amount), Decimal("0.09"), term, unit, method)


def refused(field, t=None, sec=CLAIM, ctx=CTX):
    with pytest.raises(InvalidInput) as caught:
        POLICY.validate_terms(t or terms(), sec, ctx)
    assert caught.value.field == field
    return caught.value.message


def test_a_whole_number_of_shares_within_the_claim_is_publishable():
    POLICY.check_publishable(terms("100000"), CLAIM, CTX)


def test_funding_is_by_share_with_interest_from_subscription():
    rules = POLICY.funding_rules(ListingConfig())
    assert rules.min_ticket == rules.step == Money.yuan(100)
    assert rules.interest_start == "on_subscription"
    assert rules.partial_allowed is True
    assert rules.partial_threshold == Decimal("0.70")
    config = ListingConfig(transfer_share_size=Money.yuan(500),
                           funding={"transfer": FundingSettings(window_days=3)})
    rules = POLICY.funding_rules(config)
    assert (rules.min_ticket, rules.step, rules.window_days) == (
        Money.yuan(500), Money.yuan(500), 3)


def test_amount_must_be_whole_shares():
    assert "whole number of 100.00-yuan shares" in refused("amount", terms("100050"))
    ctx = ListingContext(today=TODAY, config=ListingConfig(transfer_share_size=Money.yuan(1000)))
    refused("amount", terms("100500"), ctx=ctx)


def test_amount_may_not_exceed_the_claim_principal():
    assert "exceeds the claim principal 200000.00" in refused("amount", terms("200100"))


def test_listing_may_not_outlive_the_claim():
    POLICY.validate_terms(terms(term=6), CLAIM, CTX)  # matures 2024-09-01, same day
    assert "after the claim matures on 2024-09-01" in refused("term", terms(term=7))
    refused("term", terms(term=185, unit="day"))


@pytest.mark.parametrize(("changes", "field"), [
    ({"claim_principal": Money(0)}, "claim_principal"),
    ({"claim_rate": Decimal("0")}, "claim_rate"),
    ({"claim_rate": 0.12}, "claim_rate"),
    ({"claim_maturity": TODAY}, "claim_maturity"),
    ({"reserve_balance": Money(-1)}, "reserve_balance"),
])
def test_bad_claims_are_refused_naming_the_field(changes, field):
    refused(field, sec=dataclasses.replace(CLAIM, **changes))


@pytest.mark.parametrize("method", ["equal_installment", "equal_principal"])
def test_amortising_methods_do_not_fit_a_buy_back(method):
    assert "bullet, interest_first" in refused("repayment_method", terms(method=method))


def test_buy_back_reserve_of_ten_percent_is_required_before_publishing():
    assert required_reserve(Money.yuan(100_000), ListingConfig()) == Money.yuan(10_000)
    short = dataclasses.replace(CLAIM, reserve_balance=Money.yuan("9999.99"))
    with pytest.raises(NotPublishable) as caught:
        POLICY.check_publishable(terms("100000"), short, CTX)
    assert isinstance(caught.value, Conflict)
    assert caught.value.field == "reserve_balance"
    assert "short by 0.01 of the 10000.00 required (10% of the amount)" in caught.value.message


def test_reserve_share_is_configurable():
    ctx = ListingContext(today=TODAY, config=ListingConfig(buyback_reserve_ratio=Decimal("0.2")))
    with pytest.raises(NotPublishable, match=r"short by 10000\.00 of the 20000\.00"):
        POLICY.check_publishable(terms("100000"), CLAIM, ctx)


def test_identity_labels_and_default_action():
    assert (POLICY.kind, POLICY.name_zh) == ("transfer", "流转标")
    assert POLICY.default_action is DefaultAction.ORIGINATOR_BUYBACK
    codes = [label.code for label in POLICY.risk_labels(terms(), CLAIM, CTX.profile)]
    assert codes == ["buyback_promise", "interest_from_subscription"]
    assert POLICY.base_risk_level(CLAIM) == 3
