"""Idempotency keys for money-moving requests: a table, not a cache.

The first answer to (scope, key) is stored in the same transaction as its effect and replayed
for every retry; the same key with a different request body is refused. Business refusals
(4xx) are stored too, in their own transaction, so a retry sees the answer the first try got.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from biaodi.adapters.db.tables import IdempotencyRecord
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.errors import BiaodiError, IdempotencyConflict, InvalidInput
from biaodi.services.shared.tx import in_transaction

MAX_KEY_LENGTH = 128


def request_hash(payload: Any) -> str:
    """A stable hash of a request body, to tell a true replay from a reused key."""
    blob = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any
    replayed: bool = False


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise InvalidInput("the Idempotency-Key header is required", field="Idempotency-Key")
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key must have at most {MAX_KEY_LENGTH} characters",
            field="Idempotency-Key",
        )
    return key


def _lookup(uow: UnitOfWork, scope: str, key: str, digest: str) -> Answer | None:
    row = uow.s.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request",
            field="Idempotency-Key",
        )
    return Answer(row.status_code, row.response, replayed=True)


def _store(uow: UnitOfWork, scope: str, key: str, digest: str, answer: Answer) -> None:
    uow.s.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=digest,
            status_code=answer.status_code,
            response=answer.body,
            created_at=uow.clock.now(),
        )
    )
    uow.s.flush()


def run_idempotent(
    uow_factory: Callable[[], UnitOfWork],
    *,
    scope: str,
    key: str,
    payload: Any,
    fn: Callable[[UnitOfWork], Answer],
) -> Answer:
    """Run `fn` once per (scope, key); `scope` names the caller and the route."""
    digest = request_hash(payload)

    def attempt(uow: UnitOfWork) -> Answer:
        previous = _lookup(uow, scope, key, digest)
        if previous is not None:
            return previous
        answer = fn(uow)
        _store(uow, scope, key, digest, answer)
        return answer

    try:
        return in_transaction(uow_factory, attempt, retry_on_integrity=True)
    except BiaodiError as refusal:
        if refusal.status >= 500 or isinstance(refusal, IdempotencyConflict):
            raise
        return remember_refusal(uow_factory, scope=scope, key=key, digest=digest,
                                refusal=refusal)


def remember_refusal(uow_factory: Callable[[], UnitOfWork], *, scope: str, key: str,
                     digest: str, refusal: BiaodiError) -> Answer:
    """Store a business refusal (4xx) as the answer to (scope, key), in its own transaction,
    so that a retry sees the answer the first try got — or the answer stored first."""
    answer = Answer(refusal.status, {"error": refusal.as_dict()})

    def store_refusal(uow: UnitOfWork) -> Answer:
        previous = _lookup(uow, scope, key, digest)
        if previous is not None:
            return previous
        _store(uow, scope, key, digest, answer)
        return answer

    try:
        return in_transaction(uow_factory, store_refusal, retry_on_integrity=True)
    except IntegrityError:  # pragma: no cover - only after repeated races
        return answer
