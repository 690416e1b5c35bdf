"""Running a use case in one transaction, with the retries a concurrent platform needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from biaodi.adapters.db.uow import UnitOfWork

T = TypeVar("T")

#: PostgreSQL SQLSTATEs worth retrying: serialization failure and deadlock.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}


def _retryable(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in _RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig)


def in_transaction(
    uow_factory: Callable[[], UnitOfWork],
    fn: Callable[[UnitOfWork], T],
    *,
    retries: int = 5,
    retry_on_integrity: bool = False,
) -> T:
    """Run `fn` in a fresh unit of work and commit; retry on deadlock/serialization failure.

    `retry_on_integrity` retries after a unique-key race (e.g. two requests with one
    idempotency key): the rerun then finds the winner's row and replays it.
    """
    for attempt in range(retries):
        uow = uow_factory()
        try:
            with uow:
                result = fn(uow)
                uow.commit()
                return result
        except OperationalError as exc:
            if attempt == retries - 1 or not _retryable(exc):
                raise
        except IntegrityError:
            if attempt == retries - 1 or not retry_on_integrity:
                raise
    raise AssertionError("unreachable")
