from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from biaodi.domain.listings import (
    FundingRules,
    FundingSettings,
    Gap,
    ListingConfig,
    ListingKind,
    ListingTerms,
    NotPublishable,
    all_policies,
    collateral,
    credit,
    guarantee,
    instant,
    policy_for,
    transfer,
)
from biaodi.domain.listings.lifecycle import ListingStatus, transition
from biaodi.domain.listings.policy import REPAYMENT_METHODS
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money


def test_every_kind_has_exactly_its_policy():
    assert [p.kind for p in all_policies()] == list(ListingKind)
    for module in (credit, collateral, guarantee, transfer, instant):
        assert policy_for(module.POLICY.kind) is module.POLICY
        assert policy_for(str(module.POLICY.kind)) is module.POLICY


@pytest.mark.parametrize("kind", ["p2p", "", "Credit"])
def test_unknown_kind_is_refused(kind):
    with pytest.raises(InvalidInput) as caught:
        policy_for(kind)
    assert caught.value.field == "kind"
    assert "credit, collateral, guarantee, transfer, instant" in caught.value.message


@pytest.mark.parametrize("policy", all_policies(), ids=lambda p: p.kind)
def test_every_policy_answers_the_protocol(policy):
    assert policy.name_zh.endswith("标") and policy.name_en.endswith("listing")
    assert policy.repayment_methods and policy.repayment_methods <= REPAYMENT_METHODS
    assert isinstance(policy.security_type, type)
    assert isinstance(policy.funding_rules(ListingConfig()), FundingRules)
    assert isinstance(policy.settles_on_funding, bool)
    assert isinstance(policy.counts_in_integrity_metrics, bool)


def test_only_transfer_funds_partially_and_accrues_from_subscription():
    rules = {p.kind: p.funding_rules(ListingConfig()) for p in all_policies()}
    assert {k for k, r in rules.items() if r.partial_allowed} == {"transfer"}
    assert {k for k, r in rules.items() if r.interest_start == "on_subscription"} == {"transfer"}


def test_partial_funding_can_be_configured_per_kind():
    config = ListingConfig(funding={"credit": FundingSettings(partial_allowed=True)})
    assert policy_for("credit").funding_rules(config).partial_allowed
    assert not policy_for("guarantee").funding_rules(config).partial_allowed


def test_only_instant_settles_on_funding_and_counts_in_integrity_metrics():
    assert [p.kind for p in all_policies() if p.settles_on_funding] == ["instant"]
    assert [p.kind for p in all_policies() if p.counts_in_integrity_metrics] == ["instant"]
    policy = policy_for("instant")
    record = transition(ListingStatus.FUNDED, ListingStatus.SETTLED, actor_id=None, reason=None,
                        at=datetime(2024, 3, 1, tzinfo=UTC),
                        settles_on_funding=policy.settles_on_funding)
    assert record.to_status == "settled"


def test_risk_levels_order_house_collateral_lowest_instant_highest():
    house = collateral.PledgedAsset(collateral.AssetClass.HOUSE, collateral.Appraisal(
        Money.yuan(1), date(2024, 1, 1), "x"))
    levels = {
        "house": collateral.POLICY.base_risk_level(collateral.CollateralSecurity((house,))),
        "credit": credit.POLICY.base_risk_level(credit.CreditSecurity(Money.yuan(1))),
        "instant": instant.POLICY.base_risk_level(instant.InstantSecurity()),
    }
    assert levels["house"] == 1 < levels["credit"] < levels["instant"] == 5


def test_repayment_method_names_match_the_schedule_module():
    from biaodi.domain.listings.schedule import RepaymentMethod

    assert {m.value for m in RepaymentMethod} == REPAYMENT_METHODS


# --- shared value types -------------------------------------------------------------------
RULES = FundingRules(min_ticket=Money.yuan(100), step=Money.yuan(50),
                     partial_allowed=True, partial_threshold=Decimal("0.70"), window_days=7)


@pytest.mark.parametrize(("amount", "remaining"), [("100", "1000"), ("150", "1000"),
                                                   ("30", "30"), ("1000", "1000")])
def test_valid_tickets(amount, remaining):
    RULES.check_ticket(Money.yuan(amount), Money.yuan(remaining))


@pytest.mark.parametrize(("amount", "remaining", "message"), [
    ("0", "1000", "greater than zero"),
    ("50", "1000", "at least 100.00"),
    ("120", "1000", "multiple of 50.00"),
])
def test_invalid_tickets_name_amount(amount, remaining, message):
    with pytest.raises(InvalidInput, match=message) as caught:
        RULES.check_ticket(Money.yuan(amount), Money.yuan(remaining))
    assert caught.value.field == "amount"


def test_more_than_is_left_is_listing_full_as_when_the_race_is_lost():
    """One situation, one answer: asking for more than is left is 409 listing_full whether the
    shortfall is seen before the hot-row update or by it."""
    with pytest.raises(Conflict, match=r"exceeds the 1000\.00 yuan still open") as caught:
        RULES.check_ticket(Money.yuan("1050"), Money.yuan("1000"))
    assert (caught.value.code, caught.value.status, caught.value.field) == (
        "listing_full", 409, "amount")


def test_deadline_and_partial_threshold():
    assert RULES.deadline(date(2024, 2, 26)) == date(2024, 3, 4)
    target = Money.yuan(1000)
    assert RULES.succeeds_with(Money.yuan(700), target)
    assert not RULES.succeeds_with(Money.yuan("699.99"), target)
    all_or_nothing = FundingRules()
    assert all_or_nothing.succeeds_with(target, target)
    assert not all_or_nothing.succeeds_with(Money.yuan("999.99"), target)


@pytest.mark.parametrize("settings", [
    {"min_ticket": Money(0)}, {"step": Money(-1)}, {"partial_threshold": Decimal("0")},
    {"partial_threshold": Decimal("1.01")}, {"window_days": 0},
])
def test_bad_funding_settings_are_refused(settings):
    with pytest.raises(InvalidInput) as caught:
        FundingSettings(**settings)
    assert caught.value.field == "funding"


@pytest.mark.parametrize(("start", "term", "unit", "expected"), [
    (date(2024, 1, 31), 1, "month", date(2024, 2, 29)),
    (date(2023, 1, 31), 1, "month", date(2023, 2, 28)),
    (date(2024, 3, 15), 12, "month", date(2025, 3, 15)),
    (date(2024, 11, 30), 3, "month", date(2025, 2, 28)),
    (date(2024, 12, 31), 30, "day", date(2025, 1, 30)),
])
def test_terms_maturity(start, term, unit, expected):
    assert ListingTerms(Money.yuan(1), Decimal("0.1"), term, unit, "bullet").maturity(
        start) == expected


def test_not_publishable_names_a_field_only_when_one_is_to_blame():
    one = NotPublishable("credit", [Gap("a", "x"), Gap("a", "y")])
    assert (one.field, one.message) == ("a", "credit listing cannot be published: x; y")
    assert one.code == "not_publishable" and one.status == 409
    assert NotPublishable("credit", [Gap("a", "x"), Gap("b", "y")]).field is None
