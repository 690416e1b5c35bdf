"""Allocation order, tiers and exact pro-rata shares."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biaodi.domain.servicing.allocation import (
    AllocationOrder,
    Component,
    Creditor,
    allocate_components,
    distribute,
)
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import allocate_largest_remainder

PEN, INT, PRIN = Component.PENALTY, Component.INTEREST, Component.PRINCIPAL


def test_default_order_is_penalty_interest_principal() -> None:
    order = AllocationOrder()
    assert str(order) == "penalty,interest,principal"
    owed = {PEN: 20, INT: 100, PRIN: 1_000}
    assert allocate_components(150, owed, order) == {PEN: 20, INT: 100, PRIN: 30}
    principal_first = AllocationOrder.parse("principal,interest,penalty")
    assert allocate_components(150, {PEN: 20, INT: 100, PRIN: 1_000}, principal_first) == \
        {PRIN: 150, INT: 0, PEN: 0}
    assert [order.rank(c) for c in (PEN, INT, PRIN)] == [1, 2, 3]


@pytest.mark.parametrize("text", ["penalty,interest", "penalty,interest,fees",
                                  "interest,interest,principal"])
def test_orders_name_each_component_once(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        AllocationOrder.parse(text)
    assert info.value.field == "allocation_order"


def test_holders_are_paid_before_the_guarantor() -> None:
    creditors = [Creditor(1, 0, {INT: 100, PRIN: 900}), Creditor(2, 0, {INT: 50, PRIN: 450}),
                 Creditor(9, 1, {PEN: 30, INT: 10, PRIN: 500})]
    shares = distribute(1_600, creditors)
    assert shares[1][INT] + shares[1][PRIN] == 1_000 and shares[2][INT] + shares[2][PRIN] == 500
    assert shares[9] == {PEN: 30, INT: 10, PRIN: 60}


def test_a_residue_goes_to_the_largest_remainder_then_the_earlier() -> None:
    shares = distribute(100, [Creditor(1, 0, {INT: 100}), Creditor(2, 0, {INT: 100}),
                              Creditor(3, 0, {INT: 100})])
    assert [shares[k][INT] for k in (1, 2, 3)] == [34, 33, 33]


owed = st.fixed_dictionaries({PEN: st.integers(0, 10**6), INT: st.integers(0, 10**7),
                              PRIN: st.integers(0, 10**9)})


@given(st.lists(st.tuples(st.integers(0, 1), owed), min_size=1, max_size=12), st.data())
def test_distribution_is_exact_and_never_overpays(raw: list, data: st.DataObject) -> None:
    creditors = [Creditor(i + 1, tier, dues) for i, (tier, dues) in enumerate(raw)]
    total = sum(c.total for c in creditors)
    amount = data.draw(st.integers(0, total))
    shares = distribute(amount, creditors)
    assert sum(sum(s.values()) for s in shares.values()) == amount
    for c in creditors:
        for component in Component:
            assert 0 <= shares[c.position_id][component] <= c.owed[component]
    holders = sum(c.total for c in creditors if c.tier == 0)
    paid_holders = sum(sum(shares[c.position_id].values()) for c in creditors if c.tier == 0)
    assert paid_holders == min(amount, holders)


@given(st.integers(0, 10**8), st.lists(st.integers(1, 10**7), min_size=1, max_size=20))
def test_one_component_matches_largest_remainder(amount: int, weights: list[int]) -> None:
    amount = min(amount, sum(weights))
    creditors = [Creditor(i, 0, {INT: w}) for i, w in enumerate(weights)]
    shares = distribute(amount, creditors)
    assert [shares[i][INT] for i in range(len(weights))] == \
        allocate_largest_remainder(amount, weights)
