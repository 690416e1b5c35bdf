"""What an investor sees before confirming an investment: the amount, the interest it is
expected to earn on the listing's schedule, the listing's risk level against the investor's,
and — without moving any money — the suitability refusal the investment would meet."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import (
    MAX_LISTING_RISK,
    NAMES_ZH,
    UnsuitableInvestment,
    check_suitable,
)
from biaodi.domain.shared.money import Money, round_half_up
from biaodi.services.accounts.users import wallet_of
from biaodi.services.investing import suitability
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.listings import queries as listing_queries


def expected_interest(listing: dict[str, Any], amount: Money) -> Money:
    """This amount's share of the interest on the listing's schedule (holdings are cut from
    the loan's schedule in proportion to the amount invested)."""
    total = Money.parse(listing["schedule_totals"]["interest"], allow_zero=True, ceiling_fen=None)
    whole = Money.parse(listing["amount"], ceiling_fen=None)
    return Money(round_half_up(Decimal(total.fen) * amount.fen / whole.fen))


def investor_profile(uow: UnitOfWork, investor_id: int, rules: InvestingRules) -> dict[str, Any]:
    """The investor's suitability level (None until assessed), its limits and the money the
    investor already has at risk."""
    row = suitability.latest(uow, investor_id)
    level = suitability.level_of(row)
    outstanding = suitability.outstanding(uow, investor_id)
    if level is None or row is None:
        return {"level": None, "outstanding": outstanding}
    limits = rules.level_limits[level]
    return {"level": int(level), "label": level.label, "name_zh": NAMES_ZH[level],
            "score": row.score, "max_listing_risk": MAX_LISTING_RISK[level],
            "valid_until": row.valid_until, "expired": row.valid_until < uow.clock.today(),
            "per_investment": limits.per_investment,
            "total_outstanding": limits.total_outstanding, "outstanding": outstanding}


def quote(uow: UnitOfWork, listing_id: int, investor_id: int, amount: Money | None,
          rules: InvestingRules) -> dict[str, Any]:
    """The confirmation of investing `amount` (None: nothing entered yet) in a listing."""
    listing = listing_queries.detail(uow, listing_id, rules.listing, viewer_id=investor_id)
    profile = investor_profile(uow, investor_id, rules)
    available = wallet_of(uow, investor_id).get("investor", {}).get("available", Money(0))
    found: dict[str, Any] = {"listing": listing, "investor": profile, "amount": amount,
                             "available": available, "expected_interest": None,
                             "expected_total": None, "refusal": None}
    if amount is None:
        return found
    found["expected_interest"] = expected_interest(listing, amount)
    found["expected_total"] = amount + found["expected_interest"]
    row = suitability.latest(uow, investor_id)
    try:
        check_suitable(suitability.level_of(row), row.valid_until if row else None,
                       uow.clock.today(), int(listing["risk_level"]), amount,
                       profile["outstanding"], rules.level_limits)
    except UnsuitableInvestment as refusal:
        found["refusal"] = refusal_view(refusal, profile, amount, int(listing["risk_level"]))
    return found


def refusal_view(refusal: UnsuitableInvestment | dict[str, Any], profile: dict[str, Any],
                 amount: Money, listing_risk: int) -> dict[str, Any]:
    """A suitability refusal as a rule and the values to say it in words."""
    code = refusal["code"] if isinstance(refusal, dict) else refusal.code
    values: dict[str, Any] = {"risk": listing_risk}
    rule = {"assessment_required": "suitability.assessment_required",
            "assessment_expired": "suitability.assessment_valid",
            "risk_level_too_high": "suitability.level_match"}.get(code, "")
    if profile.get("level") is not None:
        values |= {"level": profile["level"], "max_risk": profile["max_listing_risk"],
                   "valid_until": profile["valid_until"], "outstanding": profile["outstanding"]}
        if code == "over_level_limit":
            once = profile["per_investment"]
            if once is not None and amount > once:
                code, rule, values["limit"] = ("over_level_limit_once",
                                               "suitability.per_investment_limit", once)
            else:
                code, rule, values["limit"] = ("over_level_limit_total",
                                               "suitability.total_limit",
                                               profile["total_outstanding"])
    return {"code": code, "rule": rule, "values": values}
