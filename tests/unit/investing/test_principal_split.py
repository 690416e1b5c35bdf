"""The principal of a loan's instalments split among its holdings (`domain/investing/holdings.
split_principal`): every holding gets back exactly what it lent, every instalment's principal
is paid out exactly, and every share is the exact pro-rata share rounded down or up — for any
schedule and any tickets, the rush's many equal tickets included."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from biaodi.domain.investing.holdings import split_principal


def _check(parts: list[int], weights: list[int]) -> None:
    shares = split_principal(parts, weights)
    total = sum(weights)
    assert [sum(row) for row in shares] == weights  # each holding: exactly its principal
    assert [sum(shares[h][k] for h in range(len(weights)))
            for k in range(len(parts))] == parts  # each instalment: exactly its principal
    for h, weight in enumerate(weights):
        for k, part in enumerate(parts):
            exact_floor = part * weight // total
            assert shares[h][k] in (exact_floor, exact_floor + 1), (h, k)


def _parts_for(total: int, n: int, draw: st.DrawFn) -> list[int]:
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    weights = draw(st.lists(st.integers(1, 5_000_000), min_size=1, max_size=40))
    return _parts_for(sum(weights), draw(st.integers(1, 36)), draw), weights


@given(schedules())
@settings(max_examples=300, deadline=None)
def test_any_split_adds_up_both_ways_and_rounds_each_share_down_or_up(
        case: tuple[list[int], list[int]]) -> None:
    _check(*case)


@given(st.integers(2, 300), st.sampled_from([10_000, 5_000, 123_456]), st.integers(1, 36),
       st.data())
@settings(max_examples=60, deadline=None)
def test_equal_tickets_split_exactly(count: int, ticket: int, n: int, data: st.DataObject
                                     ) -> None:
    """Many holdings of the same size (a rush of minimum tickets)."""
    _check(_parts_for(count * ticket, n, data.draw), [ticket] * count)


def test_a_rush_of_1200_minimum_tickets_over_twelve_months() -> None:
    parts = [954_991, 962_949, 970_974, 979_065, 987_224, 995_451, 1_003_746, 1_012_111,
             1_020_545, 1_029_050, 1_037_625, 1_046_269]  # 120,000.00 at 10 %, equal instalments
    _check(parts, [10_000] * 1_200)
