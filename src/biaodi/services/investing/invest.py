"""Investing in a listing (投标): freeze the investor's money and take it from the listing's
remaining amount in one transaction; the last ticket funds the listing.

Order inside the transaction: checks → freeze (locks the investor's wallet rows) → per-investor
cap (now that concurrent investments of the same investor have committed) → the investment row
→ the hot row last: one conditional `UPDATE listings SET remaining_fen = remaining_fen - :x
WHERE … remaining_fen >= :x RETURNING remaining_fen`. No row back means the listing is full
and everything rolls back.

A type whose subscriptions settle at once (流转标) freezes nothing: checks → the hot row →
per-investor cap → the investment row → the holding and one entry paying the originator.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, text

from biaodi.adapters.db.tables import Investment, Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import check_suitable
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.listings import policy_for
from biaodi.domain.listings.policy import listing_risk_level
from biaodi.domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import roles_of
from biaodi.services.investing import suitability
from biaodi.services.investing.funding import complete_funding, settle_subscription
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger

#: Statuses after funding: a late investor is told the listing is full, not closed.
FILLED = ("funded", "repaying", "overdue", "settled", "defaulted", "recovered", "written_off")

_TAKE = text(
    "UPDATE listings SET remaining_fen = remaining_fen - :amount "
    "WHERE id = :id AND status = 'published' AND remaining_fen >= :amount "
    "RETURNING remaining_fen"
)


@dataclass(frozen=True)
class Invest:
    listing_id: int
    investor_id: int
    amount: Money
    source: str = "manual"


@dataclass(frozen=True)
class Invested:
    investment_id: int
    listing_id: int
    amount: Money
    remaining: Money
    listing_status: str
    status: str = "frozen"  # the investment's: frozen until funding, or settled at once


class ListingFull(Conflict):
    code = "listing_full"


class ListingClosed(Conflict):
    code = "listing_closed"


def investor_cap(listing: Listing, rules: InvestingRules) -> Money:
    funding = policy_for(listing.kind).funding_rules(rules.listing.config)
    share = Money(listing.amount_fen).times_rate(rules.per_investor_share).fen
    steps = (share // funding.step.fen) * funding.step.fen
    return Money(max(steps, funding.min_ticket.fen))


def check_open(uow: UnitOfWork, listing: Listing) -> None:
    if listing.status in FILLED or (listing.status == "published" and not listing.remaining_fen):
        raise ListingFull(f"listing {listing.id} is fully funded", field="listing_id")
    if listing.status != "published":
        raise ListingClosed(f"listing {listing.id} is not open for investment ({listing.status})",
                            field="listing_id")
    if listing.funding_deadline is not None and uow.clock.today() >= listing.funding_deadline:
        raise ListingClosed(f"listing {listing.id}'s funding window ended on "
                            f"{listing.funding_deadline}", field="listing_id")


def invest(uow: UnitOfWork, cmd: Invest, rules: InvestingRules) -> Invested:
    listing = uow.s.get(Listing, cmd.listing_id)
    if listing is None:
        raise NotFound(f"no listing {cmd.listing_id}", field="listing_id")
    check_open(uow, listing)
    if "investor" not in roles_of(uow, cmd.investor_id):
        raise Forbidden("investing needs the investor role", code="role_required")
    if listing.applicant_id == cmd.investor_id:
        raise Conflict("you cannot invest in your own listing (self-financing, 自融, is banned)",
                       code="self_investment", field="listing_id")
    assessment = suitability.latest(uow, cmd.investor_id)
    check_suitable(
        suitability.level_of(assessment), assessment.valid_until if assessment else None,
        uow.clock.today(), listing_risk_level(listing.risk_level, listing.grade), cmd.amount,
        suitability.outstanding(uow, cmd.investor_id), rules.level_limits,
    )
    funding = policy_for(listing.kind).funding_rules(rules.listing.config)
    funding.check_ticket(cmd.amount, Money(listing.remaining_fen))
    if funding.settles_on_subscription:
        return _subscribe(uow, listing, cmd, rules)

    ledger.post(uow, EntryDraft("investment_freeze", memo=f"listing {listing.id}").transfer(
        wallet(OwnerKind.INVESTOR, cmd.investor_id).code,
        wallet(OwnerKind.INVESTOR, cmd.investor_id, "frozen").code, cmd.amount.fen))
    _check_cap(uow, listing, cmd, rules)
    investment = _record(uow, listing, cmd, "frozen")
    remaining = _take(uow, listing, cmd)
    if remaining == 0:
        complete_funding(uow, listing, rules)
    return Invested(investment.id, listing.id, cmd.amount, Money(remaining), listing.status)


def _subscribe(uow: UnitOfWork, listing: Listing, cmd: Invest,
               rules: InvestingRules) -> Invested:
    """A subscription that settles at once (流转标): nothing is frozen. The hot row first — it
    queues concurrent subscriptions to the listing, so the per-investor cap sees the ones
    before — then the cap, the investment, and `settle_subscription` (the holding, its
    schedule from today, one entry paying the originator). The last share closes the listing.
    """
    remaining = _take(uow, listing, cmd)
    _check_cap(uow, listing, cmd, rules)
    investment = _record(uow, listing, cmd, "settled")
    settle_subscription(uow, listing, investment, rules)
    if remaining == 0:
        complete_funding(uow, listing, rules)
    return Invested(investment.id, listing.id, cmd.amount, Money(remaining), listing.status,
                    status="settled")


def _check_cap(uow: UnitOfWork, listing: Listing, cmd: Invest, rules: InvestingRules) -> None:
    cap = investor_cap(listing, rules)
    already = uow.s.execute(select(func.coalesce(func.sum(Investment.amount_fen), 0)).where(
        Investment.listing_id == listing.id, Investment.investor_id == cmd.investor_id,
        Investment.status.in_(("frozen", "settled")))).scalar()
    if int(already or 0) + cmd.amount.fen > cap.fen:
        raise InvalidInput(
            f"one investor may take at most {cap} yuan of this listing "
            f"({Decimal(100) * rules.per_investor_share:.0f} %); you have {Money(int(already))}",
            field="amount", code="investor_cap_exceeded")


def _record(uow: UnitOfWork, listing: Listing, cmd: Invest, status: str) -> Investment:
    investment = Investment(listing_id=listing.id, investor_id=cmd.investor_id,
                            amount_fen=cmd.amount.fen, status=status, source=cmd.source,
                            subscribed_on=uow.clock.today(), created_at=uow.clock.now())
    uow.s.add(investment)
    uow.s.flush()
    return investment


def _take(uow: UnitOfWork, listing: Listing, cmd: Invest) -> int:
    """The hot row: what is left of the listing after this amount; ListingFull if less is."""
    remaining = uow.s.execute(_TAKE, {"amount": cmd.amount.fen, "id": listing.id}).scalar()
    if remaining is None:
        raise ListingFull(f"listing {listing.id} has less than {cmd.amount} yuan left",
                          field="amount")
    uow.s.refresh(listing)
    return int(remaining)
