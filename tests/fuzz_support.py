"""Hostile inputs for the domain's entry points (Hypothesis strategies) and the one check every
fuzz property makes: a refusal is a `BiaodiError` naming the field, never a bare Python error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from biaodi.domain.shared.errors import BiaodiError

#: Text a form or a file may carry: NUL, emoji, full-width digits, RTL marks, long strings.
odd_fragments = st.sampled_from([
    "", " ", "\x00", "\n", "\t", "😀", "１００", "١٢٣", "\u200f", "\u202e", "\ufeff", "−5",
    "1e9999", "-0", "+1", "NaN", "Infinity", "0x10", "1_000", "1,000", "100.", ".5", "1.005",
    "9" * 5000, "X", "x", "é", "𝟙𝟚𝟛",
])
texts = st.one_of(
    st.text(max_size=40),
    st.lists(odd_fragments, max_size=4).map("".join),
    st.text(alphabet="0123456789.-+eE ", max_size=30),
)
huge_ints = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([2**63, -(2**63), 2**31, -1, 0]),
    # longer than str() accepts (4,300 digits); built lazily so that reprs stay printable
    st.sampled_from([4301, 5000]).map(lambda n: 10**n),
    st.sampled_from([4301, 5000]).map(lambda n: -(10**n)),
)
odd_decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"),
                     Decimal("-0"), Decimal("1e9999"), Decimal("1E+999999999"),
                     Decimal("1E-999999999"), Decimal("0.001")]),
)
odd_dates = st.one_of(
    st.dates(),
    st.sampled_from([date.min, date.max, datetime(2026, 1, 1, 12, 0)]),
)
anything = st.one_of(
    st.none(), st.booleans(), texts, huge_ints, st.floats(), odd_decimals, odd_dates,
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                           max_size=2),
    st.just(object()),
)


def outcome(call: Callable[[], Any]) -> tuple[Any, BiaodiError | None]:
    """Run `call`; return (result, None) or (None, the BiaodiError). Any other exception
    escapes and fails the property. A refusal must name its field."""
    try:
        return call(), None
    except BiaodiError as refusal:
        assert refusal.field, f"refusal without a field: {refusal!r}"
        assert refusal.message
        return None, refusal
