"""Buying all or part of a sale (承接债权), settled in one transaction.

Order inside the transaction: checks → the hot row first: one conditional `UPDATE
secondary_sales SET remaining_fen = remaining_fen - :p WHERE … remaining_fen >= :p`, which
serialises buyers of one sale (no oversell on either database) → then, in the order close of
business takes them, the seller's servicing position, its holding and the loan → the split of
the seller's future shares → the buyer's holding, shares and servicing position → one journal
entry: the buyer pays the price; the seller receives it less the transfer fee (platform
income); the principal claim moves from the seller's holding to the buyer's. Interest accrued
to the sale date is the seller's (inside the price); the buyer receives the whole next
instalment share. Any refusal rolls everything back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, text

from biaodi.adapters.db.secondary_tables import SecondaryPurchase, SecondarySale
from biaodi.adapters.db.servicing_tables import ServicingPosition
from biaodi.adapters.db.tables import Holding, HoldingInstalment, Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import check_suitable
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, claim_account, wallet
from biaodi.domain.listings.policy import listing_risk_level
from biaodi.domain.secondary.valuation import check_yield
from biaodi.domain.shared.errors import Conflict, Forbidden, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import roles_of
from biaodi.services.investing import suitability
from biaodi.services.investing.funding import holding_account
from biaodi.services.ledger import posting as ledger
from biaodi.services.secondary.pricing import (
    PartQuote,
    check_part,
    check_tradable,
    ppm_of,
    quote_sale,
)
from biaodi.services.secondary.rules import SecondaryRules
from biaodi.services.secondary.sales import min_ticket
from biaodi.services.servicing import loan as loans
from biaodi.services.shared.sqlkit import tune


class SaleSoldOut(Conflict):
    code = "sale_sold_out"


@dataclass(frozen=True)
class Buy:
    sale_id: int
    buyer_id: int
    principal: Money | None = None  # None: all that remains of the sale
    max_price: Money | None = None  # refuse if the day's price is above this


@dataclass(frozen=True)
class Bought:
    purchase_id: int
    sale_id: int
    holding_id: int  # the buyer's new holding
    quote: PartQuote
    sale_remaining: Money
    sale_status: str


_TAKE = text(
    "UPDATE secondary_sales SET remaining_fen = remaining_fen - :p, "
    "status = CASE WHEN remaining_fen = :p THEN 'sold' ELSE status END, "
    "closed_at = CASE WHEN remaining_fen = :p THEN :now ELSE closed_at END "
    "WHERE id = :id AND status = 'open' AND remaining_fen >= :p RETURNING remaining_fen"
)


def _open_sale(uow: UnitOfWork, cmd: Buy) -> SecondarySale:
    sale = uow.s.get(SecondarySale, cmd.sale_id)
    if sale is None:
        raise NotFound(f"no sale {cmd.sale_id}", field="sale_id")
    if sale.status == "sold" or (sale.status == "open" and not sale.remaining_fen):
        raise SaleSoldOut(f"sale {sale.id} is sold out", field="sale_id")
    if sale.status != "open":
        raise Conflict(f"sale {sale.id} was cancelled ({sale.cancel_reason})",
                       code="sale_closed", field="sale_id")
    if sale.seller_id == cmd.buyer_id:
        raise Conflict("you cannot buy your own sale", code="own_sale", field="sale_id")
    return sale


def _check_buyer(uow: UnitOfWork, cmd: Buy, listing: Listing, principal: int,
                 rules: SecondaryRules) -> None:
    if listing.applicant_id == cmd.buyer_id:
        raise Conflict("you cannot buy claims on your own loan", code="self_investment",
                       field="sale_id")
    assessment = suitability.latest(uow, cmd.buyer_id)
    check_suitable(
        suitability.level_of(assessment), assessment.valid_until if assessment else None,
        uow.clock.today(), listing_risk_level(listing.risk_level, listing.grade),
        Money(principal), suitability.outstanding(uow, cmd.buyer_id),
        rules.investing.level_limits)


def _principal(cmd: Buy, sale: SecondarySale, smallest: int) -> int:
    remaining = sale.remaining_fen
    principal = remaining if cmd.principal is None else cmd.principal.fen
    check_part(principal, remaining, smallest,
               limit=f"the {Money(remaining)} left in sale {sale.id}", verb="buy", rest="leave")
    return principal


def buy(uow: UnitOfWork, cmd: Buy, rules: SecondaryRules) -> Bought:
    tune(uow)  # a servicing transaction: never interleaved with a close-of-business chunk
    today = uow.clock.today()
    # who may buy at all comes first: a caller without the role learns nothing of the sale
    if "investor" not in roles_of(uow, cmd.buyer_id):
        raise Forbidden("buying holdings needs the investor role", code="role_required")
    sale = _open_sale(uow, cmd)
    listing = uow.s.get(Listing, sale.listing_id)
    assert listing is not None
    principal = _principal(cmd, sale, min_ticket(listing, rules))
    _check_buyer(uow, cmd, listing, principal, rules)

    remaining = uow.s.execute(_TAKE, {"p": principal, "id": sale.id,
                                      "now": uow.clock.now()}).scalar()
    if remaining is None:
        raise SaleSoldOut(f"sale {sale.id} has less than {Money(principal)} left",
                          field="principal")
    uow.s.refresh(sale)

    seller_position = uow.s.execute(select(ServicingPosition).where(
        ServicingPosition.holding_id == sale.holding_id).with_for_update()).scalar_one()
    seller = uow.s.execute(select(Holding).where(Holding.id == sale.holding_id)
                           .with_for_update()).scalar_one()
    loan = loans.state(uow, listing.id, lock=True)
    check_tradable(loan, today)
    if seller.status != "active" or seller.outstanding_principal_fen < principal:
        raise Conflict(f"the seller's holding {seller.id} no longer covers this sale",
                       code="sale_closed", field="sale_id")
    quote = quote_sale(uow, sale, seller, loan, principal, today, rules.sale)
    check_yield(quote.yield_rate)
    if cmd.max_price is not None and quote.price > cmd.max_price.fen:
        raise Conflict(f"today's price is {Money(quote.price)}, above your limit of "
                       f"{cmd.max_price}", code="price_above_limit", field="max_price")

    mine = _transfer_shares(uow, cmd.buyer_id, seller, seller_position, quote)
    entry = _settle(uow, sale, seller, mine, quote, cmd.buyer_id)
    purchase = SecondaryPurchase(
        sale_id=sale.id, listing_id=listing.id, buyer_id=cmd.buyer_id,
        seller_holding_id=seller.id, buyer_holding_id=mine.id, business_date=today,
        principal_fen=principal, accrued_interest_fen=quote.accrued_interest,
        fair_value_fen=quote.fair_value, price_fen=quote.price, fee_fen=quote.fee,
        yield_ppm=ppm_of(quote.yield_rate), entry_id=entry, created_at=uow.clock.now())
    uow.s.add(purchase)
    uow.s.flush()
    return Bought(purchase.id, sale.id, mine.id, quote, Money(int(remaining)), sale.status)


def _transfer_shares(uow: UnitOfWork, buyer_id: int, seller: Holding,
                     seller_position: ServicingPosition, quote: PartQuote) -> Holding:
    """The buyer's holding with its exact future shares; the seller's shrinks by them."""
    today, now = uow.clock.today(), uow.clock.now()
    mine = Holding(listing_id=seller.listing_id, investor_id=buyer_id, investment_id=None,
                   principal_fen=quote.principal, outstanding_principal_fen=quote.principal,
                   interest_start=today, status="active", created_at=now)
    uow.s.add(mine)
    uow.s.flush()
    uow.s.execute(insert(HoldingInstalment), [
        {"holding_id": mine.id, "seq": s.seq, "due_date": s.due_date,
         "principal_fen": s.principal, "interest_fen": s.interest, "status": "scheduled"}
        for s in quote.take])
    kept = {s.seq: s for s in quote.keep}
    rows = loans.holding_rows(uow, [seller.id], [s.seq for s in quote.take])
    for share in quote.take:
        row = rows[(seller.id, share.seq)]
        left = kept.get(share.seq)
        row.principal_fen = left.principal if left else 0
        row.interest_fen = left.interest if left else 0
    seller.outstanding_principal_fen -= quote.principal
    seller_position.outstanding_principal_fen -= quote.principal
    if seller.outstanding_principal_fen == 0:
        seller.status = "sold"
        seller_position.status = "closed"

    purse, claim = wallet(OwnerKind.INVESTOR, buyer_id), holding_account(mine.id)
    accrued = claim_account(OwnerKind.HOLDING, mine.id, "interest")
    ledger.open_accounts(uow, [purse, claim, accrued])
    ids = loans.codes_to_ids(uow, [purse.code, claim.code, accrued.code])
    uow.s.add(ServicingPosition(
        listing_id=seller.listing_id, holding_id=mine.id, creditor_kind="holding",
        creditor_id=mine.id, tier=seller_position.tier, wallet_account_id=ids[purse.code],
        principal_account_id=ids[claim.code], interest_account_id=ids[accrued.code],
        outstanding_principal_fen=quote.principal, due_principal_fen=0, due_interest_fen=0,
        penalty_fen=0, received_principal_fen=0, received_interest_fen=0,
        received_penalty_fen=0, written_off_fen=0, days_past_due=0, bucket="current",
        status="active"))
    uow.s.flush()
    return mine


def _settle(uow: UnitOfWork, sale: SecondarySale, seller: Holding, mine: Holding,
            quote: PartQuote, buyer_id: int) -> int:
    draft = EntryDraft("secondary_transfer",
                       memo=f"sale {sale.id}: listing {sale.listing_id}, holding {seller.id}"
                            f" → {mine.id}")
    draft.debit(wallet(OwnerKind.INVESTOR, buyer_id).code, quote.price)
    draft.credit(wallet(OwnerKind.INVESTOR, sale.seller_id).code, quote.proceeds)
    if quote.fee:
        draft.credit("custody:cash", quote.fee).debit("platform:cash", quote.fee)
        draft.credit("platform:fee_income", quote.fee)
    draft.debit(holding_account(mine.id).code, quote.principal)
    draft.credit(holding_account(seller.id).code, quote.principal)
    return ledger.post(uow, draft, idempotency_key=f"secondary:{sale.id}:{mine.id}").entry_id
