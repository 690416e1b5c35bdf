"""流转标 transfer listing: an originator sells shares of a claim it holds and buys it back at
maturity. Each subscription is paid over to the originator at once and earns interest from
that day; a listing whose window ends part-sold closes at what was sold.

Two rules of the compliance profile apply: no term splitting (the listing runs for the
claim's whole remaining term, not a slice of it) and the buy-back coverage (the originator's
reserve against everything it has promised to buy back) at publication.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from biaodi.domain.listings.policy import (
    BasePolicy,
    DefaultAction,
    FundingRules,
    FundingSettings,
    Gap,
    InterestStart,
    ListingConfig,
    ListingContext,
    ListingKind,
    ListingTerms,
    RiskLabel,
    Severity,
    percent,
)
from biaodi.domain.shared.compliance import (
    BUYBACK_COVERAGE,
    NO_TERM_SPLITTING,
    ComplianceProfile,
    ComplianceViolation,
)
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

#: Coverage is shown to 0.01 %, rounded down (never more than the reserve really covers).
COVERAGE_QUANTUM = Decimal("0.0001")
NOTHING = Money(0)


@dataclass(frozen=True)
class TransferSecurity:
    """The claim being sold and the originator's buy-back position right now.

    `buyback_obligation` is the principal the originator has promised to buy back across its
    transfer listings, this one included: the whole amount of a listing not yet closed (all
    of it may sell), the outstanding principal of one being serviced. `term_start` is the day
    this listing's term counts from (its publication day; before that, the day it is read).
    """

    originator_id: int
    claim_principal: Money
    claim_rate: Decimal
    claim_maturity: date
    reserve_balance: Money
    buyback_obligation: Money = NOTHING
    term_start: date | None = None
    #: reserve ÷ obligation, rounded down to 0.01 %; None when nothing is owed.
    buyback_coverage: Decimal | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "buyback_coverage",
                           coverage_of(self.reserve_balance, self.buyback_obligation))


def coverage_of(reserve: Money, obligation: Money) -> Decimal | None:
    """reserve ÷ obligation, rounded down to 0.01 %; None when nothing is owed."""
    if obligation.fen <= 0:
        return None
    return (Decimal(reserve.fen) / obligation.fen).quantize(COVERAGE_QUANTUM, rounding=ROUND_DOWN)


def reserve_needed(obligation: Money, coverage: Decimal) -> Money:
    """The reserve that covers `coverage` of `obligation`, rounded up to the fen."""
    return Money(int((coverage * obligation.fen).to_integral_value(rounding=ROUND_CEILING)))


def required_reserve(amount: Money, config: ListingConfig) -> Money:
    return amount.times_rate(config.buyback_reserve_ratio)


def longest_term(unit: str, start: date, claim_maturity: date) -> int:
    """The longest whole term in `unit` ("month" | "day") counted from `start` that ends on or
    before the claim's maturity: the claim's remaining term in the listing's unit."""
    if unit == "day":
        return max((claim_maturity - start).days, 0)
    months = (claim_maturity.year - start.year) * 12 + claim_maturity.month - start.month
    probe = ListingTerms(Money(1), Decimal(0), 0, "month", "bullet")
    while months > 0 and replace(probe, term=months).maturity(start) > claim_maturity:
        months -= 1
    return max(months, 0)


def splits_term(terms: ListingTerms, claim_maturity: date, start: date) -> bool:
    """期限拆分: the listing ends a whole term unit or more before the claim matures, i.e. it
    sells a slice of the claim's term (the rest to be sold again or bought back)."""
    return terms.term < longest_term(terms.term_unit, start, claim_maturity)


class TransferPolicy(BasePolicy):
    kind = ListingKind.TRANSFER
    name_zh = "流转标"
    name_en = "Transfer listing"
    security_type = TransferSecurity
    applicant_role = "originator"  # 债权出让方: the creditor selling shares of its claim
    # The originator buys the claim back at maturity, so principal returns in one sum.
    repayment_methods = frozenset({"bullet", "interest_first"})
    default_action = DefaultAction.ORIGINATOR_BUYBACK
    # Unsold shares simply stay with the originator, so partial funding is harmless here.
    default_funding = FundingSettings(partial_allowed=True)
    interest_start = InterestStart.ON_SUBSCRIPTION

    def funding_rules(self, config: ListingConfig) -> FundingRules:
        share = config.transfer_share_size
        return replace(super().funding_rules(config), min_ticket=share, step=share)

    def _validate(
        self, terms: ListingTerms, security: TransferSecurity, ctx: ListingContext
    ) -> None:
        if security.claim_principal.fen <= 0:
            raise InvalidInput("claim principal must be positive", field="claim_principal")
        rate = security.claim_rate
        if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 < rate < 1:
            raise InvalidInput("claim rate must be a Decimal fraction between 0 and 1",
                               field="claim_rate")
        if security.claim_maturity <= ctx.today:
            raise InvalidInput(f"the claim matured on {security.claim_maturity}",
                               field="claim_maturity")
        if security.reserve_balance.fen < 0:
            raise InvalidInput("reserve balance must not be negative", field="reserve_balance")
        if security.buyback_obligation.fen < 0:
            raise InvalidInput("buy-back obligation must not be negative",
                               field="buyback_obligation")
        share = ctx.config.transfer_share_size
        if terms.amount.fen % share.fen:
            raise InvalidInput(f"amount must be a whole number of {share}-yuan shares",
                               field="amount")
        if terms.amount > security.claim_principal:
            raise InvalidInput(
                f"amount {terms.amount} exceeds the claim principal {security.claim_principal}",
                field="amount")
        maturity = terms.maturity(ctx.today)
        if maturity > security.claim_maturity:
            raise InvalidInput(
                f"the listing would mature on {maturity}, after the claim matures on"
                f" {security.claim_maturity}", field="term")
        if not ctx.profile.term_splitting_allowed and splits_term(
                terms, security.claim_maturity, ctx.today):
            whole = longest_term(terms.term_unit, ctx.today, security.claim_maturity)
            raise ComplianceViolation(
                NO_TERM_SPLITTING,
                f"a {terms.term}-{terms.term_unit} listing would mature on {maturity}, before"
                f" the claim matures on {security.claim_maturity}: that splits the claim's term;"
                f" sell it for its remaining {whole} {terms.term_unit}s", field="term")

    def check_publishable(
        self, terms: ListingTerms, security: TransferSecurity, ctx: ListingContext
    ) -> None:
        """The terms and the reserve gap, then the profile's minimum buy-back coverage: the
        reserve against everything the originator would have promised once this listing is
        published (`buyback_obligation` counts its whole amount)."""
        super().check_publishable(terms, security, ctx)
        minimum = ctx.profile.min_buyback_coverage
        if minimum is None:
            return
        obligation = max(security.buyback_obligation, terms.amount)
        needed = reserve_needed(obligation, minimum)
        if security.reserve_balance < needed:
            coverage = coverage_of(security.reserve_balance, obligation) or Decimal(0)
            raise ComplianceViolation(
                BUYBACK_COVERAGE,
                f"buy-back reserve {security.reserve_balance} would cover {percent(coverage)} of"
                f" the originator's buy-back obligation {obligation} (this listing's"
                f" {terms.amount} included); at least {percent(minimum)} is required: add"
                f" {needed - security.reserve_balance} to the reserve", field="reserve_balance")

    def _gaps(
        self, terms: ListingTerms, security: TransferSecurity, ctx: ListingContext
    ) -> list[Gap]:
        needed = required_reserve(terms.amount, ctx.config)
        if security.reserve_balance >= needed:
            return []
        ratio = percent(ctx.config.buyback_reserve_ratio)
        return [Gap("reserve_balance",
                    f"buy-back reserve {security.reserve_balance} is short by"
                    f" {needed - security.reserve_balance} of the {needed} required"
                    f" ({ratio} of the amount)")]

    def risk_labels(
        self, terms: ListingTerms, security: TransferSecurity, profile: ComplianceProfile
    ) -> list[RiskLabel]:
        coverage = security.buyback_coverage
        covered_zh = covered_en = ""
        if coverage is not None:
            covered_zh = (f"；回购准备金 {security.reserve_balance.formatted()} 元，覆盖其全部"
                          f"流转标回购责任 {security.buyback_obligation.formatted()} 元的"
                          f" {percent(coverage)}")
            covered_en = (f"; its buy-back reserve of {security.reserve_balance.formatted()}"
                          f" yuan covers {percent(coverage)} of the"
                          f" {security.buyback_obligation.formatted()} yuan it has promised to"
                          " buy back across its transfer listings")
        labels = [
            RiskLabel("buyback_promise",
                      Severity.INFO if coverage is None or coverage >= 1 else Severity.WARNING,
                      f"原债权人承诺到期回购；底层债权本金 {security.claim_principal.formatted()}"
                      f" 元，年利率 {percent(security.claim_rate)}，{security.claim_maturity} 到期"
                      + covered_zh,
                      "The originator promises to buy the claim back at maturity; underlying"
                      f" claim {security.claim_principal.formatted()} yuan at"
                      f" {percent(security.claim_rate)}, maturing {security.claim_maturity}"
                      + covered_en),
            RiskLabel("interest_from_subscription", Severity.INFO,
                      "认购当日起息，资金当日划转原债权人；募集期满未售出部分由原债权人继续持有",
                      "Interest accrues from the day you subscribe, and your money goes to the"
                      " originator that day; whatever is unsold when the window ends stays with"
                      " the originator"),
        ]
        start = security.term_start
        if start is not None and splits_term(terms, security.claim_maturity, start):
            maturity = terms.maturity(start)
            labels.append(RiskLabel(
                "term_splitting", Severity.RED_FLAG,
                f"期限拆分：本标 {maturity} 到期，早于底层债权到期日 {security.claim_maturity}；"
                "到期须由原债权人回购或再次流转，存在期限错配风险",
                f"Term splitting: this listing matures on {maturity}, before the underlying"
                f" claim matures on {security.claim_maturity}; at maturity the originator must"
                " buy it back or sell it again (a maturity mismatch)"))
        return labels

    def base_risk_level(self, security: TransferSecurity) -> int:
        return 3


POLICY = TransferPolicy()
