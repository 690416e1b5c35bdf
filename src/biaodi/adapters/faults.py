"""Named kill points for crash-safety tests: the process SIGKILLs itself at a chosen one.

`point("uow.after_commit")` marks a place where a crash must leave the platform recoverable.
With `BIAODI_FAULT_POINT` unset (production) a point is a dictionary lookup that finds
nothing. Set to `name:n` (or several, comma-separated: `close_day.chunk:3,uow.after_commit:40`)
the n-th time this process reaches `name` it kills itself with SIGKILL: no exception, no
`finally`, no flush, no rollback — the database sees a connection vanish, as after a power cut.
The variable is read once, when the first point is reached. tests/fault/ drives it
(docs/RELIABILITY.md, "Crash safety").
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "BIAODI_FAULT_POINT"

#: Every point in the code, for the harness and the documentation.
POINTS: tuple[str, ...] = (
    "uow.before_commit",       # the work is done, the transaction not yet committed
    "uow.after_commit",        # committed; the caller (a client, a batch loop) not yet told
    "funding.holdings",        # disbursement: holdings written, no schedule yet
    "funding.disbursed",       # disbursement: ledger entry posted, listing not yet repaying
    "close_day.chunk",         # close of business: between two chunks (after a commit)
    "close_day.funding",       # close of business: between two listings' funding windows
    "close_day.finish",        # close of business: every step done, the day not marked done
    "reconcile.recorded",      # reconciliation: discrepancies recorded, stale ones not cleared
    "callback.booked",         # a gateway callback booked, its audit row not yet written
    "secondary.taken",         # a secondary purchase: the part taken off the sale, no more
    "secondary.written",       # a secondary purchase: written whole, not yet committed
)

_armed: dict[str, int] | None = None
_hits: dict[str, int] = {}
_lock = threading.Lock()


def parse(spec: str) -> dict[str, int]:
    """`a:3,b:1` → {"a": 3, "b": 1}; a bare name means its first hit."""
    armed: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, count = part.partition(":")
        if name not in POINTS:
            raise ValueError(f"{ENV}: unknown kill point {name!r} (known: {', '.join(POINTS)})")
        armed[name] = int(count or 1)
        if armed[name] < 1:
            raise ValueError(f"{ENV}: the hit to kill at must be 1 or more, not {count}")
    return armed


def point(name: str) -> None:
    """A kill point: SIGKILL this process if `name` is armed and this is the chosen hit."""
    global _armed
    armed = _armed
    if armed is None:
        armed = _armed = parse(os.environ.get(ENV, ""))
    if not armed or name not in armed:
        return
    with _lock:
        _hits[name] = hit = _hits.get(name, 0) + 1
    if hit == armed[name]:
        os.kill(os.getpid(), signal.SIGKILL)
