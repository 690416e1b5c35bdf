"""Investor risk assessments (风险测评)."""

from __future__ import annotations

from sqlalchemy import select

from biaodi.adapters.db.tables import RiskAssessment
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import VALIDITY, InvestorLevel, level_for, score_answers
from biaodi.domain.shared.errors import Forbidden
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import roles_of
from biaodi.services.investing import counters


def assess(uow: UnitOfWork, investor_id: int, answers: dict[str, int]) -> RiskAssessment:
    if "investor" not in roles_of(uow, investor_id):
        raise Forbidden("only investors take the risk assessment", code="role_required")
    score = score_answers(answers)
    row = RiskAssessment(investor_id=investor_id, answers=answers, score=score,
                         level=int(level_for(score)), assessed_at=uow.clock.now(),
                         valid_until=uow.clock.today() + VALIDITY)
    uow.s.add(row)
    uow.s.flush()
    return row


def latest(uow: UnitOfWork, investor_id: int) -> RiskAssessment | None:
    return uow.s.execute(select(RiskAssessment).where(
        RiskAssessment.investor_id == investor_id).order_by(RiskAssessment.id.desc()).limit(1)
    ).scalar_one_or_none()


def level_of(row: RiskAssessment | None) -> InvestorLevel | None:
    return InvestorLevel(row.level) if row else None


def outstanding(uow: UnitOfWork, investor_id: int) -> Money:
    """Money at risk: frozen subscriptions plus outstanding principal of active holdings (the
    maintained counter)."""
    return counters.exposure(uow, investor_id)
