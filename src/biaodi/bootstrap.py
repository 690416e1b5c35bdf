"""Wiring: settings → engine, clock, cipher and a unit-of-work factory, shared by every edge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from biaodi.adapters.clock import Clock, clock_from_setting
from biaodi.adapters.crypto import PersonalDataCipher, load_or_create_key, parse_digest_key
from biaodi.adapters.db.engine import ONE_STATEMENT, is_sqlite, make_engine
from biaodi.adapters.db.migrate import upgrade
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.fundco.protocol import FundCompany
from biaodi.adapters.fundco.sandbox import SandboxFundCompany
from biaodi.adapters.ratelimit import RateLimiter
from biaodi.config import Settings, get_settings, old_keys
from biaodi.domain.crowdfunding.rules import CrowdfundingRules
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger.posting import open_platform_accounts
from biaodi.services.listings.lifecycle import ListingRules
from biaodi.services.servicing.rules import ServicingRules

if TYPE_CHECKING:
    from biaodi.services.secondary.rules import SecondaryRules
    from biaodi.services.servicing.close_day import CloseDay, DayStep, Progress


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    clock: Clock
    cipher: PersonalDataCipher
    read_engine: Engine | None = None
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter({}, enabled=False))
    #: The money-market fund the cash wallet sells (our sandbox fund company by default).
    fund_company: FundCompany = field(default_factory=SandboxFundCompany)

    def uow(self) -> UnitOfWork:
        """A read-write unit of work (on SQLite it takes the write lock when it begins)."""
        return UnitOfWork(self.engine, self.clock)

    def reader(self) -> UnitOfWork:
        """A unit of work for reading only: pages and GET requests."""
        return UnitOfWork(self.read_engine or self.engine, self.clock)

    def glance(self) -> UnitOfWork:
        """A unit of work for a read of ONE statement (the bearer token's check on every
        request): on SQLite it sends no BEGIN (`engine.ONE_STATEMENT`)."""
        return UnitOfWork(self._one_statement_engine, self.clock)

    @cached_property
    def _one_statement_engine(self) -> Engine:
        return (self.read_engine or self.engine).execution_options(**{ONE_STATEMENT: True})

    @property
    def listing_rules(self) -> ListingRules:
        return ListingRules(profile_name=self.settings.compliance_profile,
                            risk_decision=self._risk_decision,
                            risk_decision_max_age_days=self.settings.risk_decision_max_age_days,
                            borrower_standing=self._borrower_standing)

    @property
    def investing_rules(self) -> InvestingRules:
        return InvestingRules(listing=self.listing_rules, screen_applicant=self._screen)

    @property
    def servicing_rules(self) -> ServicingRules:
        from biaodi.services.secondary.cancel import cancel_changed, cancel_for_listing

        return ServicingRules.from_settings(self.settings,
                                            list_defaulter=self._list_defaulter,
                                            end_offers_of_changed_loans=cancel_changed,
                                            end_offers_of_loan=cancel_for_listing)

    @property
    def secondary_rules(self) -> SecondaryRules:
        from biaodi.services.secondary.rules import SecondaryRules

        return SecondaryRules.from_settings(self.settings, self.investing_rules,
                                            self.servicing_rules)

    def _list_defaulter(self, uow: UnitOfWork, user_id: int, days_past_due: int,
                        reference: str) -> None:
        from biaodi.risk_modelling.rulepacks import load_pack
        from biaodi.services.risk import blacklist

        pack = load_pack(self.settings.risk_rule_pack or self.settings.compliance_profile)
        blacklist.on_default_past_m3(uow, user_id, days_overdue=days_past_due,
                                     reference=reference, cipher=self.cipher, pack=pack)

    def _risk_decision(self, uow: UnitOfWork, applicant_id: int) -> Mapping[str, Any] | None:
        from biaodi.services.risk.applications import latest_decision

        return latest_decision(uow, applicant_id)

    def _borrower_standing(self, uow: UnitOfWork, user_id: int) -> Mapping[str, Any] | None:
        from biaodi.services.risk.applications import borrower_standing

        return borrower_standing(uow, user_id)

    def _screen(self, uow: UnitOfWork, applicant_id: int) -> None:
        from biaodi.services.risk.applications import screen_before_disbursement

        screen_before_disbursement(uow, applicant_id, self.cipher)

    @property
    def crowdfunding_rules(self) -> CrowdfundingRules:
        return CrowdfundingRules()

    @property
    def day_steps(self) -> tuple[DayStep, ...]:
        """Close-of-business steps of the capabilities above servicing, in the order they run
        after the loan steps. One line per capability: each returns its own steps."""
        from biaodi.services.crowdfunding.projects import day_steps as crowdfunding_steps
        from biaodi.services.disclosure.steps import disclosure_steps
        from biaodi.services.documents.steps import document_steps
        from biaodi.services.funds.wallet import day_steps as fund_steps
        from biaodi.services.funds.wallet import relay_orders
        from biaodi.services.incentives.days import incentive_steps
        from biaodi.services.notifications.capture import capture_day
        from biaodi.services.servicing.close_day import DayStep

        steps: list[DayStep] = [DayStep("notifications", capture_day)]  # after the loan steps
        steps.append(DayStep("fund_send", lambda uow, day: 0, outside=lambda day: relay_orders(
            self.uow, self.fund_company).placed))  # orders to the fund, then its answers
        steps += [DayStep(name, fn) for name, fn in fund_steps(self.fund_company)]
        steps += [DayStep(name, run) for name, run in incentive_steps()]
        steps += crowdfunding_steps(self.crowdfunding_rules)
        steps += document_steps(self.settings.document_font,
                                at_close=self.settings.contracts_at_close)
        steps += disclosure_steps(self.settings)
        return tuple(steps)

    def close_day_command(self, progress: Progress | None = None) -> CloseDay:
        """Close of business as every edge runs it: the loan steps and `day_steps`."""
        from biaodi.services.servicing.close_day import CloseDay

        return CloseDay(self.engine, self.clock, self.servicing_rules, self.investing_rules,
                        progress, day_steps=self.day_steps)

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()


def build_platform(
    settings: Settings | None = None, *, clock: Clock | None = None, engine: Engine | None = None
) -> Platform:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, pool_size=settings.pool_size)
    url = engine.url.render_as_string(hide_password=False)
    return Platform(
        settings=settings,
        engine=engine,
        clock=clock or clock_from_setting(settings.fixed_now),
        cipher=cipher_from(settings),
        read_engine=make_engine(url, read_only=True) if is_sqlite(url) else None,
        rate_limiter=rate_limiter_from(settings),
        fund_company=SandboxFundCompany(state_file=settings.fund_sandbox_state),
    )


def cipher_from(settings: Settings) -> PersonalDataCipher:
    """The personal-data cipher: the current key (configured, else the key file), the old keys
    still readable, and the digest key (see docs/RELIABILITY.md, "Personal data")."""
    key = load_or_create_key(settings.secret_key, settings.secret_key_file)
    digest_key = parse_digest_key(settings.digest_key) if settings.digest_key else None
    return PersonalDataCipher(key, old_keys(settings), digest_key)


def rate_limiter_from(settings: Settings) -> RateLimiter:
    return RateLimiter({"login": settings.rate_limit_login, "signup": settings.rate_limit_signup,
                        "invest": settings.rate_limit_invest,
                        "payment": settings.rate_limit_payment},
                       settings.rate_limit_storage, enabled=settings.rate_limits_enabled)


def migrate_database(engine: Engine, revision: str = "heads",
                     cipher: PersonalDataCipher | None = None) -> None:
    """Migrate the schema to `revision`, then open the platform's own accounts (fee income,
    custody cash, suspense …) that every ledger entry may need. Safe to run again. `cipher`
    encrypts personal data a migration takes out of clear text (`biaodi db upgrade` passes
    the platform's; a database without users needs none)."""
    upgrade(engine, revision, attributes={"cipher": cipher})
    with UnitOfWork(engine) as uow:
        open_platform_accounts(uow)
        uow.commit()
