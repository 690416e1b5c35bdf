"""An originator's buy-back reserve (流转标): money set aside to buy claims back at maturity."""

from __future__ import annotations

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.errors import InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import roles_of
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.idempotency import request_hash


def fund_buyback_reserve(
    uow: UnitOfWork, originator_id: int, amount: Money, *, idempotency_key: str
) -> ledger.Posted:
    """Postings: originator:N:available ↓ (debit), originator:N:buyback_reserve ↑ (credit)."""
    if amount.fen <= 0:
        raise InvalidInput("amount must be positive", field="amount")
    if "originator" not in roles_of(uow, originator_id):
        raise NotFound(f"user {originator_id} is not an originator", field="user_id")
    draft = EntryDraft("buyback_reserve_funded", memo="originator funds its buy-back reserve")
    draft.transfer(
        wallet(OwnerKind.ORIGINATOR, originator_id).code,
        wallet(OwnerKind.ORIGINATOR, originator_id, "buyback_reserve").code,
        amount.fen,
    )
    return ledger.post(
        uow,
        draft,
        idempotency_key=f"reserve:{originator_id}:{idempotency_key}",
        request_digest=request_hash({"amount": amount.fen}),
        actor_id=originator_id,
    )
