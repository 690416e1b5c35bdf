"""信用标 credit listing: unsecured, the amount capped by the borrower's credit limit."""

from __future__ import annotations

from dataclasses import dataclass

from biaodi.domain.listings.policy import (
    BasePolicy,
    DefaultAction,
    ListingContext,
    ListingKind,
    ListingTerms,
    RiskLabel,
    Severity,
)
from biaodi.domain.shared.compliance import ComplianceProfile
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

NO_MONEY = Money(0)


@dataclass(frozen=True)
class CreditSecurity:
    """The borrower's credit limit (operator-set for now, later from risk control) and how
    much of it open credit listings already use."""

    credit_limit: Money | None
    credit_used: Money = NO_MONEY

    @property
    def available(self) -> Money:
        return (self.credit_limit or Money(0)) - self.credit_used


class CreditPolicy(BasePolicy):
    kind = ListingKind.CREDIT
    name_zh = "信用标"
    name_en = "Credit listing"
    security_type = CreditSecurity
    # Nothing to dispose of or call on: collection, then the loss falls on investors.
    default_action = DefaultAction.WRITE_OFF

    def _validate(self, terms: ListingTerms, security: CreditSecurity, ctx: ListingContext) -> None:
        if security.credit_limit is None:
            raise InvalidInput(
                "a credit listing needs the borrower's credit limit, and none is set",
                field="credit_limit",
            )
        if terms.amount > security.available:
            raise InvalidInput(
                f"amount {terms.amount} exceeds the borrower's available credit"
                f" {security.available} (limit {security.credit_limit},"
                f" used {security.credit_used})",
                field="amount",
            )

    def risk_labels(
        self, terms: ListingTerms, security: CreditSecurity, profile: ComplianceProfile
    ) -> list[RiskLabel]:
        return [
            RiskLabel(
                "unsecured",
                Severity.WARNING,
                "信用标：无抵押、无担保，还款仅依赖借款人信用",
                "Unsecured: no collateral and no guarantee; repayment rests on the borrower's"
                " credit alone",
            )
        ]

    def base_risk_level(self, security: CreditSecurity) -> int:
        return 4


POLICY = CreditPolicy()
