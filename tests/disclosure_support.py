"""Helpers for analytics and disclosure tests: a risk decision on file for a borrower, written
as the risk service stores one (the books here need known grades and PDs, not a model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from biaodi.adapters.db.risk_tables import RiskApplication, RiskDecision
from biaodi.bootstrap import Platform


def decided(platform: Platform, user_id: int, *, grade: str, pd_ppm: int,
            expected_ppm: int | None, at: datetime, purpose: str = "consumption",
            income_fen: int = 2_000_000, data: dict[str, Any] | None = None,
            inputs: dict[str, Any] | None = None) -> int:
    """An approved application and decision of `user_id` at `at`; the decision's id."""
    with platform.uow() as uow:
        application = RiskApplication(
            user_id=user_id, borrower_type="natural", listing_kind="credit", listing_id=None,
            amount_fen=1_000_000, term_months=3, purpose=purpose, channel="app",
            monthly_income_fen=income_fen, id_digest=f"id-{user_id}",
            mobile_digest=f"m-{user_id}", card_digest=f"c-{user_id}",
            card_masked="6222 **** 0001", device_digest=None, data=data or {},
            submitted_at=at)
        uow.s.add(application)
        uow.s.flush()
        decision = RiskDecision(
            application_id=application.id, user_id=user_id, auto_outcome="approved",
            outcome="approved", score=600, pd_ppm=pd_ppm, grade=grade,
            expected_default_ppm=expected_ppm, rate_min_ppm=50_000, rate_max_ppm=120_000,
            limit_fen=20_000_000, limit_applied=True, risk_bump=0, model_version="test",
            challenger_pd_ppm=None, pack_name="test", pack_version="1", fired_rules=[],
            reasons=[], inputs=inputs or {}, decided_at=at)
        uow.s.add(decision)
        uow.s.flush()
        decision_id = decision.id
        uow.commit()
    return decision_id
