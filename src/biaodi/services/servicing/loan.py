"""Per-loan helpers for the rare events (defaults, early repayments, disposals): fresh state,
schedule revisions with an audit record, interest recognition, lifecycle walks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from biaodi.adapters.db.servicing_tables import LoanServicing, ScheduleRevision, ServicingPosition
from biaodi.adapters.db.tables import Account, HoldingInstalment, Listing, LoanInstalment
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import EntryDraft
from biaodi.domain.listings.lifecycle import ListingStatus, allowed_targets
from biaodi.domain.servicing.allocation import AllocationOrder, Component
from biaodi.domain.shared.errors import NotFound
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings import lifecycle as listings
from biaodi.services.shared import audit


def note(uow: UnitOfWork, loan: LoanServicing, what: str, **changes: object) -> None:
    """The audit event of a change to one loan's servicing state (filed under the loan and
    its listing: the loan id is the listing id)."""
    audit.note(uow, f"loan.{what}", subjects=[("loan", loan.listing_id),
                                                ("listing", loan.listing_id)],
               changes={"status": loan.status, "default_stage": loan.default_stage, **changes})


def state(uow: UnitOfWork, listing_id: int, *, lock: bool = False) -> LoanServicing:
    uow.s.flush()
    query = select(LoanServicing).where(LoanServicing.listing_id == listing_id) \
        .execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    loan = uow.s.execute(query).scalar_one_or_none()
    if loan is None:
        raise NotFound(f"listing {listing_id} is not a loan in servicing", field="listing_id")
    return loan


def positions(uow: UnitOfWork, listing_id: int, *, tier: int | None = None
              ) -> list[ServicingPosition]:
    uow.s.flush()
    query = select(ServicingPosition).where(ServicingPosition.listing_id == listing_id) \
        .order_by(ServicingPosition.id).execution_options(populate_existing=True)
    if tier is not None:
        query = query.where(ServicingPosition.tier == tier)
    return list(uow.s.scalars(query))


def order_of(loan: LoanServicing) -> AllocationOrder:
    ranks = {Component.PENALTY: loan.order_penalty, Component.INTEREST: loan.order_interest,
             Component.PRINCIPAL: loan.order_principal}
    return AllocationOrder(tuple(sorted(ranks, key=lambda c: ranks[c])))


def codes(uow: UnitOfWork, account_ids: Sequence[int]) -> dict[int, str]:
    return dict(uow.s.execute(select(Account.id, Account.code)
                              .where(Account.id.in_(set(account_ids)))).all())


def remaining(uow: UnitOfWork, loan: LoanServicing) -> list[LoanInstalment]:
    """The loan's instalments not yet due (from its next instalment on), in order."""
    if loan.next_seq is None:
        return []
    uow.s.flush()
    return list(uow.s.scalars(select(LoanInstalment).where(
        LoanInstalment.listing_id == loan.listing_id, LoanInstalment.seq >= loan.next_seq,
        LoanInstalment.status == "scheduled")
        .order_by(LoanInstalment.seq).execution_options(populate_existing=True)))


def holding_rows(uow: UnitOfWork, holding_ids: Sequence[int], seqs: Sequence[int]
                 ) -> dict[tuple[int, int], HoldingInstalment]:
    found = uow.s.scalars(select(HoldingInstalment).where(
        HoldingInstalment.holding_id.in_(list(holding_ids)),
        HoldingInstalment.seq.in_(list(seqs))).execution_options(populate_existing=True))
    return {(row.holding_id, row.seq): row for row in found}


def _snapshot(rows: Sequence[LoanInstalment]) -> list[dict[str, Any]]:
    return [{"seq": r.seq, "due_date": r.due_date.isoformat(), "principal": r.principal_fen,
             "interest": r.interest_fen, "status": r.status} for r in rows]


def revise(uow: UnitOfWork, listing_id: int, day: date, reason: str,
           rows: Sequence[LoanInstalment], change: Any) -> None:
    """Apply `change()` to the loan's instalment rows, recording them before and after."""
    before = _snapshot(rows)
    change()
    uow.s.add(ScheduleRevision(listing_id=listing_id, business_date=day, reason=reason,
                               before=before, after=_snapshot(rows), created_at=uow.clock.now()))
    uow.s.flush()


def recognise_interest(uow: UnitOfWork, loan: LoanServicing, shares: dict[int, int],
                       key: str) -> None:
    """Interest that fell due outside the schedule (acceleration, a prepayment's accrued
    interest) becomes a claim: debit each `holding:H:interest`, credit the loan's payable."""
    shares = {pid: fen for pid, fen in shares.items() if fen}
    if not shares:
        return
    by_id = {p.id: p for p in positions(uow, loan.listing_id)}
    names = codes(uow, [loan.interest_account_id] +
                  [by_id[pid].interest_account_id for pid in shares])
    draft = EntryDraft("interest_due", memo=f"listing {loan.listing_id} {key}")
    for pid, fen in shares.items():
        draft.debit(names[by_id[pid].interest_account_id], fen)
    draft.credit(names[loan.interest_account_id], sum(shares.values()))
    ledger.post(uow, draft, idempotency_key=f"interest_due:{loan.listing_id}:{key}")


def walk(uow: UnitOfWork, listing_id: int, path: Sequence[ListingStatus], reason: str) -> None:
    """Move a listing along `path`, skipping steps it has already passed or cannot take."""
    listing = uow.s.get(Listing, listing_id)
    assert listing is not None
    for target in path:
        uow.s.refresh(listing)
        if listing.status == target.value:
            continue
        if target in allowed_targets(listing.status):
            listings.advance(uow, listing_id, target.value, actor_id=None, reason=reason)


def codes_to_ids(uow: UnitOfWork, account_codes: Sequence[str]) -> dict[str, int]:
    found = dict(uow.s.execute(select(Account.code, Account.id)
                               .where(Account.code.in_(set(account_codes)))).all())
    missing = set(account_codes) - set(found)
    if missing:
        raise NotFound(f"no such account: {', '.join(sorted(missing))}", field="account")
    return found
