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

from sqlalchemy import JSON, DateTime, bindparam, text
from sqlalchemy.exc import IntegrityError

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


#: The record's two statements, made once (plain SQL: an ORM query and flush cost more
#: than they do, on every money-moving request).
_LOOKUP = text("SELECT request_hash, status_code, response FROM idempotency_records "
               "WHERE scope = :scope AND key = :key").columns(response=JSON)
_STORE = text(
    "INSERT INTO idempotency_records (scope, key, request_hash, status_code, response, "
    "created_at) VALUES (:scope, :key, :digest, :status, :response, :now)"
).bindparams(bindparam("response", type_=JSON), bindparam("now", type_=DateTime(timezone=True)))


def _lookup(uow: UnitOfWork, scope: str, key: str, digest: str) -> Answer | None:
    row = uow.s.execute(_LOOKUP, {"scope": scope, "key": key}).one_or_none()
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request",
            field="Idempotency-Key",
        )
    return Answer(row.status_code, row.response, replayed=True)


def _store(uow: UnitOfWork, scope: str, key: str, digest: str, answer: Answer) -> None:
    uow.s.execute(_STORE, {"scope": scope, "key": key, "digest": digest,
                           "status": answer.status_code, "response": answer.body,
                           "now": uow.clock.now()})


@dataclass(frozen=True)
class Keyed:
    """A request's (scope, key) and body hash, for a use case that writes its own answer in
    the transaction of its effect: with `store`, or as `step` among its own statements
    (`sqlkit.write_together`), which saves a round trip while it holds its locks."""

    scope: str
    key: str
    digest: str

    def store(self, uow: UnitOfWork, answer: Answer) -> Answer:
        _store(uow, self.scope, self.key, self.digest, answer)
        return answer

    def step(self, answer: Answer, *, pg: bool) -> tuple[tuple[str, str], dict[str, Any]]:
        """The record as a writing step and its parameters (`:now`, a DateTime, is the
        caller's); a same-key race fails its unique key, and the rerun replays the winner."""
        response = "CAST(:idem_response AS json)" if pg else ":idem_response"
        return (("answered", "INSERT INTO idempotency_records (scope, key, request_hash, "
                 "status_code, response, created_at) VALUES (:idem_scope, :idem_key, "
                 f":idem_digest, :idem_status, {response}, :now)"),
                {"idem_scope": self.scope, "idem_key": self.key, "idem_digest": self.digest,
                 "idem_status": answer.status_code,
                 "idem_response": json.dumps(answer.body, separators=(",", ":"))})


def run_idempotent(
    uow_factory: Callable[[], UnitOfWork],
    *,
    scope: str,
    key: str,
    payload: Any,
    fn: Callable[[UnitOfWork], Answer],
) -> Answer:
    """Run `fn` once per (scope, key); `scope` names the caller and the route."""
    return run_keyed(uow_factory, scope=scope, key=key, payload=payload,
                     fn=lambda uow, keyed: keyed.store(uow, fn(uow)))


def run_keyed(
    uow_factory: Callable[[], UnitOfWork],
    *,
    scope: str,
    key: str,
    payload: Any,
    fn: Callable[[UnitOfWork, Keyed], Answer],
) -> Answer:
    """`run_idempotent` for a `fn` that writes its answer itself, in its transaction, with
    the `Keyed` it is given (`Keyed.store` or `Keyed.step`): it must, or a retry would run
    it again."""
    keyed = Keyed(scope, key, request_hash(payload))

    def attempt(uow: UnitOfWork) -> Answer:
        previous = _lookup(uow, scope, key, keyed.digest)
        if previous is not None:
            return previous
        return fn(uow, keyed)

    try:
        return in_transaction(uow_factory, attempt, retry_on_integrity=True)
    except BiaodiError as refusal:
        if refusal.status >= 500 or isinstance(refusal, IdempotencyConflict):
            raise
        return remember_refusal(uow_factory, scope=scope, key=key, digest=keyed.digest,
                                refusal=refusal)


def refusal_answer(refusal: BiaodiError) -> Answer:
    """The stored answer to a request refused for a business reason (4xx)."""
    return Answer(refusal.status, {"error": refusal.as_dict()})


def remember_refusal(uow_factory: Callable[[], UnitOfWork], *, scope: str, key: str,
                     digest: str, refusal: BiaodiError) -> Answer:
    """Store a business refusal (4xx) as the answer to (scope, key), in its own transaction,
    so that a retry sees the answer the first try got — or the answer stored first."""
    answer = refusal_answer(refusal)

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
