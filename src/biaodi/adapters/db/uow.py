"""Unit of work: one database transaction, committed whole or not at all."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from biaodi.adapters import faults
from biaodi.adapters.clock import Clock, SystemClock
from biaodi.adapters.db import audit


def _rolled_back(session: Session, transaction: Any) -> None:
    uow = session.info.get("uow")
    if uow is not None:
        uow._rolled_back(session, transaction)


_FACTORIES: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = (
    weakref.WeakKeyDictionary())


def _session_factory(engine: Engine) -> sessionmaker[Session]:
    """One session factory per engine, its rollback listener registered once (making a
    factory and a session's own listener cost more than a small use case on SQLite)."""
    factory = _FACTORIES.get(engine)
    if factory is None:
        factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
        event.listen(factory, "after_soft_rollback", _rolled_back)
        _FACTORIES[engine] = factory
    return factory


class UnitOfWork:
    """`with uow:` opens a transaction; leaving the block without `commit()` rolls it back.

    What the transaction changed is noted on it (`audit.note`) and written as one audit
    record by `commit()`, just before COMMIT (adapters/db/audit.py)."""

    def __init__(self, engine: Engine, clock: Clock | None = None):
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._factory: Callable[..., Session] = _session_factory(engine)
        self.session: Session | None = None
        #: Audit events noted in the open transaction (`audit.note`), written by `commit`.
        self.audit_events: list[audit.Event] = []

    @property
    def s(self) -> Session:
        if self.session is None:
            raise RuntimeError("unit of work used outside `with`")
        return self.session

    def __enter__(self) -> Self:
        if self.session is not None:
            raise RuntimeError("unit of work is not re-entrant")
        self.session = self._factory(info={"uow": self})
        self.audit_events = []
        self.session.begin()
        return self

    def _rolled_back(self, _session: Session, transaction: Any) -> None:
        if transaction.nested:  # a savepoint: forget what was noted inside it
            audit.forget_rolled_back(self.audit_events, transaction)
        else:
            self.audit_events.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.session is not None
        try:
            # close() rolls back whatever was not committed and detaches loaded objects
            # without expiring them, so values read inside the block stay readable after it.
            self.session.close()
        finally:
            self.session = None
            self.audit_events = []

    def commit(self) -> None:
        """Write the audit record of what was noted (the head of the chain is the last row
        this transaction locks), then commit."""
        if self.audit_events:
            audit.write_record(self)
        faults.point("uow.before_commit")
        self.s.commit()
        faults.point("uow.after_commit")  # committed, and nobody told yet

    def rollback(self) -> None:
        self.s.rollback()
        self.audit_events.clear()


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use case call; shared by API, CLI and tests."""

    def __init__(self, engine: Engine, clock: Clock | None = None):
        self.engine = engine
        self.clock: Clock = clock or SystemClock()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)
