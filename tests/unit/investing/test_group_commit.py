"""Group commit's queue (`services/investing/group_commit.Batcher`) with stand-in statements:
a ticket alone goes at once through the single statement; tickets that queue while a
statement for their listing is in flight go together, in arrival order, each answered with
its own result; a batch that fails is retried one ticket at a time so that only the ticket at
fault fails; the lead passes on when a leader's own ticket is answered."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from biaodi.services.investing.group_commit import Batcher


class Statements:
    """Stand-ins for the single and the batch statement. The first statement sent waits
    for `release`, so that the test can queue tickets behind it."""

    def __init__(self) -> None:
        self.sent: list[list[int]] = []  # each statement's tickets, by their number
        self.release = threading.Event()
        self.started = threading.Event()
        self.bad: set[int] = set()
        self.lock = threading.Lock()

    def _note(self, numbers: list[int]) -> None:
        with self.lock:
            first = not self.sent
            self.sent.append(numbers)
        if first:
            self.started.set()
            assert self.release.wait(10)

    def one(self, params: dict[str, Any]) -> dict[str, Any]:
        self._note([params["n"]])
        if params["n"] in self.bad:
            raise ValueError(f"ticket {params['n']} is bad")
        return {"n": params["n"], "alone": True}

    def many(self, tickets: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        numbers = [params["n"] for params in tickets]
        self._note(numbers)
        if self.bad & set(numbers):
            raise ValueError("a bad ticket in the batch")
        return [{"n": n, "alone": False} for n in numbers]


def _queue_behind_first(batcher: Batcher, statements: Statements, count: int,
                        listing: int = 1) -> tuple[dict[int, Any], list[threading.Thread]]:
    """Ticket 0 is sent and held; tickets 1..count queue behind it (in that order)."""
    answers: dict[int, Any] = {}

    def send(n: int) -> None:
        try:
            answers[n] = batcher.submit(listing, {"n": n})
        except ValueError as exc:
            answers[n] = exc

    threads = [threading.Thread(target=send, args=(0,))]
    threads[0].start()
    assert statements.started.wait(10)
    for n in range(1, count + 1):
        thread = threading.Thread(target=send, args=(n,))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 10
        while len(batcher._queue(listing).waiting) < n:  # queued in this order
            assert time.monotonic() < deadline
            time.sleep(0.001)
    return answers, threads


def _finish(statements: Statements, threads: list[threading.Thread]) -> None:
    statements.release.set()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)


def test_a_ticket_alone_goes_at_once_through_the_single_statement() -> None:
    statements = Statements()
    statements.release.set()
    batcher = Batcher(statements.one, statements.many)
    assert batcher.submit(7, {"n": 1}) == {"n": 1, "alone": True}
    assert batcher.submit(7, {"n": 2}) == {"n": 2, "alone": True}
    assert statements.sent == [[1], [2]]
    assert (batcher.stats.statements, batcher.stats.largest) == (2, 1)


def test_tickets_that_queue_go_together_in_arrival_order_each_with_its_own_result() -> None:
    statements = Statements()
    batcher = Batcher(statements.one, statements.many)
    answers, threads = _queue_behind_first(batcher, statements, 5)
    _finish(statements, threads)
    assert statements.sent == [[0], [1, 2, 3, 4, 5]]
    assert answers[0] == {"n": 0, "alone": True}
    assert all(answers[n] == {"n": n, "alone": False} for n in range(1, 6))
    assert (batcher.stats.statements, batcher.stats.tickets, batcher.stats.largest) == (2, 6, 5)


def test_a_batch_that_fails_is_retried_one_by_one_and_only_the_bad_ticket_fails() -> None:
    statements = Statements()
    statements.bad = {3}
    batcher = Batcher(statements.one, statements.many)
    answers, threads = _queue_behind_first(batcher, statements, 4)
    _finish(statements, threads)
    assert statements.sent == [[0], [1, 2, 3, 4], [1], [2], [3], [4]]
    assert isinstance(answers[3], ValueError)
    assert [answers[n] for n in (1, 2, 4)] == [{"n": n, "alone": True} for n in (1, 2, 4)]
    assert batcher.stats.fallbacks == 1


def test_the_lead_passes_on_when_more_queue_than_one_statement_takes() -> None:
    statements = Statements()
    batcher = Batcher(statements.one, statements.many, batch_max=2)
    answers, threads = _queue_behind_first(batcher, statements, 5)
    _finish(statements, threads)
    assert statements.sent == [[0], [1, 2], [3, 4], [5]]
    assert all(answers[n]["n"] == n for n in range(6))
    assert not batcher._queue(1).busy and not batcher._queue(1).waiting


def test_listings_do_not_wait_for_each_other() -> None:
    statements = Statements()
    batcher = Batcher(statements.one, statements.many)
    _, threads = _queue_behind_first(batcher, statements, 1, listing=1)
    # listing 1's statement is held; a ticket for listing 2 goes at once
    assert batcher.submit(2, {"n": 99}) == {"n": 99, "alone": True}
    _finish(statements, threads)
    assert statements.sent == [[0], [99], [1]]


def test_batch_max_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_max"):
        Batcher(lambda p: p, lambda t: list(t), batch_max=0)
