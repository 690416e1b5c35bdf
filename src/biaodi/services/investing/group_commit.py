"""Group commit: the investments of one listing that queue up in a worker go as one statement.

In a rush every investment in a listing waits for the same hot row; each waits its turn
through the whole round trip of the one before it. Here the tickets for one listing that
arrive in one server process while a statement for that listing is in flight wait in a queue;
when the statement returns, the first of them (the leader) sends everything queued as one
statement, `biaodi_invest_many` (migration 0027), and hands each ticket its own result. No
ticket waits for a timer: a ticket alone goes at once, through the single-ticket statement,
unchanged; batches form only from the tickets that would have queued on the row anyway.

Leadership passes on: a leader whose own ticket is answered wakes the first ticket still
queued to lead the next batch, so nobody keeps serving others after their own answer. A
batch that fails as a whole (anything but a business refusal, which comes back per ticket)
is retried one ticket at a time, so one bad ticket never fails the others. Idempotency stays
per ticket: each carries its own key, a retry of one ticket never replays a batch, and two
tickets with the same key never share a batch (`next_batch`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

Params = dict[str, Any]
Result = dict[str, Any]
#: Sends one ticket (the single statement); sends several (the batch statement), one result
#: per ticket in their order.
SendOne = Callable[[Params], Result]
SendMany = Callable[[Sequence[Params]], list[Result]]

#: The most tickets one statement takes (the tickets of a rush beyond it wait for the next).
DEFAULT_BATCH_MAX = 64


@dataclass(eq=False)
class _Ticket:
    params: Params
    #: Set when the ticket is answered, or when it is to lead the next batch.
    woken: threading.Event = field(default_factory=threading.Event)
    answered: bool = False
    result: Result | None = None
    error: BaseException | None = None

    def answer(self, result: Result | None, error: BaseException | None) -> None:
        self.result, self.error, self.answered = result, error, True
        self.woken.set()


@dataclass(eq=False)
class _Queue:
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: list[_Ticket] = field(default_factory=list)
    busy: bool = False


@dataclass
class Stats:
    """What this process's batcher did (the tests read it)."""

    statements: int = 0
    tickets: int = 0
    largest: int = 0
    fallbacks: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def noted(self, size: int) -> None:
        with self._lock:
            self.statements += 1
            self.tickets += size
            self.largest = max(self.largest, size)

    def fell_back(self) -> None:
        with self._lock:
            self.fallbacks += 1


def next_batch(waiting: Sequence[T], key_of: Callable[[T], Hashable | None],
               batch_max: int) -> int:
    """How many of the first tickets waiting go in the next batch: up to `batch_max`, and
    never two with the same idempotency key — the batch stops before a key it already has, so
    that the later ticket sees the earlier one's stored answer (a refusal is stored after the
    statement), exactly as one by one; arrival order is kept."""
    keys: set[Hashable] = set()
    for n, ticket in enumerate(waiting[:batch_max]):
        key = key_of(ticket)
        if key is not None:
            if key in keys:
                return n
            keys.add(key)
    return min(len(waiting), batch_max)


def _no_key(params: Params) -> Hashable | None:
    return None


class Batcher:
    """One per engine and process: a queue per listing. `key_of` gives a ticket's
    idempotency key (None: none)."""

    def __init__(self, send_one: SendOne, send_many: SendMany,
                 batch_max: int = DEFAULT_BATCH_MAX,
                 key_of: Callable[[Params], Hashable | None] = _no_key) -> None:
        if batch_max < 1:
            raise ValueError("batch_max must be at least 1")
        self._send_one = send_one
        self._send_many = send_many
        self._key_of = key_of
        self.batch_max = batch_max
        self._queues: dict[int, _Queue] = {}
        self._queues_lock = threading.Lock()
        self.stats = Stats()

    def submit(self, listing_id: int, params: Params) -> Result:
        """This ticket's result, sent alone or with the others queued for the listing."""
        queue = self._queue(listing_id)
        ticket = _Ticket(params)
        with queue.lock:
            queue.waiting.append(ticket)
            leading = not queue.busy
            queue.busy = True
        if not leading:
            ticket.woken.wait()
            leading = not ticket.answered  # woken to lead the next batch, not answered
        if leading:
            self._lead(queue, ticket)
        if ticket.error is not None:
            raise ticket.error
        assert ticket.result is not None
        return ticket.result

    def _queue(self, listing_id: int) -> _Queue:
        queue = self._queues.get(listing_id)
        if queue is None:
            with self._queues_lock:
                queue = self._queues.setdefault(listing_id, _Queue())
        return queue

    def _lead(self, queue: _Queue, own: _Ticket) -> None:
        """Send batches until this ticket is answered, then pass the lead on (or stand down)."""
        while True:
            with queue.lock:
                size = next_batch(queue.waiting, lambda t: self._key_of(t.params),
                                  self.batch_max)
                batch = queue.waiting[:size]
                del queue.waiting[:size]
            self._send(batch)
            if own.answered:
                with queue.lock:
                    if queue.waiting:
                        queue.waiting[0].woken.set()  # the first still queued leads next
                    else:
                        queue.busy = False
                return
            # more were queued before this ticket than one batch took: lead the next as well

    def _send(self, batch: list[_Ticket]) -> None:
        if len(batch) == 1:
            self._send_alone(batch[0])
            return
        try:
            results = self._send_many([ticket.params for ticket in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} got {len(results)} results")
        except Exception:
            self.stats.fell_back()
            for ticket in batch:  # one at a time: only a ticket at fault fails
                self._send_alone(ticket)
            return
        self.stats.noted(len(batch))
        for ticket, result in zip(batch, results, strict=True):
            ticket.answer(result, None)

    def _send_alone(self, ticket: _Ticket) -> None:
        try:
            result = self._send_one(ticket.params)
        except BaseException as exc:  # handed to the ticket's own request, which raises it
            ticket.answer(None, exc)
            return
        self.stats.noted(1)
        ticket.answer(result, None)
