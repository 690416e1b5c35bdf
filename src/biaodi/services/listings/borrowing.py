"""Borrowing caps per borrower (cn-2016 art. 17), checked where listings are made: creation,
submission, approval and right before disbursement.

Only listings with a borrower count and are checked: a 流转标's applicant is an originator
selling shares of a claim it holds (backed by its buy-back reserve), not a borrower.
What counts on this platform is every listing of the borrower from submission until it is
repaid or written off (`OUTSTANDING_STATUSES`), at its full amount: submitted, approved, open
for funding, funded, repaying, overdue or defaulted. Drafts do not count until submitted.
The borrower's type (natural or legal person) and what they owe on other platforms come from
risk control through `ListingRules.borrower_standing`; with no approved risk application
(or no risk capability wired) the borrower counts as a natural person owing nothing
elsewhere.

The check and the write it guards run under one lock per borrower: the borrower's `users`
row, taken `FOR NO KEY UPDATE` on PostgreSQL (foreign-key checks, which take `FOR KEY SHARE`,
still pass), so two listings of one borrower racing through submission or approval queue one
behind the other and the second sees the first. On SQLite every writer already holds the
database's write lock from BEGIN IMMEDIATE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select

from biaodi.adapters.db.tables import Listing, User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.roles import Role
from biaodi.domain.listings import policy_for
from biaodi.domain.listings.borrowing import (
    LEGAL,
    NATURAL,
    BorrowerStanding,
    check_borrowing_caps,
)
from biaodi.domain.shared.compliance import profile_named
from biaodi.domain.shared.errors import NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.listings.security import COMMITTED

if TYPE_CHECKING:
    from biaodi.services.listings.lifecycle import ListingRules

#: Listing statuses whose amount counts as the borrower's outstanding on this platform.
OUTSTANDING_STATUSES = (*COMMITTED, "defaulted")


def outstanding_query(user_id: Any) -> Any:
    """The borrower's outstanding as a query (`user_id` a parameter or a column; the listing
    not to count is the parameter `excluded`, 0 for none)."""
    return select(func.coalesce(func.sum(Listing.amount_fen), 0)).where(
        Listing.applicant_id == user_id, Listing.status.in_(OUTSTANDING_STATUSES),
        Listing.id != bindparam("excluded"))


_OUTSTANDING = outstanding_query(bindparam("user_id"))


def has_borrower(listing: Listing) -> bool:
    """Whether the listing's applicant borrows (the borrowing caps and the risk decision apply)
    rather than originates (流转标)."""
    return policy_for(listing.kind).applicant_role == Role.BORROWER.value


def lock_borrower(uow: UnitOfWork, user_id: int) -> None:
    """Take the per-borrower lock for the rest of the transaction (see the module text)."""
    found = uow.s.execute(select(User.id).where(User.id == user_id)
                          .with_for_update(key_share=True)).first()
    if found is None:
        raise NotFound(f"no user {user_id}", field="user_id")


def platform_outstanding(uow: UnitOfWork, user_id: int, *,
                         excluding_listing: int | None = None) -> Money:
    """What the borrower owes or has asked for on this platform (full listing amounts)."""
    total = uow.s.execute(_OUTSTANDING, {"user_id": user_id,
                                         "excluded": excluding_listing or 0}).scalar()
    return Money(int(total or 0))


def standing_of(uow: UnitOfWork, user_id: int, rules: ListingRules) -> BorrowerStanding:
    """The borrower's type and borrowings elsewhere, as risk control recorded them."""
    found = rules.borrower_standing(uow, user_id) if rules.borrower_standing else None
    if not found:
        return BorrowerStanding()
    kind = LEGAL if found.get("borrower_type") == LEGAL else NATURAL
    return BorrowerStanding(borrower_type=kind,
                            other_platforms=found.get("other_platforms") or Money.zero(),
                            source=str(found.get("source") or "risk control"))


def check_caps(uow: UnitOfWork, user_id: int, amount: Money, rules: ListingRules, *,
               listing_id: int | None = None) -> None:
    """Lock the borrower, then refuse `amount` (the listing `listing_id`, not counted twice)
    if it would take them past a borrowing cap of the compliance profile."""
    lock_borrower(uow, user_id)
    check_borrowing_caps(profile_named(rules.profile_name), standing_of(uow, user_id, rules),
                         outstanding=platform_outstanding(uow, user_id,
                                                          excluding_listing=listing_id),
                         amount=amount)


def check_listing(uow: UnitOfWork, listing: Listing, rules: ListingRules, *,
                  amount: Money | None = None) -> None:
    """The caps for an existing listing (its own amount, or `amount` where it raised less).
    Listings applied for by someone other than a borrower (流转标: an originator selling
    shares of a claim it holds, backed by its buy-back reserve) are not borrowing."""
    if not has_borrower(listing):
        return
    check_caps(uow, listing.applicant_id,
               Money(listing.amount_fen) if amount is None else amount, rules,
               listing_id=listing.id)

