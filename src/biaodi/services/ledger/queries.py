"""Reading the ledger for a party: the movements of one owner's accounts, entry by entry (the
statement a user downloads)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from biaodi.adapters.db.tables import Account, JournalEntry, PostingRow
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import AccountType
from biaodi.domain.shared.money import Money


def movements(uow: UnitOfWork, owner_kind: str, owner_id: int,
              limit: int = 10_000) -> list[dict[str, Any]]:
    """Every posting to `owner_kind:owner_id`'s accounts, oldest first: the change to the
    account's balance (+ in, − out, on its normal side) and the balance right after."""
    rows = uow.s.execute(
        select(JournalEntry.id, JournalEntry.business_date, JournalEntry.created_at,
               JournalEntry.kind, JournalEntry.memo, Account.purpose, Account.type,
               PostingRow.amount, PostingRow.balance_after)
        .join(PostingRow, PostingRow.entry_id == JournalEntry.id)
        .join(Account, Account.id == PostingRow.account_id)
        .where(Account.owner_kind == owner_kind, Account.owner_id == owner_id)
        .order_by(PostingRow.id).limit(limit)).all()
    return [{"entry_id": r.id, "business_date": r.business_date, "at": r.created_at,
             "kind": r.kind, "memo": r.memo, "account": r.purpose,
             "change": Money(AccountType(r.type).balance_delta(int(r.amount))),
             "balance_after": Money(int(r.balance_after))} for r in rows]
