"""Splitting a loan's schedule among its holdings, exactly to the fen.

Interest: each instalment's interest is split in proportion to the holdings' principal by
largest remainder, so the shares add up to the instalment's interest.

Principal must add up both ways: across holdings to each instalment's principal, and across
instalments to each holding's principal (an investor gets back exactly what they lent). The
split is a *controlled rounding* of the exact pro-rata matrix: every share is the exact share
rounded down or up, and which shares are rounded up is chosen (greedily by largest fraction,
completed by augmenting paths) so that both margins hold. Such a rounding always exists for a
matrix whose row and column sums are integers (Bacharach 1966), so shares are never negative.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from decimal import Decimal
from itertools import groupby

from biaodi.domain.listings.schedule import accrued_interest
from biaodi.domain.shared.money import Money, allocate_largest_remainder


def split_interest(parts: list[int], weights: list[int]) -> list[list[int]]:
    """shares[h][k]: holding h's part of instalment k's interest (rows add up exactly)."""
    columns = [allocate_largest_remainder(part, weights) for part in parts]
    return [[columns[k][h] for k in range(len(parts))] for h in range(len(weights))]


def split_principal(parts: list[int], weights: list[int]) -> list[list[int]]:
    """shares[h][k] with Σ_h = parts[k] and Σ_k = weights[h]; requires Σ parts = Σ weights."""
    total = sum(weights)
    if sum(parts) != total:
        raise ValueError("principal parts and holdings must add up to the same amount")
    if any(p < 0 for p in parts) or any(w <= 0 for w in weights):
        raise ValueError("parts must not be negative and holdings must be positive")
    n, m = len(parts), len(weights)
    share = [[0] * n for _ in range(m)]
    up: list[set[int]] = [set() for _ in range(n)]  # per instalment: holdings rounded up
    candidates: list[tuple[int, int, int]] = []
    row_need = list(parts)
    col_need = list(weights)
    for k, part in enumerate(parts):
        for h, weight in enumerate(weights):
            floor, remainder = divmod(part * weight, total)
            share[h][k] = floor
            row_need[k] -= floor
            col_need[h] -= floor
            if remainder:
                candidates.append((-remainder, k, h))
    candidates.sort()
    # Greedy: largest fractions first, while both sides need it.
    if not _greedy(candidates, up, list(row_need), list(col_need), spread=False):
        # Left short (typically many holdings of one size, as in a rush of minimum tickets):
        # again, taking among equal fractions of an instalment the holdings that need the most
        # first, so that the rounding-up spreads across holdings and little or nothing is left
        # for the augmenting paths (1,200 equal tickets: 0.35 s of paths before, none now).
        # Where the plain greedy succeeds its result stands, as it always has.
        up = [set() for _ in range(n)]
        _greedy(candidates, up, row_need, col_need, spread=True)
    else:
        row_need = [0] * n
    if any(row_need):
        _augment(candidates, up, row_need, col_need)
    for k in range(n):
        for h in up[k]:
            share[h][k] += 1
    return share


def _greedy(candidates: list[tuple[int, int, int]], up: list[set[int]], row_need: list[int],
            col_need: list[int], *, spread: bool) -> bool:
    """Round up cells in candidate order while their instalment and holding both still need
    it (`spread`: among equal fractions of one instalment, the neediest holdings first);
    whether every instalment got all it needed. Updates `up` and the needs in place."""
    for (_, k), group in groupby(candidates, key=lambda cell: cell[:2]):
        cells = [h for _, _, h in group]
        if spread and len(cells) > row_need[k]:
            cells.sort(key=lambda h: -col_need[h])  # stable: by holding among equals
        for h in cells:
            if row_need[k] == 0:
                break
            if col_need[h] > 0:
                up[k].add(h)
                row_need[k] -= 1
                col_need[h] -= 1
    return not any(row_need)


def _augment(
    candidates: list[tuple[int, int, int]],
    up: list[set[int]],
    row_need: list[int],
    col_need: list[int],
) -> None:
    """Finish the rounding with augmenting paths: row → (cell not yet up) → column →
    (cell already up) → row …, flipping cells along the path."""
    cells_of_row: dict[int, list[int]] = {}
    rows_of_col: dict[int, list[int]] = {}
    for _, k, h in candidates:
        cells_of_row.setdefault(k, []).append(h)
        rows_of_col.setdefault(h, []).append(k)
    while True:
        start = next((k for k, need in enumerate(row_need) if need > 0), None)
        if start is None:
            return
        parent_col: dict[int, int] = {}  # column -> row it was reached from
        parent_row: dict[int, int] = {start: -1}  # row -> column it was reached from
        queue = deque([start])
        end = None
        while queue and end is None:
            k = queue.popleft()
            for h in cells_of_row.get(k, ()):
                if h in up[k] or h in parent_col:
                    continue
                parent_col[h] = k
                if col_need[h] > 0:
                    end = h
                    break
                for k2 in rows_of_col.get(h, ()):
                    if h in up[k2] and k2 not in parent_row:
                        parent_row[k2] = h
                        queue.append(k2)
        if end is None:
            raise ArithmeticError("no controlled rounding found")  # impossible for valid input
        h = end
        col_need[h] -= 1
        while True:
            k = parent_col[h]
            up[k].add(h)
            back = parent_row[k]
            if back == -1:
                row_need[k] -= 1
                break
            up[k].discard(back)
            h = back


def subscription_shares(
    principal: int,
    annual_rate: Decimal,
    subscribed_on: date,
    start: date,
    due_dates: list[date],
) -> list[tuple[int, int]]:
    """(principal, interest) per instalment for a holding whose interest runs from its own
    subscription day (流转标). Each period's interest accrues ACT/365 from the later of the
    period's start and the subscription day to its due date, rounded half-up; principal is
    repaid at maturity (the buy-back). The loan's instalments are the sums over holdings."""
    rows = []
    period_start = start
    for index, due in enumerate(due_dates):
        accrual_from = max(period_start, subscribed_on)
        interest = (
            accrued_interest(Money(principal), annual_rate, accrual_from, due).fen
            if due > accrual_from
            else 0
        )
        rows.append((principal if index == len(due_dates) - 1 else 0, interest))
        period_start = due
    return rows
