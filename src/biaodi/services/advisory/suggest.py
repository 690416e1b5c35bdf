"""Smart advisory: a suggested mix as a linear programme (scipy's linprog, HiGHS).

The choices are grades, or (grade, listing type) pairs, and cash left uninvested in the wallet.

maximise   Σ wᵢ · (net return of i)                      (cash: none)
subject to Σ wᵢ + cash = 1,  0 ≤ cash ≤ 1,  0 ≤ wᵢ,  wᵢ = 0 above the investor's level,
           Σ wᵢ over a grade ≤ grade share,  Σ wᵢ over a type ≤ type share,
           t + 1 / ((1 − α) · S) · Σₛ uₛ ≤ CVaR budget,  uₛ ≥ Σ wᵢ · lossₛⁱ − t,  uₛ ≥ 0
(Rockafellar–Uryasev: at the optimum t is the VaR and the left side the CVaR of the annual
loss over the S equally likely states of the one-factor model). Cash loses nothing, so a mix
always exists: what no choice can hold within the budget and the caps stays in cash. Every
choice left out gets its reason; one click turns the mix into auto-invest rules.
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
    LEVEL_FOR_INVESTOR,
    MAX_RISK_FOR_LEVEL,
    AdvisoryTerms,
    GradeInput,
    loss_table,
    suitable,
    tail_loss,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.advisory import market
from biaodi.services.investing import auto_invest, suitability

#: Shares below this are solver noise, not advice.
TINY = 1e-6
#: The one-factor model treats each choice as a well-spread holding: one click asks for at
#: least this many listings' worth of budget (the amount per listing at most 1/20 of it).
MIN_LISTINGS = 20


@dataclass(frozen=True)
class Suggestion:
    weights: dict[str, float]  # by choice key ("B", or "B/collateral")
    expected_return: float  # after expected loss, cash included
    expected_loss: float
    cvar: float
    reasons: dict[str, Reason] = field(default_factory=dict)  # of the choices left out
    cash: float = 0.0  # left uninvested in the wallet
    choices: dict[str, GradeInput] = field(default_factory=dict)  # the chosen, by key
    cash_why: Reason | None = None

    @property
    def excluded(self) -> dict[str, str]:
        return {key: say(reason) for key, reason in self.reasons.items()}

    @property
    def cash_reason(self) -> str:
        return say(self.cash_why) if self.cash_why else ""

    def as_dict(self) -> dict[str, Any]:
        mix = [{"key": key, "grade": self.choices[key].grade, "kind": self.choices[key].kind,
                "share_percent": f"{w * 100:.2f}",
                "net_return_percent": f"{self.choices[key].net_return * 100:.2f}",
                "risk_level": self.choices[key].risk_level}
               for key, w in self.weights.items()]
        return {"weights": {g: f"{w * 100:.2f}" for g, w in self.weights.items()},
                "mix": mix,
                "cash_percent": f"{self.cash * 100:.2f}",
                "cash_reason": self.cash_reason,
                "expected_return_percent": f"{self.expected_return * 100:.2f}",
                "expected_loss_percent": f"{self.expected_loss * 100:.2f}",
                "cvar_percent": f"{self.cvar * 100:.2f}",
                "excluded": self.excluded,
                "reasons": {key: {"code": code, **values}
                            for key, (code, values) in self.reasons.items()},
                "cash_why": ({"code": self.cash_why[0], **self.cash_why[1]}
                             if self.cash_why else None)}


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %"


def _group_rows(values: list[str], k: int, width: int) -> tuple[list[np.ndarray], list[str]]:
    rows, names = [], []
    for name in dict.fromkeys(values):
        row = np.zeros(width)
        row[:k] = [1.0 if v == name else 0.0 for v in values]
        rows.append(row)
        names.append(name)
    return rows, names


def suggest(grades: Sequence[GradeInput], terms: AdvisoryTerms) -> Suggestion:
    """The mix that maximises the expected return after expected loss within the budget."""
    if not grades:
        raise InvalidInput("no grades to choose from", field="grades")
    if len({g.key for g in grades}) != len(grades):
        raise InvalidInput("each grade (in each listing type) may appear once", field="grades")
    k, states = len(grades), terms.states
    alpha, share = float(terms.confidence), float(terms.max_grade_share)
    width = k + 2 + states  # w (k), cash, t, u (states)
    losses = np.array(loss_table(grades, terms))  # states × choices
    net = np.array([g.net_return for g in grades])
    cost = np.concatenate([-net, [0.0, 0.0], np.zeros(states)])
    cvar_row = np.concatenate([np.zeros(k + 1), [1.0],
                               np.full(states, 1 / ((1 - alpha) * states))])
    tail_rows = np.hstack([losses, np.zeros((states, 1)), -np.ones((states, 1)), -np.eye(states)])
    grade_rows, _ = _group_rows([g.grade for g in grades], k, width)
    caps = [share] * len(grade_rows)
    kinds = [g.kind for g in grades]
    if any(kinds):
        kind_rows, _ = _group_rows(kinds, k, width)
        grade_rows += kind_rows
        caps += [float(terms.max_kind_share)] * len(kind_rows)
    a_ub = np.vstack([cvar_row, tail_rows, *grade_rows])
    b_ub = np.concatenate([[float(terms.cvar_budget)], np.zeros(states), caps])
    a_eq = np.concatenate([np.ones(k + 1), [0.0], np.zeros(states)]).reshape(1, -1)
    bounds = ([(0.0, share if suitable(g, terms.level) else 0.0) for g in grades]
              + [(0.0, 1.0), (None, None)] + [(0.0, None)] * states)
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=bounds,
                     method="highs")
    if result.status != 0:  # cash alone is always feasible: only a solver failure lands here
        raise Conflict(f"the advisory programme could not be solved: {result.message}",
                       field="cvar_budget", code="no_feasible_mix")
    raw = {g.key: float(w) for g, w in zip(grades, result.x[:k], strict=True) if w > TINY}
    cash = float(result.x[k]) if result.x[k] > TINY else 0.0
    total = sum(raw.values()) + cash
    weights = {key: w / total for key, w in raw.items()}
    cash /= total
    by_key = {g.key: g for g in grades}
    chosen = [by_key[key] for key in weights]
    portfolio = losses @ np.array([weights.get(g.key, 0.0) for g in grades])
    worst = np.sort(portfolio)[::-1][:max(1, round(states * (1 - alpha)))]
    return Suggestion(
        weights=weights,
        expected_return=float(sum(weights[g.key] * g.net_return for g in chosen)),
        expected_loss=float(sum(weights[g.key] * g.expected_loss for g in chosen)),
        cvar=float(worst.mean()),
        reasons={g.key: _why_out(g, grades, weights, terms) for g in grades
                  if g.key not in weights},
        cash=cash, choices={g.key: g for g in chosen},
        cash_why=_why_cash(cash, grades, terms, float(worst.mean())) if cash else None)


Reason = tuple[str, dict[str, str]]  # a code and its values, for pages to say in any language

#: The reasons in English (the API's and the CLI's words); pages say them by code.
REASONS: dict[str, str] = {
    "cash_nothing_allowed": "{cash} stays in the cash wallet, earning nothing and losing"
                            " nothing: no grade or listing type on offer is within what level"
                            " {level} may take ({max_risk} at most)",
    "cash_all_lose": "{cash} stays in the cash wallet, earning nothing and losing nothing:"
                     " every choice level {level} may take loses money on average",
    "cash_budget": "{cash} stays in the cash wallet, earning nothing and losing nothing:"
                   " investing more would take the 95 % CVaR of annual loss past the {budget}"
                   " budget",
    "cash_caps": "{cash} stays in the cash wallet, earning nothing and losing nothing: the"
                 " grades and types level {level} may take are full at {grade_cap} a grade and"
                 " {kind_cap} a listing type",
    "above_level": "risk level {risk} is above what level {level} may take ({max_risk} at"
                   " most)",
    "loses": "expected loss {el} eats its {rate} coupon down to {net}: it loses money on"
             " average",
    "better": "expected loss {el} eats its {rate} coupon down to {net}: {other} earns"
              " {other_net} with a smaller tail loss",
    "grade_full": "expected loss {el} eats its {rate} coupon down to {net}; grade {grade}"
                  " already holds {cap}, the most a grade may, spent where the whole mix"
                  " earns more",
    "kind_full": "expected loss {el} eats its {rate} coupon down to {net}; {kind} listings"
                 " already hold {cap}, the most a type may, spent where the whole mix earns"
                 " more",
    "both_full": "expected loss {el} eats its {rate} coupon down to {net}; grade {grade}"
                 " ({grade_cap} at most) and {kind} listings ({cap} at most) are both full,"
                 " spent where the whole mix earns more",
    "tail": "expected loss {el} eats its {rate} coupon down to {net}, and in the worst {worst}"
            " of years it loses {tail}: more of the {budget} loss budget than its return is"
            " worth against the choices made",
}


def say(reason: Reason) -> str:
    code, values = reason
    return REASONS[code].format(**values)


def _why_cash(cash: float, grades: Sequence[GradeInput], terms: AdvisoryTerms,
              cvar: float) -> Reason:
    """Why part of the money stays uninvested: no suitable choice, the loss budget, or the
    caps on a grade and a type."""
    allowed = [g for g in grades if suitable(g, terms.level)]
    values = {"cash": _pct(cash), "level": terms.level,
              "max_risk": f"R{MAX_RISK_FOR_LEVEL[terms.level]}",
              "budget": _pct(float(terms.cvar_budget)),
              "grade_cap": _pct(float(terms.max_grade_share)),
              "kind_cap": _pct(float(terms.max_kind_share))}
    if not allowed:
        return "cash_nothing_allowed", values
    if not any(g.net_return > 0 for g in allowed):
        return "cash_all_lose", values
    if cvar >= float(terms.cvar_budget) - 1e-6:
        return "cash_budget", values
    return "cash_caps", values


def _why_out(grade: GradeInput, grades: Sequence[GradeInput], weights: dict[str, float],
             terms: AdvisoryTerms) -> Reason:
    if not suitable(grade, terms.level):
        return "above_level", {"risk": f"R{grade.risk_level}", "level": terms.level,
                               "max_risk": f"R{MAX_RISK_FOR_LEVEL[terms.level]}"}
    eats = {"el": _pct(grade.expected_loss), "rate": _pct(float(grade.rate)),
            "net": _pct(grade.net_return)}
    if grade.net_return <= 0:
        return "loses", eats
    tail = tail_loss(grade, terms)
    better = sorted((g for g in grades if g.key in weights and g.net_return >= grade.net_return
                     and tail_loss(g, terms) <= tail),
                    key=lambda g: (g.grade != grade.grade, -g.net_return))  # its grade first
    if better:
        return "better", eats | {"other": _label(better[0]), "other_grade": better[0].grade,
                                 "other_kind": better[0].kind,
                                 "other_net": _pct(better[0].net_return)}
    grade_full = sum(w for key, w in weights.items() if key.split("/")[0] == grade.grade
                     ) >= float(terms.max_grade_share) - TINY
    kind_full = bool(grade.kind) and sum(
        w for key, w in weights.items() if key.endswith(f"/{grade.kind}")
    ) >= float(terms.max_kind_share) - TINY
    caps = {"grade": grade.grade, "grade_cap": _pct(float(terms.max_grade_share)),
            "kind": grade.kind, "cap": _pct(float(terms.max_kind_share))}
    if grade_full and kind_full:
        return "both_full", eats | caps
    if grade_full:
        return "grade_full", eats | {"grade": grade.grade, "cap": caps["grade_cap"]}
    if kind_full:
        return "kind_full", eats | {"kind": grade.kind, "cap": caps["cap"]}
    return "tail", eats | {"worst": f"{1 - float(terms.confidence):.0%}", "tail": _pct(tail),
                           "budget": _pct(float(terms.cvar_budget))}


def _label(g: GradeInput) -> str:
    return f"grade {g.grade}" + (f" {g.kind}" if g.kind else "")


# --- one click: auto-invest rules -----------------------------------------------------------
def adopt(uow: UnitOfWork, investor_id: int, suggestion: Suggestion, budget: Money,
          per_listing: Money) -> list[int]:
    """Turn a suggestion into auto-invest rules, one per choice of the mix (its grade, and its
    listing type when it has one). Each rule's `rule_cap` holds its share of the budget
    (rounded down to the fen): the rule keeps at most that invested, whatever the others do.
    The tickets follow the shares too: the largest share invests `per_listing` in a listing,
    the others in proportion to their share. The rule ids."""
    if budget.fen <= 0:
        raise InvalidInput("budget must be positive", field="budget")
    if per_listing.fen <= 0 or per_listing.fen * MIN_LISTINGS > budget.fen:
        raise InvalidInput(
            f"per_listing must be positive and at most 1/{MIN_LISTINGS} of the budget"
            f" ({Money(budget.fen // MIN_LISTINGS)}): the advice assumes a holding spread over"
            f" at least {MIN_LISTINGS} listings", field="per_listing", code="per_listing_cap")
    if not suggestion.weights:
        raise Conflict("the advice keeps everything in the cash wallet: there is nothing to"
                       " invest", field="budget", code="nothing_to_invest")
    top = max(suggestion.weights.values())
    ids = []
    for key, weight in sorted(suggestion.weights.items()):
        choice = suggestion.choices.get(key)
        grade = choice.grade if choice else key
        kinds = (choice.kind,) if choice and choice.kind else ()
        # the share to four places (the solver's noise below that), then down to the fen
        ticket = Money(int(Decimal(per_listing.fen) * Decimal(f"{weight / top:.4f}")))
        # its share of the budget (to nine places: the solver's noise below), down to the fen
        cap = Money(int(Decimal(budget.fen) * Decimal(f"{weight:.9f}")))
        if ticket.fen <= 0 or cap.fen <= 0:
            continue
        rule = auto_invest.save_rule(uow, investor_id, auto_invest.RuleInput(
            amount_per_listing=ticket, kinds=kinds, best_grade=grade, worst_grade=grade,
            rule_cap=cap))
        ids.append(rule.id)
    return ids


def investor_level(uow: UnitOfWork, investor_id: int) -> str:
    """The investor's suitability level on the C1–C5 scale; an assessment is required."""
    level = suitability.level_of(suitability.latest(uow, investor_id))
    if level is None:
        raise Conflict("take the risk assessment first: advice follows your suitability level",
                       field="investor_id", code="assessment_required")
    return LEVEL_FOR_INVESTOR[int(level)]


def advise(uow: UnitOfWork, investor_id: int, *, cvar_budget: Decimal = Decimal("0.03"),
           grades: Sequence[GradeInput] | None = None, settings: Any = None
           ) -> tuple[str, Suggestion]:
    """The investor's level and the mix suggested for it, over `grades` or else the choices
    of the platform's rule pack and risk model (`settings`; the shipped ones without)."""
    level = investor_level(uow, investor_id)
    choices = grades if grades is not None else (
        market.options_for(settings) if settings is not None else market.options("cn-2016"))
    return level, suggest(choices, AdvisoryTerms(level, cvar_budget=cvar_budget))
