"""The audit trail's writer: events noted during a transaction, written as ONE hash-chained
record right before the transaction commits.

A use case calls `note(uow, action, subjects=[("listing", 5), ("user", 7)], changes={...})`
where it changes state or moves money; nothing is sent to the database then. When the unit of
work commits (`UnitOfWork.commit`), the events it collected become one record whose payload is
canonical JSON text (sorted keys, no floats, money in integer fen) naming the actor, the request
id, the business date and time and the events. The record is chained: the singleton row
`audit_head` is moved forward LAST in the transaction by one statement that computes the new
hash in SQL, SHA-256 (hex) of the previous hash followed by the payload, so the global lock on
the head is held only for the commit, and every transaction takes its locks in the same order
(its own rows, then the head): the trail adds no deadlock. On PostgreSQL the head update, the
record and its subject index rows are one statement (a data-modifying CTE); on SQLite three.

Who acts and for which request comes from `acting(...)` (a context variable): the API and the
pages open one per request (actor: the signed-in user once known), the CLI one per command
("cli"), close of business its own ("system"). Events noted inside a savepoint that is rolled
back are forgotten with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from biaodi.adapters.db.audit_tables import GENESIS_HASH
from biaodi.domain.shared.money import Money

if TYPE_CHECKING:
    from biaodi.adapters.db.uow import UnitOfWork

#: The kinds of subject a record can be about (the console shows the trail of each).
SUBJECT_KINDS = ("listing", "loan", "user", "payment_order", "sale")


@dataclass
class AuditContext:
    """Who acts, for which request. Mutable on purpose: a request's context is opened by the
    middleware before the user is known, and the authentication dependency (which may run in
    another thread, with a copy of the context variables) fills in the user on the same
    object."""

    actor: str = "system"
    actor_id: int | None = None
    request_id: str | None = None

    def signed_in(self, user_id: int) -> None:
        self.actor, self.actor_id = "user", user_id


_context: ContextVar[AuditContext | None] = ContextVar("biaodi_audit_context", default=None)


@contextmanager
def acting(actor: str, *, actor_id: int | None = None,
           request_id: str | None = None) -> Iterator[AuditContext]:
    """Records written inside the block name this actor and request."""
    ctx = AuditContext(actor, actor_id, request_id)
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def current() -> AuditContext:
    """The open context, or the "system" actor outside any (a batch job, a test)."""
    return _context.get() or AuditContext()


def signed_in(user_id: int) -> None:
    """The authenticated user of the current request (no-op outside a request's context)."""
    ctx = _context.get()
    if ctx is not None:
        ctx.signed_in(user_id)


def canonical_value(value: Any) -> Any:
    """A JSON-ready value: money as integer fen, decimals as text, dates ISO; floats refused
    (their text is not canonical across platforms)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Money):
        return value.fen
    if isinstance(value, Enum):
        return canonical_value(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [canonical_value(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    raise TypeError(f"audit payloads hold no {type(value).__name__} (a float? use fen or text)")


def canonical(value: Any) -> str:
    """Canonical JSON text: sorted keys, no insignificant whitespace, ASCII only."""
    return json.dumps(canonical_value(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True, allow_nan=False)


def chain_hash(prev_hash: str, payload: str) -> str:
    """What the database computes when it writes a record (verification recomputes it)."""
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


@dataclass
class Event:
    action: str
    subjects: tuple[tuple[str, int], ...]
    changes: dict[str, Any]
    #: The savepoints open when it was noted: if one is rolled back, the event goes too.
    savepoints: tuple[Any, ...] = field(default=(), compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "subjects": [list(s) for s in self.subjects],
                "changes": self.changes}


def note(uow: UnitOfWork, action: str, *, subjects: Iterable[tuple[str, int]] = (),
         changes: Mapping[str, Any] | None = None) -> None:
    """Remember what this transaction changed; written with its commit (see the module).

    `action`: a dotted name ("listing.status", "ledger.post", "payment_order.status" …);
    `subjects`: (kind, id) pairs among SUBJECT_KINDS, the rows the console finds it under;
    `changes`: what changed, JSON-able (ints, text, bools, None, lists, dicts; Money is
    written as fen, Decimal as text; floats are refused). Never personal data itself: say
    that it changed. Costs no statement."""
    wanted = []
    for kind, subject_id in subjects:
        if kind not in SUBJECT_KINDS:
            raise ValueError(f"unknown audit subject kind {kind!r}")
        if subject_id is not None:
            wanted.append((kind, int(subject_id)))
    session = uow.s
    chain: list[Any] = []
    nested = session.get_nested_transaction()
    while nested is not None and nested.nested:
        chain.append(nested)
        nested = nested.parent
    uow.audit_events.append(Event(action, tuple(dict.fromkeys(wanted)),
                                  canonical_value(dict(changes or {})), tuple(chain)))


def forget_rolled_back(events: list[Event], transaction: Any) -> None:
    """Drop the events noted inside `transaction` (a savepoint just rolled back)."""
    events[:] = [e for e in events if transaction not in e.savepoints]


def payload_of(ctx: AuditContext, at: datetime, business_date: date,
               events: list[Event]) -> str:
    return canonical({"actor": ctx.actor, "actor_id": ctx.actor_id, "at": at,
                      "business_date": business_date, "request_id": ctx.request_id,
                      "events": [e.as_json() for e in events]})


def subjects_of(events: Iterable[Event]) -> list[tuple[str, int]]:
    return sorted({s for e in events for s in e.subjects})


_SHA = {"postgresql": "encode(sha256(convert_to({}, 'UTF8')), 'hex')",
        "sqlite": "sha256hex({})"}


def _advance_head(dialect: str) -> str:
    """Move the head forward: an upsert (the row is made by migration 0015; a database whose
    tables were emptied gets it back with the first record) that computes the new hash."""
    sha = _SHA[dialect]
    first = sha.format(f"'{GENESIS_HASH}' || CAST(:payload AS TEXT)")
    return (
        "INSERT INTO audit_head (id, seq, prev_hash, hash) "
        f"VALUES (1, 1, '{GENESIS_HASH}', {first}) "
        "ON CONFLICT (id) DO UPDATE SET seq = audit_head.seq + 1, "
        "prev_hash = audit_head.hash, "
        f"hash = {sha.format('audit_head.hash || CAST(:payload AS TEXT)')} "
        "RETURNING seq, prev_hash, hash")


_INSERT_RECORD = (
    "INSERT INTO audit_records (seq, at, business_date, actor_id, request_id, payload, "
    "prev_hash, hash) ")

_PG_RECORD = (
    f"WITH head AS ({_advance_head('postgresql')}), "
    f"rec AS ({_INSERT_RECORD}SELECT seq, :at, :business_date, "
    "CAST(:actor_id AS BIGINT), CAST(:request_id AS VARCHAR(64)), "
    "CAST(:payload AS TEXT), prev_hash, hash FROM head RETURNING seq) ")
#: The record's statements, made once: PostgreSQL's one statement (with subjects: two array
#: parameters, however many), SQLite's three (the subjects: one JSON parameter).
_PG_WITH_SUBJECTS = text(
    _PG_RECORD + "INSERT INTO audit_subjects (seq, subject_kind, subject_id) "
    "SELECT rec.seq, v.kind, v.id FROM rec CROSS JOIN "
    "unnest(CAST(:kinds AS VARCHAR(24)[]), CAST(:ids AS BIGINT[])) AS v (kind, id) "
    "RETURNING seq")
_PG_WITHOUT_SUBJECTS = text(_PG_RECORD + "SELECT seq FROM rec")
_SQLITE_HEAD = text(_advance_head("sqlite"))
_SQLITE_RECORD = text(_INSERT_RECORD + "VALUES (:seq, :at, :business_date, :actor_id, "
                      ":request_id, :payload, :prev_hash, :hash)")
_SQLITE_SUBJECTS = text("INSERT INTO audit_subjects (seq, subject_kind, subject_id) "
                        "SELECT :seq, json_extract(value, '$[0]'), "
                        "json_extract(value, '$[1]') FROM json_each(:subjects)")


def write_record(uow: UnitOfWork) -> int | None:
    """Write the transaction's noted events as one chained record; returns its number.
    Called by `UnitOfWork.commit` just before COMMIT (the head is the last lock taken)."""
    events = uow.audit_events
    if not events:
        return None
    ctx = current()
    at, business_date = uow.clock.now(), uow.clock.today()
    payload = payload_of(ctx, at, business_date, events)
    subjects = subjects_of(events)
    s = uow.s
    # The ORM's pending changes go first (the head stays the last row locked); the record's
    # statements then run on the session's connection, outside the ORM's execution path,
    # which costs more than they do on SQLite.
    s.flush()
    connection = s.connection()
    params: dict[str, Any] = {"payload": payload, "at": at,
                              "business_date": business_date, "actor_id": ctx.actor_id,
                              "request_id": ctx.request_id}
    if connection.dialect.name == "postgresql":
        if subjects:
            seq = connection.execute(_PG_WITH_SUBJECTS, params | {
                "kinds": [k for k, _ in subjects],
                "ids": [i for _, i in subjects]}).scalars().first()
        else:
            seq = connection.execute(_PG_WITHOUT_SUBJECTS, params).scalar_one()
    else:
        head = connection.execute(_SQLITE_HEAD, params).one()
        seq = head.seq
        connection.execute(_SQLITE_RECORD, params | {
            "seq": seq, "prev_hash": head.prev_hash, "hash": head.hash})
        if subjects:
            connection.execute(_SQLITE_SUBJECTS, {"seq": seq,
                                                  "subjects": json.dumps(subjects)})
    events.clear()
    return int(seq) if seq is not None else None


def sha256hex(value: str | None) -> str | None:
    """SQLite's `sha256hex(text)`: the hex SHA-256 of the UTF-8 text (PostgreSQL has its own)."""
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
