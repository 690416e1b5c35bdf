"""Offering a holding for sale (挂牌转让) and withdrawing the offer.

A holder may offer all or part of a performing holding: not a 秒标's (its type is not
transferable), not in the first days after it was acquired, not while the loan has arrears or
on its repayment day, and one open offer per holding. The price is a premium (or discount) to
fair value within the guardrails, and the buyer's yield after expected losses may not be
negative. The quote stored with the offer is the day's; buyers pay the price of their day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, text

from biaodi.adapters.db.secondary_tables import SecondarySale
from biaodi.adapters.db.tables import Holding, Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.listings import policy_for
from biaodi.domain.secondary.valuation import check_yield
from biaodi.domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.secondary.pricing import (
    check_part,
    check_tradable,
    expected_loss,
    ppm_of,
    quote_part,
)
from biaodi.services.secondary.rules import SecondaryRules
from biaodi.services.servicing import loan as loans
from biaodi.services.servicing.onboarding import ensure_onboarded
from biaodi.services.shared import audit
from biaodi.services.shared.sqlkit import tune


@dataclass(frozen=True)
class Offer:
    holding_id: int
    seller_id: int
    premium: Decimal  # a fraction: 0.01 = 1 % above fair value, -0.02 = 2 % below
    principal: Money | None = None  # None: all the holding's outstanding principal


def owned_holding(uow: UnitOfWork, holding_id: int, investor_id: int, *,
                  lock: bool = False) -> Holding:
    query = select(Holding).where(Holding.id == holding_id)
    if lock:
        query = query.with_for_update()
    holding = uow.s.execute(query).scalar_one_or_none()
    if holding is None:
        raise NotFound(f"no holding {holding_id}", field="holding_id")
    if holding.investor_id != investor_id:
        raise Forbidden("only the holder may sell this holding", code="not_holder")
    return holding


def min_ticket(listing: Listing, rules: SecondaryRules) -> int:
    return policy_for(listing.kind).funding_rules(rules.investing.listing.config).min_ticket.fen


def offer(uow: UnitOfWork, cmd: Offer, rules: SecondaryRules) -> SecondarySale:
    if not cmd.premium.is_finite() or cmd.premium * 1_000_000 % 1:
        raise InvalidInput("premium must be a finite fraction with at most six decimals "
                           "(0.0001 %)", field="premium")
    tune(uow)  # it may take the loan into servicing
    today = uow.clock.today()
    holding = owned_holding(uow, cmd.holding_id, cmd.seller_id, lock=True)
    listing = uow.s.get(Listing, holding.listing_id)
    assert listing is not None
    policy = policy_for(listing.kind)
    if not policy.transferable:
        raise Conflict(f"{policy.name_zh} ({policy.name_en}) holdings cannot be transferred",
                       code="not_transferable", field="holding_id")
    if holding.status != "active":
        raise Conflict(f"holding {holding.id} is {holding.status}", code="holding_not_active",
                       field="holding_id")
    free_on = holding.interest_start + timedelta(days=rules.sale.holding_period_days)
    if today < free_on:
        raise Conflict(f"a holding may be offered {rules.sale.holding_period_days} days after it"
                       f" was acquired: this one from {free_on}", code="holding_period",
                       field="holding_id")
    ensure_onboarded(uow, listing.id, today, rules.servicing)
    loan = loans.state(uow, listing.id)
    check_tradable(loan, today)
    if uow.s.execute(select(SecondarySale.id).where(SecondarySale.holding_id == holding.id,
                                                     SecondarySale.status == "open")).first():
        raise Conflict(f"holding {holding.id} is already on offer: cancel that offer first",
                       code="already_offered", field="holding_id")
    outstanding = holding.outstanding_principal_fen
    principal = outstanding if cmd.principal is None else cmd.principal.fen
    check_part(principal, outstanding, min_ticket(listing, rules),
               limit=f"the holding's outstanding {Money(outstanding)}", verb="offer",
               rest="keep")
    loss = expected_loss(uow, listing)
    quote = quote_part(uow, holding, loan, principal, cmd.premium, today, rules.sale, loss)
    check_yield(quote.yield_rate)
    sale = SecondarySale(
        holding_id=holding.id, listing_id=listing.id, seller_id=cmd.seller_id,
        principal_fen=principal, remaining_fen=principal, premium_ppm=ppm_of(cmd.premium),
        status="open", listed_on=today, fair_value_fen=quote.fair_value,
        asking_price_fen=quote.price, yield_ppm=ppm_of(quote.yield_rate),
        expected_loss_ppm=ppm_of(loss), created_at=uow.clock.now())
    uow.s.add(sale)
    uow.s.flush()
    audit.note(uow, "secondary.offer", subjects=[
        ("sale", sale.id), ("listing", listing.id), ("loan", listing.id),
        ("user", cmd.seller_id)], changes={
        "holding_id": holding.id, "principal_fen": principal, "premium_ppm": sale.premium_ppm,
        "asking_price_fen": quote.price, "status": "open"})
    return sale


_CANCEL = text("UPDATE secondary_sales SET status = 'cancelled', cancel_reason = :reason, "
               "closed_at = :now WHERE id = :id AND status = 'open'")


def cancel(uow: UnitOfWork, sale_id: int, seller_id: int) -> SecondarySale:
    """The seller withdraws what buyers have not taken (their purchases stand)."""
    sale = uow.s.get(SecondarySale, sale_id)
    if sale is None:
        raise NotFound(f"no sale {sale_id}", field="sale_id")
    if sale.seller_id != seller_id:
        raise Forbidden("only the seller may cancel this sale", code="not_seller")
    if not uow.s.execute(_CANCEL, {"reason": "seller", "now": uow.clock.now(),
                                   "id": sale_id}).rowcount:
        uow.s.refresh(sale)
        raise Conflict(f"sale {sale_id} is {sale.status}", code="sale_closed", field="sale_id")
    uow.s.refresh(sale)
    audit.note(uow, "secondary.cancel", subjects=[
        ("sale", sale_id), ("listing", sale.listing_id), ("user", seller_id)], changes={
        "status": ["open", "cancelled"], "reason": "seller",
        "remaining_fen": sale.remaining_fen})
    return sale
