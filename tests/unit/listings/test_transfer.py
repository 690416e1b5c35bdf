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
from biaodi.domain.listings.transfer import (
    POLICY,
    TransferSecurity,
    longest_term,
    required_reserve,
)
from biaodi.domain.shared.compliance import CN_2016, PERMISSIVE, ComplianceViolation
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
    assert rules.settles_on_subscription is True
    # each subscription settled at once: the listing closes at whatever was sold, however
    # little (the old 70 % threshold would have failed money already paid over)
    target = Money.yuan(100_000)
    assert rules.succeeds_with(Money.yuan(100), target) is True
    assert rules.succeeds_with(Money(0), target) is False
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


# --- no term splitting (期限拆分), cn-2016 第十条（七） ------------------------------------------
def violation(t, sec=CLAIM, ctx=CTX, publish=False):
    check = POLICY.check_publishable if publish else POLICY.validate_terms
    with pytest.raises(ComplianceViolation) as caught:
        check(t, sec, ctx)
    return caught.value


@pytest.mark.parametrize("publish", [False, True])
def test_a_listing_shorter_than_its_claim_is_refused_under_cn_2016(publish):
    refused = violation(terms(term=3), publish=publish)  # the claim runs to 2024-09-01
    assert (refused.rule_id, refused.field) == ("cn2016.no_term_splitting", "term")
    assert "would mature on 2024-06-01, before the claim matures on 2024-09-01" in \
        refused.message
    assert "remaining 6 months" in refused.message
    assert violation(terms(term=183, unit="day")).rule_id == "cn2016.no_term_splitting"
    POLICY.validate_terms(terms(term=184, unit="day"), CLAIM, CTX)  # to the day


def test_the_claims_remaining_term_is_counted_in_whole_units():
    # a claim due mid-month: 6 months is the whole term in months, 8 days are left over
    mid = dataclasses.replace(CLAIM, claim_maturity=date(2024, 9, 9))
    POLICY.validate_terms(terms(term=6), mid, CTX)
    assert violation(terms(term=5), mid).rule_id == "cn2016.no_term_splitting"
    assert longest_term("month", date(2024, 1, 31), date(2024, 3, 30)) == 1  # Feb 29 fits
    assert longest_term("month", date(2024, 1, 31), date(2024, 3, 31)) == 2
    assert longest_term("day", TODAY, date(2024, 3, 11)) == 10
    assert longest_term("month", TODAY, date(2024, 3, 20)) == 0


def test_permissive_allows_term_splitting_with_a_red_flag():
    ctx = ListingContext(today=TODAY, profile=PERMISSIVE)
    POLICY.check_publishable(terms(term=3), CLAIM, ctx)
    listed = dataclasses.replace(CLAIM, term_start=TODAY)
    flags = {label.code: label for label in POLICY.risk_labels(terms(term=3), listed,
                                                                PERMISSIVE)}
    assert flags["term_splitting"].severity == "red_flag"
    assert "matures on 2024-06-01, before the underlying claim matures on 2024-09-01" in \
        flags["term_splitting"].text_en
    whole = [label.code for label in POLICY.risk_labels(terms(term=6), listed, PERMISSIVE)]
    assert "term_splitting" not in whole
    assert CN_2016.term_splitting_allowed is False and PERMISSIVE.term_splitting_allowed


# --- buy-back coverage across the originator's listings -----------------------------------
def test_coverage_is_the_reserve_over_everything_the_originator_promised():
    owed = dataclasses.replace(CLAIM, buyback_obligation=Money.yuan(300_000))
    assert owed.buyback_coverage == Decimal("0.0333")  # 10,000 / 300,000, rounded down
    assert CLAIM.buyback_coverage is None  # nothing owed
    label = POLICY.risk_labels(terms(), owed, CN_2016)[0]
    assert (label.code, label.severity) == ("buyback_promise", "warning")
    assert "covers 3.33% of the 300,000.00 yuan" in label.text_en
    full = dataclasses.replace(CLAIM, buyback_obligation=Money.yuan(10_000))
    assert POLICY.risk_labels(terms(), full, CN_2016)[0].severity == "info"


def test_publishing_below_the_profiles_minimum_coverage_is_refused():
    # this listing's 100,000 plus 50,000 still owed on others: 10,000 covers 6.66 %
    owed = dataclasses.replace(CLAIM, buyback_obligation=Money.yuan(150_000))
    POLICY.validate_terms(terms("100000"), owed, CTX)  # creating is fine
    refused = violation(terms("100000"), owed, publish=True)
    assert (refused.rule_id, refused.field) == ("cn2017.buyback_coverage", "reserve_balance")
    assert "would cover 6.66% of the originator's buy-back obligation 150000.00" in \
        refused.message
    assert "at least 10% is required: add 5000.00 to the reserve" in refused.message
    enough = dataclasses.replace(owed, reserve_balance=Money.yuan(15_000))
    POLICY.check_publishable(terms("100000"), enough, CTX)
    # permissive has no legal minimum (the platform's per-listing reserve still applies)
    POLICY.check_publishable(terms("100000"), owed,
                             ListingContext(today=TODAY, profile=PERMISSIVE))
    # an obligation not loaded still counts this listing's own amount (the platform's own
    # per-listing reserve switched off, the legal minimum still holds)
    bare = dataclasses.replace(CLAIM, reserve_balance=Money.yuan(9_999))
    no_platform_minimum = ListingContext(
        today=TODAY, config=ListingConfig(buyback_reserve_ratio=Decimal(0)))
    refused = violation(terms("100000"), bare, no_platform_minimum, publish=True)
    assert "add 1.00 to the reserve" in refused.message
