"""What the simulator needs of the platform (bootstrap.Platform provides it; services may not
import the wiring above them)."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Engine

from biaodi.adapters.clock import Clock
from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.config import Settings
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.secondary.rules import SecondaryRules
from biaodi.services.servicing.rules import ServicingRules


class Market(Protocol):
    settings: Settings
    engine: Engine
    clock: Clock
    cipher: PersonalDataCipher

    def uow(self) -> UnitOfWork: ...

    def reader(self) -> UnitOfWork: ...

    @property
    def investing_rules(self) -> InvestingRules: ...

    @property
    def servicing_rules(self) -> ServicingRules: ...

    @property
    def secondary_rules(self) -> SecondaryRules: ...

    def close_day_command(self, progress: Any = None) -> Any: ...
