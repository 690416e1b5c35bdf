"""Wiring: settings → engine, clock, cipher and a unit-of-work factory, shared by every edge."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from biaodi.adapters.clock import Clock, clock_from_setting
from biaodi.adapters.crypto import PersonalDataCipher, load_or_create_key
from biaodi.adapters.db.engine import make_engine
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.config import Settings, get_settings
from biaodi.services.investing_rules import InvestingRules
from biaodi.services.listings import ListingRules


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    clock: Clock
    cipher: PersonalDataCipher

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)

    @property
    def listing_rules(self) -> ListingRules:
        return ListingRules(profile_name=self.settings.compliance_profile)

    @property
    def investing_rules(self) -> InvestingRules:
        return InvestingRules(listing=self.listing_rules)

    def close(self) -> None:
        self.engine.dispose()


def build_platform(
    settings: Settings | None = None, *, clock: Clock | None = None, engine: Engine | None = None
) -> Platform:
    settings = settings or get_settings()
    key = load_or_create_key(settings.secret_key, settings.secret_key_file)
    return Platform(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        clock=clock or clock_from_setting(settings.fixed_now),
        cipher=PersonalDataCipher(key),
    )
