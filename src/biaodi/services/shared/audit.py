"""The audit trail: noting what a transaction changes (`note`, re-exported from the writer in
adapters/db/audit.py), verifying the chain (`verify`) and reading one subject's trail
(`trail`) for the operator console and the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from biaodi.adapters.db.audit import (
    SUBJECT_KINDS,
    AuditContext,
    acting,
    canonical,
    chain_hash,
    current,
    note,
    signed_in,
)
from biaodi.adapters.db.audit_tables import GENESIS_HASH
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.errors import InvalidInput

__all__ = [
    "SUBJECT_KINDS",
    "AuditContext",
    "Problem",
    "TrailEntry",
    "Verification",
    "acting",
    "canonical",
    "current",
    "note",
    "parse_subject",
    "readable",
    "signed_in",
    "trail",
    "verify",
]

_BATCH = 2_000


@dataclass(frozen=True)
class Problem:
    """The first bad record: its number, what is wrong ("changed", "missing", "out of
    order") and how it shows."""

    seq: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"record {self.seq} {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Verification:
    records: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _records(uow: UnitOfWork, columns: str) -> Iterator[Any]:
    """Every record in number order, read in batches (keyset, so memory stays flat)."""
    after = -1
    while True:
        batch = uow.s.execute(text(f"SELECT {columns} FROM audit_records WHERE seq > :after "
                                   "ORDER BY seq LIMIT :n"), {"after": after, "n": _BATCH}).all()
        yield from batch
        if len(batch) < _BATCH:
            return
        after = batch[-1].seq


def _subjects(uow: UnitOfWork, first: int, last: int) -> dict[int, set[tuple[str, int]]]:
    found: dict[int, set[tuple[str, int]]] = {}
    for row in uow.s.execute(text(
            "SELECT seq, subject_kind, subject_id FROM audit_subjects "
            "WHERE seq BETWEEN :a AND :b"), {"a": first, "b": last}):
        found.setdefault(int(row.seq), set()).add((row.subject_kind, int(row.subject_id)))
    return found


def _as_date(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _check_columns(row: Any, payload: dict[str, Any]) -> str | None:
    """The columns repeat the payload (for queries): they must say the same."""
    if payload.get("actor_id") != (None if row.actor_id is None else int(row.actor_id)):
        return "its actor_id column differs from its payload"
    if payload.get("request_id") != row.request_id:
        return "its request_id column differs from its payload"
    if payload.get("business_date") != _as_date(row.business_date):
        return "its business_date column differs from its payload"
    return None


def verify(uow: UnitOfWork) -> Verification:
    """Recompute the chain in Python and name the first bad record:

    - "changed": its hash is not SHA-256(prev_hash + payload), or its columns or subject
      index rows disagree with its payload, or it was rewritten with a fresh hash (the next
      record no longer links to it);
    - "missing": a number is skipped (a record was deleted), or the head counts more records
      than there are (the last ones were deleted);
    - "out of order": it links to a record other than the one before it (records swapped).
    """
    # Pass 1: where each hash sits, to tell a reordering from a change (8 bytes a record).
    position = {int(r.hash[:16], 16): int(r.seq) for r in _records(uow, "seq, hash")
                if len(r.hash) >= 16 and _hex(r.hash[:16])}
    expected, prev_hash, count = 1, GENESIS_HASH, 0
    batch: list[Any] = []

    def check(batch: list[Any]) -> Problem | None:
        nonlocal expected, prev_hash, count
        subjects = _subjects(uow, batch[0].seq, batch[-1].seq)
        for row in batch:
            seq = int(row.seq)
            if seq != expected:
                return Problem(expected, "missing",
                               f"records jump from {expected - 1} to {seq}: deleted")
            if chain_hash(row.prev_hash, row.payload) != row.hash:
                return Problem(seq, "changed", "its hash does not match its contents")
            if row.prev_hash != prev_hash:
                elsewhere = _hex(row.prev_hash[:16]) and position.get(int(row.prev_hash[:16], 16))
                if elsewhere and elsewhere != seq - 1:
                    return Problem(seq, "out of order",
                                   f"it follows record {elsewhere}, not record {seq - 1}")
                return Problem(seq - 1, "changed",
                               f"record {seq} no longer links to it (rewritten with a new hash)")
            try:
                payload = json.loads(row.payload)
            except ValueError:
                return Problem(seq, "changed", "its payload is not JSON")
            wrong = _check_columns(row, payload)
            if wrong:
                return Problem(seq, "changed", wrong)
            listed = {(k, int(i)) for e in payload.get("events", [])
                      for k, i in e.get("subjects", [])}
            if subjects.get(seq, set()) != listed:
                return Problem(seq, "changed", "its subject index rows differ from its payload")
            expected, prev_hash, count = seq + 1, row.hash, count + 1
        return None

    for row in _records(uow, "seq, business_date, actor_id, request_id, payload, prev_hash, "
                             "hash"):
        batch.append(row)
        if len(batch) == _BATCH:
            problem = check(batch)
            if problem:
                return Verification(count, problem)
            batch = []
    if batch:
        problem = check(batch)
        if problem:
            return Verification(count, problem)

    head = uow.s.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    last = expected - 1
    if head is not None and int(head.seq) > last:
        return Verification(count, Problem(last + 1, "missing",
                                           f"the head counts {head.seq} records, the trail "
                                           f"ends at {last}: deleted"))
    if head is not None and int(head.seq) == last and last and head.hash != prev_hash:
        return Verification(count, Problem(last, "changed",
                                           "the head of the chain no longer links to it"))
    orphan = uow.s.execute(text(
        "SELECT MIN(s.seq) FROM audit_subjects s LEFT JOIN audit_records r ON r.seq = s.seq "
        "WHERE r.seq IS NULL")).scalar()
    if orphan is not None:
        return Verification(count, Problem(int(orphan), "missing",
                                           "its subject index rows remain: deleted"))
    return Verification(count, None)


def readable(changes: Any) -> str:
    """What changed, as compact JSON for people: sorted keys, Chinese as itself (the stored
    payload escapes it; see `canonical`)."""
    return json.dumps(changes, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _hex(value: str) -> bool:
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class TrailEntry:
    seq: int
    at: datetime
    business_date: date
    actor: str
    actor_id: int | None
    request_id: str | None
    #: The events of the record about this subject: action and what changed.
    events: list[dict[str, Any]]


def parse_subject(value: str) -> tuple[str, int]:
    """"listing:5" → ("listing", 5); names the rule broken otherwise."""
    kind, _, raw = value.partition(":")
    return check_subject(kind, raw, field="subject")


def check_subject(kind: str, raw: str | int, *, field: str = "subject_id") -> tuple[str, int]:
    if kind not in SUBJECT_KINDS:
        raise InvalidInput(f"the subject kind must be one of {', '.join(SUBJECT_KINDS)}",
                           field="subject_kind" if field == "subject_id" else field)
    try:
        subject_id = int(raw)
    except (TypeError, ValueError):
        raise InvalidInput("the subject id must be a whole number", field=field) from None
    if not 1 <= subject_id <= 2**63 - 1:
        raise InvalidInput("the subject id must be between 1 and 2^63-1", field=field)
    return kind, subject_id


def trail(uow: UnitOfWork, kind: str, subject_id: int, *, limit: int = 500) -> list[TrailEntry]:
    """The records about one listing, loan, user or payment order, oldest first (the last
    `limit` of them), each with only the events that name it."""
    kind, subject_id = check_subject(kind, subject_id)
    rows = uow.s.execute(text(
        "SELECT r.seq, r.at, r.business_date, r.actor_id, r.request_id, r.payload "
        "FROM audit_subjects s JOIN audit_records r ON r.seq = s.seq "
        "WHERE s.subject_kind = :kind AND s.subject_id = :id ORDER BY s.seq DESC LIMIT :n"),
        {"kind": kind, "id": subject_id, "n": limit}).all()
    entries = []
    for row in reversed(rows):
        payload = json.loads(row.payload)
        events = [{"action": e["action"], "changes": e.get("changes", {})}
                  for e in payload.get("events", [])
                  if [kind, subject_id] in e.get("subjects", [])]
        at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(str(row.at))
        business = (row.business_date if isinstance(row.business_date, date)
                    else date.fromisoformat(str(row.business_date)))
        entries.append(TrailEntry(int(row.seq), at, business, str(payload.get("actor", "")),
                                  row.actor_id, row.request_id, events))
    return entries
