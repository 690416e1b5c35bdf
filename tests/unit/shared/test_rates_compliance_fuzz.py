"""Malformed rates and compliance look-ups: percent strings, ppm conversion, profile names and
dates far in the past or future are refused naming the field, or give a sound answer."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.shared.compliance import PROFILES, profile_named
from biaodi.services.shared.rates import parse_percent, parse_signed_percent, rate_to_ppm
from fuzz_support import anything, huge_ints, odd_dates, odd_decimals, outcome, texts

FUZZ = settings(max_examples=150, deadline=None)
percents = st.one_of(anything, texts, st.text(alphabet="0123456789.-+ ", max_size=12))


@FUZZ
@given(percents)
@example("１２")
@example("12\n")
@example(10**5000)
def test_percent_is_a_fraction_in_range_or_refused(value):
    rate, refusal = outcome(lambda: parse_percent(value, field="rate"))
    if refusal is not None:
        assert refusal.field == "rate"
        return
    assert isinstance(rate, Decimal) and 0 < rate < 1
    assert isinstance(rate_to_ppm(rate), int)


@FUZZ
@given(percents)
def test_signed_percent_is_small_or_refused(value):
    rate, refusal = outcome(lambda: parse_signed_percent(value, field="premium"))
    if refusal is None:
        assert -1 < rate < 1


@FUZZ
@given(odd_decimals)
@example(Decimal("Infinity"))
@example(Decimal("sNaN"))
@example(Decimal("1E+999999999"))
def test_rate_to_ppm_is_whole_or_refused(rate):
    ppm, refusal = outcome(lambda: rate_to_ppm(rate))
    if refusal is None:
        assert isinstance(ppm, int)


@FUZZ
@given(st.one_of(anything, st.sampled_from(sorted(PROFILES))))
@example(["cn-2016"])
@example(10**4301)
def test_profile_named_or_refused(name):
    profile, refusal = outcome(lambda: profile_named(name))
    if refusal is not None:
        assert refusal.field == "compliance_profile"
    else:
        assert profile is PROFILES[name]


@FUZZ
@given(st.sampled_from(sorted(PROFILES)), odd_dates, st.text(max_size=12), huge_ints,
       st.sampled_from(["month", "day", "", "年"]))
@example("cn-2016", date.min, "credit", 10**5000, "month")
@example("cn-2016", datetime(2026, 1, 1, 12), "credit", 12, "month")
def test_profile_look_ups_by_date_and_term_never_crash(name, day, kind, term, unit):
    profile = PROFILES[name]
    line, refusal = outcome(lambda: profile.cost_cap_on(day))
    assert refusal is None or refusal.field == "contract_date"
    assert line is None or line.rate(Decimal("0.035")) is None or line.rate(
        Decimal("0.035")) > 0
    assert 0 <= profile.service_fee_rate(kind, term, unit) < 1
