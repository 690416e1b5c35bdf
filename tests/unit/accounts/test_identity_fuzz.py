"""Malformed resident ID numbers and mobiles never crash the validators: a valid, well-formed
result or `InvalidInput` naming the field."""

from __future__ import annotations

from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.accounts.identity import (
    PROVINCES,
    make_resident_id,
    parse_mobile,
    parse_resident_id,
)
from fuzz_support import anything, odd_dates, outcome, texts

FUZZ = settings(max_examples=150, deadline=None)
id_like = st.one_of(
    anything,
    texts,
    # 18 characters with a real province, mostly digits: reaches the date and check-digit rules
    st.tuples(st.sampled_from(sorted(PROVINCES)),
              st.text(alphabet="0123456789X１٣", min_size=16, max_size=16)).map("".join),
)


@FUZZ
@given(id_like, odd_dates)
@example("11010519491231002X", date(2026, 1, 1))
@example("110105１９491231002X", date(2026, 1, 1))
@example(make_resident_id("110105", date(1990, 1, 1), 1), date.min)
def test_resident_id_refused_or_well_formed(raw, today):
    resident, refusal = outcome(lambda: parse_resident_id(raw, today=today))
    if refusal is not None:
        assert refusal.field == "id_number"
        return
    assert resident.number.isascii() and len(resident.number) == 18
    assert resident.birth_date <= today
    assert resident.age_on(today) >= 18
    assert resident.province_code in PROVINCES


@FUZZ
@given(st.one_of(anything, texts, st.text(alphabet="+86 -0123456789１", max_size=16)))
@example("１３８００１３８０００")
@example("+86 138 0013 8000")
def test_mobile_refused_or_eleven_ascii_digits(raw):
    mobile, refusal = outcome(lambda: parse_mobile(raw))
    if refusal is not None:
        assert refusal.field == "mobile"
        return
    assert len(mobile) == 11 and mobile.isascii() and mobile.isdigit()
