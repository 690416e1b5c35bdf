"""The advisory model, free of I/O: grades with their rate, PD and LGD, correlated defaults by
a one-factor (Vasicek) model, and the annual loss in each state of the economy.

Given the systematic factor Z ~ N(0, 1), a grade's default rate is
PD(Z) = Φ((Φ⁻¹(PD) − √ρ · Z) / √(1 − ρ)); a well-spread holding of that grade then loses, over
a year, the principal of the loans that default (PD(Z) × LGD) less the interest the others pay
(r × (1 − PD(Z))): its annual loss, negative in a good year. The factor is cut into equally
likely states; the solver (services/advisory) bounds the 95 % CVaR of the portfolio's loss over
them (Rockafellar–Uryasev) and maximises the expected return after expected loss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

from biaodi.domain.shared.errors import InvalidInput

_N = NormalDist()

#: CSRC-style investor levels C1–C5 → the highest listing risk level (1–5) they may take.
MAX_RISK_FOR_LEVEL: Mapping[str, int] = {"C1": 1, "C2": 2, "C3": 3, "C4": 4, "C5": 5}


@dataclass(frozen=True)
class GradeInput:
    """One choice of the mix: a grade, or a grade in one listing type (`kind`)."""

    grade: str
    rate: Decimal  # the coupon, a fraction a year
    pd: Decimal  # probability of default within a year
    lgd: Decimal  # share of principal lost on default
    risk_level: int  # the listing risk level (1–5) the grade (in its type) carries
    kind: str = ""  # the listing type; "" when the mix is over grades only

    @property
    def key(self) -> str:
        return f"{self.grade}/{self.kind}" if self.kind else self.grade

    def __post_init__(self) -> None:
        for name in ("rate", "pd", "lgd"):
            value = getattr(self, name)
            if not Decimal(0) <= value <= Decimal(1):
                raise InvalidInput(f"grade {self.grade}: {name} must lie in [0, 1]", field=name)
        if not Decimal(0) < self.pd < Decimal(1):
            raise InvalidInput(f"grade {self.grade}: pd must lie strictly between 0 and 1",
                               field="pd")
        if not 1 <= self.risk_level <= 5:
            raise InvalidInput(f"grade {self.grade}: risk_level must be 1–5", field="risk_level")

    @property
    def expected_loss(self) -> float:
        return float(self.pd * self.lgd)

    @property
    def net_return(self) -> float:
        """Expected return after expected loss: the coupon on what survives, less what is lost."""
        pd, rate = float(self.pd), float(self.rate)
        return rate * (1 - pd) - pd * float(self.lgd)


@dataclass(frozen=True)
class AdvisoryTerms:
    level: str  # C1–C5
    cvar_budget: Decimal = Decimal("0.03")  # 95 % CVaR of annual loss at most this
    confidence: Decimal = Decimal("0.95")
    max_grade_share: Decimal = Decimal("0.40")
    #: The one-factor model cannot see a listing type's own risk (collateral prices falling, a
    #: guarantor failing, an originator's buy-back stopping): no type holds more than half.
    max_kind_share: Decimal = Decimal("0.50")
    #: Asset correlation of the one-factor model: the top of the Basel II range for other
    #: retail exposures (3–16 %), since online consumer credit moves with the platform's fate.
    correlation: Decimal = Decimal("0.15")
    states: int = 400

    def __post_init__(self) -> None:
        if self.level not in MAX_RISK_FOR_LEVEL:
            raise InvalidInput("level must be one of C1–C5", field="level")
        if not Decimal(0) < self.cvar_budget <= Decimal(1):
            raise InvalidInput("cvar_budget must lie in (0, 1]", field="cvar_budget")
        if not Decimal("0.5") <= self.confidence < Decimal(1):
            raise InvalidInput("confidence must lie in [0.5, 1)", field="confidence")
        if not Decimal(0) < self.max_grade_share <= Decimal(1):
            raise InvalidInput("max_grade_share must lie in (0, 1]", field="max_grade_share")
        if not Decimal(0) < self.max_kind_share <= Decimal(1):
            raise InvalidInput("max_kind_share must lie in (0, 1]", field="max_kind_share")
        if not Decimal(0) <= self.correlation < Decimal(1):
            raise InvalidInput("correlation must lie in [0, 1)", field="correlation")
        if not 50 <= self.states <= 5_000:
            raise InvalidInput("states must be from 50 to 5,000", field="states")


def factor_states(count: int) -> list[float]:
    """Equally likely values of the systematic factor: the midpoints of `count` quantiles."""
    return [_N.inv_cdf((i + 0.5) / count) for i in range(count)]


def conditional_pd(pd: float, correlation: float, z: float) -> float:
    if correlation == 0:
        return pd
    return _N.cdf((_N.inv_cdf(pd) - correlation ** 0.5 * z) / (1 - correlation) ** 0.5)


def annual_loss(grade: GradeInput, correlation: float, z: float) -> float:
    """A holding's loss over a year in state z, as a fraction of its principal."""
    p = conditional_pd(float(grade.pd), correlation, z)
    return p * float(grade.lgd) - float(grade.rate) * (1 - p)


def loss_table(grades: Sequence[GradeInput], terms: AdvisoryTerms) -> list[list[float]]:
    """loss[state][grade] over the equally likely factor states."""
    rho = float(terms.correlation)
    return [[annual_loss(g, rho, z) for g in grades] for z in factor_states(terms.states)]


def tail_loss(grade: GradeInput, terms: AdvisoryTerms) -> float:
    """The grade's own CVaR of annual loss at the terms' confidence (held alone)."""
    losses = sorted((row[0] for row in loss_table([grade], terms)), reverse=True)
    tail = max(1, round(len(losses) * (1 - float(terms.confidence))))
    return sum(losses[:tail]) / tail


def suitable(grade: GradeInput, level: str) -> bool:
    return grade.risk_level <= MAX_RISK_FOR_LEVEL[level]


def annual_pd(term_pd: float, term_months: int) -> float:
    """A default probability over a loan's term as one over a year, defaults spread evenly
    over the term: 1 − (1 − p)^(12 / term months)."""
    if not 0 <= term_pd < 1 or term_months <= 0:
        raise InvalidInput("a term PD lies in [0, 1) over a positive term", field="pd")
    return 1 - (1 - term_pd) ** (12 / term_months)


#: The worked example of issue #20 (coupon, PD, LGD, listing risk level per grade): what the
#: `--example` CLI and the tests solve. Live advice uses the risk model's grades
#: (services/advisory/market.py).
EXAMPLE_GRADES: tuple[GradeInput, ...] = tuple(
    GradeInput(g, Decimal(rate), Decimal(pd), Decimal(lgd), level)
    for g, rate, pd, lgd, level in (("A", "0.08", "0.01", "0.60", 2),
                                    ("B", "0.10", "0.025", "0.70", 3),
                                    ("C", "0.13", "0.05", "0.80", 3),
                                    ("D", "0.16", "0.09", "0.85", 4),
                                    ("E", "0.20", "0.15", "0.90", 5)))

#: The platform's four suitability levels (investing) on the C1–C5 scale, by the listing
#: risk level each may take (1, 2, 3, 5).
LEVEL_FOR_INVESTOR: Mapping[int, str] = {1: "C1", 2: "C2", 3: "C3", 4: "C5"}
