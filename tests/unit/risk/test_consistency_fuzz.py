"""Malformed provinces, bank cards and fact values never crash the risk domain: a refusal
naming the field, or a result keeping its promise."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.risk.consistency import luhn_ok, normalise_card, province_code
from biaodi.domain.risk.facts import FactKind, display
from fuzz_support import anything, outcome, texts

FUZZ = settings(max_examples=120, deadline=None)


@FUZZ
@given(st.one_of(anything, texts, st.sampled_from(["北京", "北京市", "11", " 广东省 ", "省"])))
@example(None)
@example(["11"])
def test_province_refused_or_a_known_code(declared):
    code, refusal = outcome(lambda: province_code(declared))
    if refusal is None:
        assert isinstance(code, str) and len(code) == 2 and code.isascii()
    else:
        assert refusal.field == "province"


@FUZZ
@given(st.one_of(anything, texts, st.text(alphabet="0123456789 -１", min_size=10, max_size=24)))
@example(None)
@example("６２２２０２１２３４５６７８９０")
def test_card_refused_or_ascii_digits_that_luhn_can_check(raw):
    digits, refusal = outcome(lambda: normalise_card(raw))
    if refusal is not None:
        assert refusal.field == "bank_card"
        return
    assert digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19
    assert isinstance(luhn_ok(digits), bool)


@FUZZ
@given(st.sampled_from(list(FactKind)),
       anything.filter(lambda v: not isinstance(v, int) or abs(v) < 10**4000))
@example(FactKind.RATIO, Decimal("Infinity"))
@example(FactKind.LIST, 5)
@example(FactKind.RATE, Decimal("1E+999999999"))
def test_display_always_gives_text(kind, value):
    # Facts are computed by Biaodi, not typed in: ints beyond str()'s 4,300 digits are left out.
    assert isinstance(display(kind, value), str)
