"""Smart advisory: a suggested mix of grades as a linear programme (scipy's linprog, HiGHS).

maximise   Σ wᵍ · (net return of g)
subject to Σ wᵍ = 1,  0 ≤ wᵍ ≤ max share,  wᵍ = 0 for grades above the investor's level,
           t + 1 / ((1 − α) · S) · Σₛ uₛ ≤ CVaR budget,  uₛ ≥ Σ wᵍ · lossₛᵍ − t,  uₛ ≥ 0
(Rockafellar–Uryasev: at the optimum t is the VaR and the left side the CVaR of the annual
loss over the S equally likely states of the one-factor model). Every grade left out gets its
reason; one click turns the mix into auto-invest rules, one per grade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from scipy.optimize import linprog

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.advisory.model import (
    DEFAULT_GRADES,
    LEVEL_FOR_INVESTOR,
    MAX_RISK_FOR_LEVEL,
    AdvisoryTerms,
    GradeInput,
    loss_table,
    suitable,
    tail_loss,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money, round_half_up
from biaodi.services.investing import auto_invest, suitability

#: Shares below this are solver noise, not advice.
TINY = 1e-6


@dataclass(frozen=True)
class Suggestion:
    weights: dict[str, float]
    expected_return: float  # after expected loss
    expected_loss: float
    cvar: float
    excluded: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"weights": {g: f"{w * 100:.2f}" for g, w in self.weights.items()},
                "expected_return_percent": f"{self.expected_return * 100:.2f}",
                "expected_loss_percent": f"{self.expected_loss * 100:.2f}",
                "cvar_percent": f"{self.cvar * 100:.2f}",
                "excluded": self.excluded}


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %"


def suggest(grades: Sequence[GradeInput], terms: AdvisoryTerms) -> Suggestion:
    """The mix that maximises the expected return after expected loss within the budget."""
    if not grades:
        raise InvalidInput("no grades to choose from", field="grades")
    if len({g.grade for g in grades}) != len(grades):
        raise InvalidInput("each grade may appear once", field="grades")
    k, states = len(grades), terms.states
    alpha, share = float(terms.confidence), float(terms.max_grade_share)
    losses = np.array(loss_table(grades, terms))  # states × grades
    net = np.array([g.net_return for g in grades])
    # variables: w (k), t (1), u (states)
    cost = np.concatenate([-net, [0.0], np.zeros(states)])
    cvar_row = np.concatenate([np.zeros(k), [1.0], np.full(states, 1 / ((1 - alpha) * states))])
    tail_rows = np.hstack([losses, -np.ones((states, 1)), -np.eye(states)])
    a_ub = np.vstack([cvar_row, tail_rows])
    b_ub = np.concatenate([[float(terms.cvar_budget)], np.zeros(states)])
    a_eq = np.concatenate([np.ones(k), [0.0], np.zeros(states)]).reshape(1, -1)
    bounds = ([(0.0, share if suitable(g, terms.level) else 0.0) for g in grades]
              + [(None, None)] + [(0.0, None)] * states)
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=bounds,
                     method="highs")
    if result.status != 0:
        raise Conflict(
            f"no mix of the grades your level {terms.level} allows keeps the {alpha:.0%} CVaR of"
            f" annual loss within {_pct(float(terms.cvar_budget))} with no grade above"
            f" {_pct(share)}: {result.message}", field="cvar_budget", code="no_feasible_mix")
    weights = {g.grade: float(w) for g, w in zip(grades, result.x[:k], strict=True) if w > TINY}
    total = sum(weights.values())
    weights = {g: w / total for g, w in weights.items()}
    chosen = [g for g in grades if g.grade in weights]
    portfolio = losses @ np.array([weights.get(g.grade, 0.0) for g in grades])
    worst = np.sort(portfolio)[::-1][:max(1, round(states * (1 - alpha)))]
    return Suggestion(
        weights=weights,
        expected_return=float(sum(weights[g.grade] * g.net_return for g in chosen)),
        expected_loss=float(sum(weights[g.grade] * g.expected_loss for g in chosen)),
        cvar=float(worst.mean()),
        excluded={g.grade: _why_out(g, grades, weights, terms) for g in grades
                  if g.grade not in weights})


def _why_out(grade: GradeInput, grades: Sequence[GradeInput], weights: dict[str, float],
             terms: AdvisoryTerms) -> str:
    if not suitable(grade, terms.level):
        return (f"risk level R{grade.risk_level} is above what level {terms.level} may take"
                f" (R{MAX_RISK_FOR_LEVEL[terms.level]} at most)")
    tail = tail_loss(grade, terms)
    better = [g for g in grades if g.grade in weights and g.net_return >= grade.net_return
              and tail_loss(g, terms) <= tail]
    eats = (f"expected loss {_pct(grade.expected_loss)} eats its {_pct(float(grade.rate))}"
            f" coupon down to {_pct(grade.net_return)}")
    if better:
        return (f"{eats}: grade {better[0].grade} earns {_pct(better[0].net_return)} with a"
                f" smaller tail loss")
    return (f"{eats}, and in the worst {1 - float(terms.confidence):.0%} of years it loses"
            f" {_pct(tail)}: more of the {_pct(float(terms.cvar_budget))} loss budget than its"
            f" return is worth against the grades chosen")


# --- one click: auto-invest rules -----------------------------------------------------------
def adopt(uow: UnitOfWork, investor_id: int, suggestion: Suggestion, budget: Money,
          per_listing: Money) -> list[int]:
    """Turn a suggestion into auto-invest rules: one per grade, capped at its share of the
    budget, at most `per_listing` in any one listing. The rule ids."""
    if budget.fen <= 0:
        raise InvalidInput("budget must be positive", field="budget")
    if per_listing.fen <= 0 or per_listing.fen > budget.fen:
        raise InvalidInput("per_listing must be positive and within the budget",
                           field="per_listing")
    ids = []
    for grade, weight in sorted(suggestion.weights.items()):
        cap = Money(round_half_up(Decimal(budget.fen) * Decimal(str(weight))))
        if cap.fen <= 0:
            continue
        rule = auto_invest.save_rule(uow, investor_id, auto_invest.RuleInput(
            amount_per_listing=Money(min(per_listing.fen, cap.fen)), best_grade=grade,
            worst_grade=grade, total_cap=cap))
        ids.append(rule.id)
    if not ids:
        raise InvalidInput("the budget is too small to give any grade of the mix a fen",
                           field="budget")
    return ids


def investor_level(uow: UnitOfWork, investor_id: int) -> str:
    """The investor's suitability level on the C1–C5 scale; an assessment is required."""
    level = suitability.level_of(suitability.latest(uow, investor_id))
    if level is None:
        raise Conflict("take the risk assessment first: advice follows your suitability level",
                       field="investor_id", code="assessment_required")
    return LEVEL_FOR_INVESTOR[int(level)]


def advise(uow: UnitOfWork, investor_id: int, *, cvar_budget: Decimal = Decimal("0.03"),
           grades: Sequence[GradeInput] = DEFAULT_GRADES) -> tuple[str, Suggestion]:
    """The investor's level and the mix suggested for it."""
    level = investor_level(uow, investor_id)
    return level, suggest(grades, AdvisoryTerms(level, cvar_budget=cvar_budget))
