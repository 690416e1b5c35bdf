"""The tunable numbers of incentives, with their documented defaults (docs/INCENTIVES.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from biaodi.domain.incentives.coupons import DEFAULT_LEVELS, Level
from biaodi.domain.shared.money import Money


@dataclass(frozen=True)
class IncentiveRules:
    #: The referrer's reward, paid once the person referred has invested this much in all.
    referral_reward: Money = field(default_factory=lambda: Money.yuan(20))
    referral_min_invested: Money = field(default_factory=lambda: Money.yuan(1_000))
    #: A referral may be recorded only this many days after the referee signed up.
    referral_window_days: int = 30
    #: Points the referrer earns with the reward.
    referral_points: int = 10
    #: Points for each whole 100 yuan invested, and the levels they reach.
    points_per_100_yuan: int = 1
    levels: tuple[Level, ...] = DEFAULT_LEVELS
