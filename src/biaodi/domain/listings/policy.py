"""The listing-policy protocol, the values every policy shares, and the registry.

Each listing type (标的类型) is one module in this package exposing `POLICY`, an object with the
hooks of `ListingPolicy`. The rest of Biaodi asks `policy_for(kind)` and never branches on the
kind's name; a new type is one new module plus one line in the package's `__init__`.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from biaodi.domain.shared.compliance import (
    DEFAULT_PROFILE,
    ComplianceProfile,
    ComplianceViolation,
    percent,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money

#: The repayment methods of biaodi.domain.listings.schedule.RepaymentMethod, by value.
REPAYMENT_METHODS = frozenset({"equal_installment", "equal_principal", "interest_first", "bullet"})
TERM_UNITS = frozenset({"month", "day"})
HUNDRED_YUAN = Money(10_000)


class ListingKind(StrEnum):
    CREDIT = "credit"
    COLLATERAL = "collateral"
    GUARANTEE = "guarantee"
    TRANSFER = "transfer"
    INSTANT = "instant"


class InterestStart(StrEnum):
    ON_FULL_FUNDING = "on_full_funding"
    ON_SUBSCRIPTION = "on_subscription"


class DefaultAction(StrEnum):
    """What servicing does when a loan defaults."""

    GUARANTOR_COMPENSATION = "guarantor_compensation"
    COLLATERAL_DISPOSAL = "collateral_disposal"
    ORIGINATOR_BUYBACK = "originator_buyback"
    WRITE_OFF = "write_off"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    RED_FLAG = "red_flag"


@dataclass(frozen=True)
class RiskLabel:
    """A flag shown to investors next to a listing."""

    code: str
    severity: Severity
    text_zh: str
    text_en: str


# --- terms --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListingTerms:
    amount: Money
    annual_rate: Decimal  # a fraction: Decimal("0.12") is 12 % a year
    term: int
    term_unit: str  # "month" | "day"
    repayment_method: str

    def maturity(self, start: date) -> date:
        """The last day of the term counted from `start` (month ends are clamped)."""
        if self.term_unit == "day":
            return start + timedelta(days=self.term)
        months = start.month - 1 + self.term
        year, month = start.year + months // 12, months % 12 + 1
        return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# --- funding ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FundingSettings:
    """The configurable part of funding; a policy has defaults, `ListingConfig` overrides."""

    min_ticket: Money = HUNDRED_YUAN
    step: Money = HUNDRED_YUAN
    partial_allowed: bool = False
    partial_threshold: Decimal = Decimal("0.70")
    window_days: int = 7

    def __post_init__(self) -> None:
        if self.min_ticket.fen <= 0 or self.step.fen <= 0:
            raise InvalidInput("minimum ticket and step must be positive", field="funding")
        if not 0 < self.partial_threshold <= 1:
            raise InvalidInput("partial-funding threshold must be in (0, 1]", field="funding")
        if self.window_days < 1:
            raise InvalidInput("funding window must be at least one day", field="funding")


@dataclass(frozen=True)
class FundingRules(FundingSettings):
    interest_start: InterestStart = InterestStart.ON_FULL_FUNDING

    def check_ticket(self, amount: Money, remaining: Money) -> None:
        """An investment must be ≥ the minimum and a whole number of steps, or take all that is
        left (so an odd remainder can always be filled)."""
        if amount.fen <= 0:
            raise InvalidInput("amount must be greater than zero", field="amount")
        if amount > remaining:  # the same answer as losing the race for the last ticket
            raise Conflict(f"amount exceeds the {remaining} yuan still open",
                           code="listing_full", field="amount")
        if amount == remaining:
            return
        if amount < self.min_ticket:
            raise InvalidInput(f"amount must be at least {self.min_ticket} yuan", field="amount")
        if amount.fen % self.step.fen:
            raise InvalidInput(f"amount must be a multiple of {self.step} yuan", field="amount")

    def deadline(self, published_on: date) -> date:
        return published_on + timedelta(days=self.window_days)

    @property
    def settles_on_subscription(self) -> bool:
        """Interest from each subscription day means each subscription is paid over to the
        applicant at once (流转标): nothing is frozen, so nothing can be refunded."""
        return self.interest_start is InterestStart.ON_SUBSCRIPTION

    def succeeds_with(self, raised: Money, target: Money) -> bool:
        """At the deadline: full funding, or partial funding at or above the threshold; a
        listing whose subscriptions settled at once closes at whatever was sold."""
        if raised >= target:
            return True
        if self.settles_on_subscription:
            return raised.fen > 0
        return self.partial_allowed and raised >= target.times_rate(self.partial_threshold)


def _default_ltv_caps() -> Mapping[str, Decimal]:
    return MappingProxyType(
        {"house": Decimal("0.70"), "car": Decimal("0.50"), "art": Decimal("0.30"),
         "other": Decimal("0.30")}
    )


@dataclass(frozen=True)
class ListingConfig:
    """Operator-tunable numbers; every field has the documented default."""

    funding: Mapping[str, FundingSettings] = field(default_factory=dict)  # per kind
    max_term_months: int = 360  # as schedule.MAX_TERM
    max_term_days: int = 3650
    ltv_caps: Mapping[str, Decimal] = field(default_factory=_default_ltv_caps)  # per asset class
    appraisal_max_age_days: int = 180
    transfer_share_size: Money = HUNDRED_YUAN
    buyback_reserve_ratio: Decimal = Decimal("0.10")


@dataclass(frozen=True)
class ListingContext:
    """What a check needs besides the listing: the business date (a publishing check runs on
    the publishing day), the compliance profile, the config and, when known, the one-year LPR."""

    today: date
    profile: ComplianceProfile = DEFAULT_PROFILE
    config: ListingConfig = field(default_factory=ListingConfig)
    one_year_lpr: Decimal | None = None


@dataclass(frozen=True)
class Gap:
    """One reason a listing cannot be published yet."""

    field: str
    message: str


class NotPublishable(Conflict):
    """Publishing refused; `gaps` lists every missing step or broken limit."""

    code = "not_publishable"

    def __init__(self, kind: str, gaps: list[Gap]):
        fields_named = {g.field for g in gaps}
        super().__init__(
            f"{kind} listing cannot be published: " + "; ".join(g.message for g in gaps),
            field=fields_named.pop() if len(fields_named) == 1 else None,
        )
        self.gaps = tuple(gaps)


# --- the protocol -------------------------------------------------------------------------
class ListingPolicy(Protocol):
    """What every listing type answers; the attributes are read-only."""

    @property
    def kind(self) -> ListingKind: ...
    @property
    def name_zh(self) -> str: ...
    @property
    def name_en(self) -> str: ...
    @property
    def security_type(self) -> type: ...  # the security object validate_terms takes
    @property
    def applicant_role(self) -> str: ...  # the role that may create such a listing
    @property
    def repayment_methods(self) -> frozenset[str]: ...
    @property
    def default_action(self) -> DefaultAction: ...
    @property
    def settles_on_funding(self) -> bool: ...  # lifecycle may go funded → settled
    @property
    def counts_in_integrity_metrics(self) -> bool: ...
    @property
    def transferable(self) -> bool: ...  # holdings may be sold on the secondary market

    def funding_rules(self, config: ListingConfig) -> FundingRules: ...
    def validate_terms(self, terms: ListingTerms, security: Any, ctx: ListingContext) -> None: ...
    def check_publishable(
        self, terms: ListingTerms, security: Any, ctx: ListingContext
    ) -> None: ...
    def risk_labels(
        self, terms: ListingTerms, security: Any, profile: ComplianceProfile
    ) -> list[RiskLabel]: ...
    def base_risk_level(self, security: Any) -> int: ...
    def cost_rate(self, terms: ListingTerms, security: Any) -> Decimal: ...
    def guarantee_fee_rate(self, security: Any) -> Decimal: ...  # yearly, with each instalment


class BasePolicy:
    """Shared checks; a type overrides `_validate`, `_gaps`, `cost_rate` and the labels."""

    kind: ListingKind
    name_zh: str
    name_en: str
    security_type: type
    applicant_role: str = "borrower"
    repayment_methods: frozenset[str] = REPAYMENT_METHODS
    default_action: DefaultAction
    default_funding: FundingSettings = FundingSettings()
    interest_start: InterestStart = InterestStart.ON_FULL_FUNDING
    settles_on_funding: bool = False
    counts_in_integrity_metrics: bool = False
    transferable: bool = True

    def funding_rules(self, config: ListingConfig) -> FundingRules:
        settings = config.funding.get(self.kind, self.default_funding)
        values = {f.name: getattr(settings, f.name) for f in fields(FundingSettings)}
        return FundingRules(**values, interest_start=self.interest_start)

    def validate_terms(self, terms: ListingTerms, security: Any, ctx: ListingContext) -> None:
        if not isinstance(security, self.security_type):
            raise InvalidInput(
                f"a {self.kind} listing takes {self.security_type.__name__},"
                f" not {type(security).__name__}",
                field="security",
            )
        self._check_terms(terms, ctx.config)
        self._validate(terms, security, ctx)
        self._check_cost_cap(self.cost_rate(terms, security), ctx)

    def check_publishable(self, terms: ListingTerms, security: Any, ctx: ListingContext) -> None:
        self.validate_terms(terms, security, ctx)
        gaps = self._gaps(terms, security, ctx)
        if gaps:
            raise NotPublishable(self.kind, gaps)

    def cost_rate(self, terms: ListingTerms, security: Any) -> Decimal:
        """The contract rate plus the type's yearly fees: a floor of the all-in cost, checked
        against the cap before the schedule is built (`domain.listings.cost`)."""
        return terms.annual_rate + self.guarantee_fee_rate(security)

    def guarantee_fee_rate(self, security: Any) -> Decimal:
        """The guarantor's yearly fee on the principal owed, charged with each instalment."""
        return Decimal(0)

    def _validate(self, terms: ListingTerms, security: Any, ctx: ListingContext) -> None:
        """Type-specific input rules; raise InvalidInput naming the field."""

    def _gaps(self, terms: ListingTerms, security: Any, ctx: ListingContext) -> list[Gap]:
        """Type-specific publishing conditions not yet met."""
        return []

    def _check_terms(self, terms: ListingTerms, config: ListingConfig) -> None:
        if not isinstance(terms.amount, Money) or terms.amount.fen <= 0:
            raise InvalidInput("amount must be a positive amount of money", field="amount")
        rate = terms.annual_rate
        if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 < rate < 1:
            raise InvalidInput(
                "annual_rate must be a Decimal fraction between 0 and 1", field="annual_rate"
            )
        if not isinstance(terms.term_unit, str) or terms.term_unit not in TERM_UNITS:
            raise InvalidInput("term_unit must be 'month' or 'day'", field="term_unit")
        longest = config.max_term_months if terms.term_unit == "month" else config.max_term_days
        term = terms.term
        if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= longest:
            raise InvalidInput(
                f"term must be a whole number of {terms.term_unit}s from 1 to {longest}",
                field="term",
            )
        if not isinstance(terms.repayment_method, str) or \
                terms.repayment_method not in self.repayment_methods:
            allowed = ", ".join(sorted(self.repayment_methods))
            raise InvalidInput(
                f"a {self.kind} listing allows repayment methods {allowed},"
                f" not {terms.repayment_method!r}",
                field="repayment_method",
            )

    def _check_cost_cap(self, cost_rate: Decimal, ctx: ListingContext) -> None:
        """The type's cost rate against the cap for a contract made on `ctx.today` (a fixed
        rate, or a multiple of the LPR when it is known)."""
        line = ctx.profile.cost_cap_on(ctx.today)
        cap = None if line is None else line.rate(ctx.one_year_lpr)
        if line is not None and cap is not None and cost_rate > cap:
            raise ComplianceViolation(
                line.rule,
                f"all-in annual cost {percent(cost_rate)} exceeds {percent(cap)}, the cap for"
                f" a contract made on {ctx.today.isoformat()} ({line.describe()})",
                field="annual_rate",
            )


# --- risk level shown to investors ----------------------------------------------------
#: How a risk-control grade raises a listing's base risk level.
GRADE_BUMP = {"A": 0, "B": 0, "C": 1, "D": 1, "E": 2, "HR": 2}


def listing_risk_level(base_risk: int, grade: str | None) -> int:
    """Risk level 1–5 from the type and security (policy) and the borrower's grade."""
    return max(1, min(5, base_risk + GRADE_BUMP.get(grade or "", 0)))


# --- registry -----------------------------------------------------------------------------
#: Every listing type's policy by kind, filled by `register` from the package's `__init__`.
_REGISTRY: dict[ListingKind, ListingPolicy] = {}


def register(policy: ListingPolicy) -> ListingPolicy:
    """Make a type's policy known to `policy_for`; each kind once."""
    kind = ListingKind(policy.kind)
    if kind in _REGISTRY and _REGISTRY[kind] is not policy:
        raise ValueError(f"listing kind {kind.value!r} is registered twice")
    _REGISTRY[kind] = policy
    return policy


def policy_for(kind: str) -> ListingPolicy:
    """The policy of a listing kind ("credit", ListingKind.TRANSFER …)."""
    try:
        return _REGISTRY[ListingKind(kind)]
    except (ValueError, KeyError):
        known = ", ".join(k.value for k in ListingKind)
        raise InvalidInput(
            f"unknown listing kind {kind!r}; known kinds: {known}", field="kind"
        ) from None


def all_policies() -> tuple[ListingPolicy, ...]:
    return tuple(_REGISTRY.values())
