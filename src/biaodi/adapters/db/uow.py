"""Unit of work: one database transaction, committed whole or not at all."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from biaodi.adapters import faults
from biaodi.adapters.clock import Clock, SystemClock


class UnitOfWork:
    """`with uow:` opens a transaction; leaving the block without `commit()` rolls it back."""

    def __init__(self, engine: Engine, clock: Clock | None = None):
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._factory: Callable[[], Session] = sessionmaker(
            bind=engine, expire_on_commit=False, autoflush=True
        )
        self.session: Session | None = None

    @property
    def s(self) -> Session:
        if self.session is None:
            raise RuntimeError("unit of work used outside `with`")
        return self.session

    def __enter__(self) -> Self:
        if self.session is not None:
            raise RuntimeError("unit of work is not re-entrant")
        self.session = self._factory()
        self.session.begin()
        return self

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

    def commit(self) -> None:
        faults.point("uow.before_commit")
        self.s.commit()
        faults.point("uow.after_commit")  # committed, and nobody told yet

    def rollback(self) -> None:
        self.s.rollback()


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use case call; shared by API, CLI and tests."""

    def __init__(self, engine: Engine, clock: Clock | None = None):
        self.engine = engine
        self.clock: Clock = clock or SystemClock()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)
