"""The reward-crowdfunding rule pack, free of I/O. Reward crowdfunding (众筹) sells rewards for
support; it is not lending, so none of the lending rules (caps, suitability, rates) apply and
its money is kept in an escrow of its own. The numbers are the platform's own published rules
for the product, each citable by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from biaodi.domain.shared.compliance import ComplianceRule
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money, round_half_up

SOURCE = "标的奖励众筹规则（平台规则，非网络借贷业务）v1, 2026-12-01"

DURATION = ComplianceRule("crowdfunding.duration", SOURCE, "项目上线筹款期为1至60天",
                          "a project raises money for 1 to 60 days")
ALL_OR_NOTHING = ComplianceRule(
    "crowdfunding.all_or_nothing", SOURCE,
    "到期未达目标金额的项目失败，全部支持款原路退回",
    "a project that has not reached its goal by its deadline fails and every backer is refunded")
FEE_AND_RELEASE = ComplianceRule(
    "crowdfunding.fee_and_release", SOURCE,
    "项目成功后平台收取3%服务费，余款70%于3日内拨付发起人，30%待回报确认收货后拨付"
    "（发货后15日无投诉自动确认）",
    "on success the platform takes 3 %; 70 % of the rest is paid to the owner within 3 days and"
    " 30 % once the rewards are confirmed delivered (automatically 15 days after shipping"
    " without a complaint)")
RULES = (DURATION, ALL_OR_NOTHING, FEE_AND_RELEASE)


@dataclass(frozen=True)
class CrowdfundingRules:
    min_days: int = 1
    max_days: int = 60
    fee_rate: Decimal = Decimal("0.03")
    first_release_share: Decimal = Decimal("0.70")
    release_within_days: int = 3
    auto_confirm_days: int = 15
    max_tiers: int = 20

    def check_days(self, days: int) -> None:
        if not self.min_days <= days <= self.max_days:
            raise InvalidInput(f"days must be from {self.min_days} to {self.max_days}, got {days}"
                               f" (rule {DURATION.rule_id})", field="days")

    def deadline(self, live_from: date, days: int) -> date:
        """The last day a project takes support; it is settled by that day's close of business."""
        return live_from + timedelta(days=days - 1)

    def split(self, raised: Money) -> Split:
        fee = round_half_up(Decimal(raised.fen) * self.fee_rate)
        net = raised.fen - fee
        first = round_half_up(Decimal(net) * self.first_release_share)
        return Split(Money(fee), Money(first), Money(net - first))

    def auto_confirmed(self, shipped_on: date, day: date) -> bool:
        return day >= shipped_on + timedelta(days=self.auto_confirm_days)


@dataclass(frozen=True)
class Split:
    """A successful project's money: the platform's fee, the first release, the held rest."""

    fee: Money
    first_release: Money
    held: Money


def succeeded(raised: Money, goal: Money) -> bool:
    """All or nothing: a project succeeds only if it reached its goal."""
    return raised.fen >= goal.fen
