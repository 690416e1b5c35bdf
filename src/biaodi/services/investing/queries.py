"""Reading an investor's book: investments, holdings with their cash flows, auto-invest rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from biaodi.adapters.db.tables import (
    AutoInvestAllocation,
    AutoInvestRule,
    AutoInvestRun,
    Holding,
    HoldingInstalment,
    Investment,
    Listing,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.money import Money
from biaodi.services.shared.rates import percent_text


def investments_of(uow: UnitOfWork, investor_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The investor's latest investments, newest first."""
    rows = uow.s.scalars(select(Investment).where(Investment.investor_id == investor_id)
                         .order_by(Investment.id.desc()).limit(limit)).all()
    return [{"id": r.id, "listing_id": r.listing_id, "amount": str(Money(r.amount_fen)),
             "status": r.status, "source": r.source,
             "subscribed_on": r.subscribed_on.isoformat()} for r in rows]


def holdings_of(uow: UnitOfWork, investor_id: int) -> list[dict[str, Any]]:
    """Holdings with their exact share of every instalment (the investor's cash flows)."""
    holdings = uow.s.scalars(select(Holding).where(Holding.investor_id == investor_id)
                             .order_by(Holding.id)).all()
    shares = uow.s.scalars(select(HoldingInstalment).where(
        HoldingInstalment.holding_id.in_([h.id for h in holdings])).order_by(
        HoldingInstalment.holding_id, HoldingInstalment.seq)).all()
    by_holding: dict[int, list[dict[str, Any]]] = {}
    for s in shares:
        by_holding.setdefault(s.holding_id, []).append({
            "seq": s.seq, "due_date": s.due_date.isoformat(),
            "principal": str(Money(s.principal_fen)), "interest": str(Money(s.interest_fen)),
            "status": s.status})
    return [{
        "id": h.id, "listing_id": h.listing_id, "principal": str(Money(h.principal_fen)),
        "outstanding_principal": str(Money(h.outstanding_principal_fen)),
        "interest_start": h.interest_start.isoformat(), "status": h.status,
        "instalments": by_holding.get(h.id, [])} for h in holdings]


def auto_invest_rules_of(uow: UnitOfWork, investor_id: int) -> list[dict[str, Any]]:
    """The investor's rules (active and paused; deleted ones are gone), oldest first."""
    rules = uow.s.scalars(select(AutoInvestRule).where(
        AutoInvestRule.investor_id == investor_id, AutoInvestRule.deleted_at.is_(None))
        .order_by(AutoInvestRule.id)).all()
    return [rule_view(r) for r in rules]


def auto_invest_log_of(uow: UnitOfWork, investor_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The allocation log lines about the investor, newest first: when the engine ran on which
    listing, the queue position, the amount invested or why the listing was skipped."""
    rows = uow.s.execute(
        select(AutoInvestAllocation, AutoInvestRun.run_at, Listing.title)
        .join(AutoInvestRun, AutoInvestRun.id == AutoInvestAllocation.run_id)
        .join(Listing, Listing.id == AutoInvestAllocation.listing_id)
        .where(AutoInvestAllocation.investor_id == investor_id)
        .order_by(AutoInvestAllocation.id.desc()).limit(limit)).all()
    return [{"listing_id": a.listing_id, "title": title, "rule_id": a.rule_id,
             "position": a.position, "amount": Money(a.amount_fen), "outcome": a.outcome,
             "reason": a.reason, "investment_id": a.investment_id, "at": run_at}
            for a, run_at, title in rows]


def rule_view(rule: AutoInvestRule) -> dict[str, Any]:
    return {"id": rule.id, "kinds": rule.kinds, "best_grade": rule.best_grade,
            "worst_grade": rule.worst_grade, "min_rate": percent_text(rule.min_rate_ppm),
            "max_term_months": rule.max_term_months,
            "amount_per_listing": str(Money(rule.amount_per_listing_fen)),
            "cash_reserve": str(Money(rule.cash_reserve_fen)),
            "total_cap": str(Money(rule.total_cap_fen)) if rule.total_cap_fen else None,
            "rule_cap": str(Money(rule.rule_cap_fen)) if rule.rule_cap_fen else None,
            "draw_on_cash_wallet": rule.draw_on_cash_wallet, "active": rule.active}
