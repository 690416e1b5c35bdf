"""Every incentive payout: one balanced entry from the marketing account into the investor's
wallet, and the campaign's `spent_fen` moved in the same transaction.

Postings: platform:marketing_expense ↑ / platform:cash ↓ (the platform spends its own money);
custody:cash ↑ / <owner>:N:available ↑ (the money now sits in custody for the user) — the
same shape as a marketing bonus (`services/accounts/bonus.py`)."""

from __future__ import annotations

from sqlalchemy import text

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.services.ledger import posting as ledger

_SPENT = text("UPDATE incentive_campaigns SET spent_fen = spent_fen + :fen WHERE id = :id")


def pay(uow: UnitOfWork, *, user_id: int, fen: int, kind: str, memo: str,
        campaign_id: int | None, idempotency_key: str | None = None) -> int:
    """Pay `fen` from marketing to the user's available wallet; the entry's id."""
    draft = (EntryDraft(kind=kind, memo=memo[:200])
             .transfer("platform:marketing_expense", "platform:cash", fen)
             .transfer("custody:cash", wallet(OwnerKind.INVESTOR, user_id).code, fen))
    posted = ledger.post(uow, draft, idempotency_key=idempotency_key)
    if campaign_id is not None and not posted.replayed:
        uow.s.execute(_SPENT, {"fen": fen, "id": campaign_id})
    return posted.entry_id


def take_back(uow: UnitOfWork, *, user_id: int, fen: int, kind: str, memo: str,
              campaign_id: int | None, idempotency_key: str | None = None) -> int:
    """Undo `pay` for `fen`: from the user's available wallet back to marketing, the campaign's
    spending lowered by as much; the entry's id."""
    draft = (EntryDraft(kind=kind, memo=memo[:200])
             .transfer(wallet(OwnerKind.INVESTOR, user_id).code, "custody:cash", fen)
             .transfer("platform:cash", "platform:marketing_expense", fen))
    posted = ledger.post(uow, draft, idempotency_key=idempotency_key)
    if campaign_id is not None and not posted.replayed:
        uow.s.execute(_SPENT, {"fen": -fen, "id": campaign_id})
    return posted.entry_id
