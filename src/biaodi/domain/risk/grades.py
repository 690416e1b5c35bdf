"""Grades: a score becomes a grade A … HR; a grade sets the rate band, the credit limit for
信用标 and how much it raises a listing's risk level.

The score → grade cut-offs belong to the scoring model (they are measured on its training
data, see docs/RISK.md); what each grade allows belongs to the rule pack (`GradePolicy`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

#: Limits are whole hundreds of yuan, rounded down.
LIMIT_STEP = Money.yuan(100)


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    HR = "HR"  # high risk


GRADES = tuple(Grade)


@dataclass(frozen=True)
class GradeCut:
    """A grade and the lowest score that earns it (a model's cut-off)."""

    grade: Grade
    min_score: int


def grade_for(score: int, cuts: Sequence[GradeCut]) -> Grade:
    """The best grade whose minimum the score reaches; below every minimum: HR."""
    for cut in sorted(cuts, key=lambda c: -c.min_score):
        if score >= cut.min_score:
            return cut.grade
    return Grade.HR


@dataclass(frozen=True)
class RateBand:
    """Annual rates as Decimal fractions, low ≤ high."""

    low: Decimal
    high: Decimal

    def clipped(self, cap: Decimal | None) -> RateBand | None:
        """The part of the band at or below `cap`; None when even `low` is above it."""
        if cap is None:
            return self
        if self.low > cap:
            return None
        return RateBand(self.low, min(self.high, cap))


@dataclass(frozen=True)
class GradePolicy:
    """What a grade allows, from the rule pack."""

    grade: Grade
    rate_band: RateBand
    income_multiple: int  # 信用标 limit: this many months of declared income …
    limit_cap: Money  # … but never more than this
    risk_bump: int  # added to a listing's base risk level (1–5) for suitability


def credit_limit(policy: GradePolicy, monthly_income: Money, headroom: Money | None) -> Money:
    """The 信用标 credit limit: min(income × multiple, the grade's cap, headroom under the
    borrower's platform cap), rounded down to whole hundreds of yuan, never negative."""
    limit = min(monthly_income * policy.income_multiple, policy.limit_cap)
    if headroom is not None:
        limit = min(limit, headroom)
    if limit.fen <= 0:
        return Money(0)
    return Money(limit.fen - limit.fen % LIMIT_STEP.fen)


def risk_level(base_level: int, policy: GradePolicy | None) -> int:
    """A listing's risk level 1–5: its type's base level raised by the borrower's grade."""
    bump = policy.risk_bump if policy is not None else 0
    return max(1, min(5, base_level + bump))


def parse_policies(raw: Mapping[str, Mapping[str, object]]) -> Mapping[Grade, GradePolicy]:
    """Grade policies from a rule pack's `[grades.X]` tables (rates in percent strings)."""
    missing = [g.value for g in GRADES if g.value not in raw]
    if missing:
        raise InvalidInput(f"rule pack lacks grades {', '.join(missing)}", field="grades")
    policies = {}
    for grade in GRADES:
        table = raw[grade.value]
        try:
            low = Decimal(str(table["rate_min"])) / 100
            high = Decimal(str(table["rate_max"])) / 100
            policy = GradePolicy(
                grade=grade,
                rate_band=RateBand(low, high),
                income_multiple=int(str(table["income_multiple"])),
                limit_cap=Money.parse(str(table["limit_cap"]), field="limit_cap",
                                      allow_zero=True, ceiling_fen=None),
                risk_bump=int(str(table.get("risk_bump", 0))),
            )
        except (KeyError, ArithmeticError, ValueError) as exc:
            raise InvalidInput(f"grade {grade} in the rule pack is incomplete or malformed:"
                               f" {exc}", field=f"grades.{grade}") from None
        if not 0 < low <= high < 1:
            raise InvalidInput(f"grade {grade}: need 0 < rate_min ≤ rate_max < 100",
                               field=f"grades.{grade}")
        policies[grade] = policy
    return policies
