"""Malformed allocation orders are refused naming the field; an accepted order names each of
penalty, interest and principal exactly once."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.servicing.allocation import AllocationOrder, Component
from fuzz_support import anything, outcome, texts

FUZZ = settings(max_examples=150, deadline=None)
NAMES = [c.value for c in Component]
orders = st.one_of(
    anything,
    texts,
    st.lists(st.sampled_from([*NAMES, "", " penalty", "PRINCIPAL", "利息"]), max_size=5).map(
        ",".join),
    st.lists(st.one_of(st.sampled_from(NAMES), anything), max_size=4),
)


@FUZZ
@given(orders)
@example(None)
@example(7)
@example([["penalty"], "interest", "principal"])
@example("penalty,interest,principal,penalty")
def test_order_refused_or_each_component_once(raw):
    order, refusal = outcome(lambda: AllocationOrder.parse(raw))
    if refusal is not None:
        assert refusal.field == "allocation_order"
        return
    assert sorted(order.components) == sorted(Component)
