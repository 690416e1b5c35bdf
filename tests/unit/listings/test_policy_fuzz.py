"""Malformed listing terms and securities, for every listing type, never crash
`validate_terms`: it refuses with a `BiaodiError` naming the field, or accepts terms whose
amount is positive money, whose rate lies in (0, 1) and whose term is within the limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.listings.collateral import Appraisal, CollateralSecurity, PledgedAsset
from biaodi.domain.listings.credit import CreditSecurity
from biaodi.domain.listings.guarantee import GuaranteeSecurity
from biaodi.domain.listings.instant import InstantSecurity
from biaodi.domain.listings.policy import (
    ListingContext,
    ListingKind,
    ListingTerms,
    policy_for,
)
from biaodi.domain.listings.transfer import TransferSecurity
from biaodi.domain.shared.money import Money
from fuzz_support import anything, huge_ints, odd_dates, odd_decimals, outcome, texts

FUZZ = settings(max_examples=200, deadline=None)
BIG = Money(10**12)

amounts = st.one_of(st.integers(min_value=-(10**20), max_value=10**20).map(Money), anything)
rates = st.one_of(odd_decimals, st.integers(-5, 1_000_000).map(lambda n: Decimal(n).scaleb(-6)),
                  anything)
terms_ = st.one_of(huge_ints, st.integers(min_value=-1, max_value=3700), anything)
units = st.one_of(st.sampled_from(["month", "day", "Month", "月"]), anything)
methods = st.one_of(
    st.sampled_from(["equal_installment", "equal_principal", "interest_first", "bullet"]),
    anything)
#: Securities come from stored records, typed: hostile values of the right type only.
money_or_junk = st.integers(min_value=-(10**20), max_value=10**20).map(Money)
sec_rates = st.one_of(odd_decimals, st.integers(-5, 1_000_000).map(lambda n: Decimal(n).scaleb(-6)))


@st.composite
def securities(draw, kind: ListingKind):
    if kind is ListingKind.CREDIT:
        return CreditSecurity(credit_limit=draw(st.one_of(st.none(), money_or_junk)))
    if kind is ListingKind.INSTANT:
        return InstantSecurity()
    if kind is ListingKind.GUARANTEE:
        return GuaranteeSecurity(
            guarantor_id=1, guarantor_name=draw(texts),
            capacity=draw(st.one_of(st.just(BIG), money_or_junk)),
            outstanding=draw(st.one_of(st.just(Money(0)), money_or_junk)),
            fee_rate=draw(st.one_of(st.just(Decimal("0.01")), sec_rates)),
            compensation_days=draw(st.one_of(st.just(3), huge_ints)))
    if kind is ListingKind.TRANSFER:
        return TransferSecurity(
            originator_id=1, claim_principal=draw(st.one_of(st.just(BIG), money_or_junk)),
            claim_rate=draw(st.one_of(st.just(Decimal("0.1")), sec_rates)),
            claim_maturity=draw(st.one_of(st.just(date(2040, 1, 1)), odd_dates)),
            reserve_balance=draw(st.one_of(st.just(Money(0)), money_or_junk)))
    return CollateralSecurity(assets=tuple(draw(st.lists(st.builds(
        PledgedAsset,
        asset_class=st.one_of(st.sampled_from(["house", "car", "art", "other"]), texts),
        appraisal=st.builds(
            Appraisal, value=st.one_of(st.just(BIG), money_or_junk),
            appraised_on=st.one_of(st.just(date(2026, 1, 1)), odd_dates),
            appraiser=st.one_of(st.just("某评估公司"), texts))), max_size=2))))


VALID = (Money(100_00), Decimal("0.1"), 12, "month", "equal_installment")


@st.composite
def cases(draw):
    kind = draw(st.sampled_from(list(ListingKind)))
    # Each term is hostile or valid, so that the type's own checks are reached too.
    fuzzed = [draw(st.one_of(st.just(good), junk)) for good, junk in
              zip(VALID, (amounts, rates, terms_, units, methods), strict=True)]
    terms = ListingTerms(*fuzzed)
    today = draw(st.one_of(st.just(date(2026, 3, 1)), odd_dates))
    return kind, terms, draw(securities(kind)), today


@FUZZ
@given(cases())
@example((ListingKind.TRANSFER,
          ListingTerms(Money(100_00), Decimal("0.1"), 12, "month", "equal_installment"),
          TransferSecurity(originator_id=1, claim_principal=BIG, claim_rate=Decimal("0.1"),
                           claim_maturity=date.max, reserve_balance=Money(0)),
          date(9999, 6, 1)))
@example((ListingKind.CREDIT,
          ListingTerms(Money(100_00), Decimal("0.1"), 12, ["month"], "equal_installment"),
          CreditSecurity(credit_limit=BIG), date(2026, 3, 1)))
@example((ListingKind.GUARANTEE,
          ListingTerms(Money(100_00), Decimal("0.1"), 12, "month", "equal_installment"),
          GuaranteeSecurity(guarantor_id=1, guarantor_name=None, capacity=BIG,  # type: ignore
                            outstanding=Money(0), fee_rate=Decimal("0.01")),
          date(2026, 3, 1)))
def test_terms_refused_by_field_or_sound(case):
    kind, terms, security, today = case
    policy = policy_for(kind)
    _, refusal = outcome(lambda: policy.validate_terms(terms, security, ListingContext(today)))
    if refusal is not None:
        return
    assert isinstance(terms.amount, Money) and terms.amount.fen > 0
    assert isinstance(terms.annual_rate, Decimal) and 0 < terms.annual_rate < 1
    assert isinstance(terms.term, int) and terms.term >= 1
