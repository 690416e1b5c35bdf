"""Marketing bonuses (红包): the platform pays its own money into an investor's wallet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from biaodi.adapters.db.tables import UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.errors import InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.idempotency import request_hash


@dataclass(frozen=True)
class GrantBonus:
    user_id: int
    amount: Money
    reason: str


def grant_bonus(
    uow: UnitOfWork, cmd: GrantBonus, *, actor_id: int, idempotency_key: str
) -> ledger.Posted:
    """Postings: marketing_expense ↑ / platform:cash ↓ (the platform spends its own money);
    custody:cash ↑ / investor:N:available ↑ (the money now sits in custody for the investor)."""
    if cmd.amount.fen <= 0:
        raise InvalidInput("amount must be positive", field="amount")
    if not cmd.reason.strip():
        raise InvalidInput("reason is required for a bonus", field="reason")
    is_investor = uow.s.execute(
        select(UserRole.user_id).where(UserRole.user_id == cmd.user_id, UserRole.role == "investor")
    ).first()
    if not is_investor:
        raise NotFound(f"user {cmd.user_id} is not an investor", field="user_id")
    investor = wallet(OwnerKind.INVESTOR, cmd.user_id).code
    draft = (
        EntryDraft(kind="marketing_bonus", memo=cmd.reason.strip()[:200])
        .transfer("platform:marketing_expense", "platform:cash", cmd.amount.fen)
        .transfer("custody:cash", investor, cmd.amount.fen)
    )
    return ledger.post(
        uow,
        draft,
        idempotency_key=f"bonus:{idempotency_key}",
        request_digest=request_hash(
            {"user_id": cmd.user_id, "amount": cmd.amount.fen, "reason": cmd.reason}
        ),
        actor_id=actor_id,
    )
