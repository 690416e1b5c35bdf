"""What investors see of the secondary market: open sales with the day's price and yield, one
sale's quote for a part, and their own sales and purchases with realised gain or loss.

Realised figures: a seller realises, per purchase, the interest accrued to the sale date (in
the price) and a gain or loss = price − transfer fee − fair value (the premium or discount,
net of the fee). A buyer's gain or loss is realised when the holding bought is no longer held:
cash received from the loan + proceeds of selling it on − the price paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.db.secondary_tables import SecondaryPurchase, SecondarySale
from biaodi.adapters.db.servicing_tables import LoanServicing, ServicingPosition
from biaodi.adapters.db.tables import Holding, Listing, LoanInstalment
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.errors import BiaodiError, InvalidInput, NotFound
from biaodi.domain.shared.money import Money, round_half_up
from biaodi.services.secondary.pricing import (
    PPM,
    PartQuote,
    check_tradable,
    period_start,
    ppm_of,
    quote_sale,
)
from biaodi.services.secondary.rules import SecondaryRules
from biaodi.services.secondary.sales import min_ticket
from biaodi.services.shared.rates import percent_text


def _money(fen: int | None) -> str | None:
    return None if fen is None else str(Money(fen))


def quote_view(quote: PartQuote) -> dict[str, Any]:
    return {"principal": _money(quote.principal),
            "accrued_interest": _money(quote.accrued_interest),
            "fair_value": _money(quote.fair_value), "price": _money(quote.price),
            "transfer_fee": _money(quote.fee), "seller_receives": _money(quote.proceeds),
            "yield_to_maturity": percent_text(ppm_of(quote.yield_rate)),
            "expected_loss": percent_text(ppm_of(quote.expected_loss))}


def day_quote(uow: UnitOfWork, sale: SecondarySale, principal: int, day: date,
              rules: SecondaryRules) -> PartQuote:
    """Today's price of `principal` of an open sale (raises when its loan is not tradable)."""
    holding = uow.s.get(Holding, sale.holding_id)
    loan = uow.s.get(LoanServicing, sale.listing_id)
    assert holding is not None and loan is not None
    check_tradable(loan, day)
    return quote_sale(uow, sale, holding, loan, principal, day, rules.sale)


def sale_view(sale: SecondarySale, listing: Listing | None = None) -> dict[str, Any]:
    view = {
        "id": sale.id, "holding_id": sale.holding_id, "listing_id": sale.listing_id,
        "principal": _money(sale.principal_fen), "remaining": _money(sale.remaining_fen),
        "premium": percent_text(sale.premium_ppm), "status": sale.status,
        "cancel_reason": sale.cancel_reason, "listed_on": sale.listed_on.isoformat(),
        "as_listed": {"fair_value": _money(sale.fair_value_fen),
                      "price": _money(sale.asking_price_fen),
                      "yield_to_maturity": percent_text(sale.yield_ppm),
                      "expected_loss": percent_text(sale.expected_loss_ppm)},
    }
    if listing is not None:
        view["listing"] = {"kind": listing.kind, "title": listing.title,
                           "annual_rate": percent_text(listing.annual_rate_ppm),
                           "grade": listing.grade, "risk_level": listing.risk_level}
    return view


def _with_today(uow: UnitOfWork, sale: SecondarySale, listing: Listing | None, day: date,
                rules: SecondaryRules, principal: int | None = None) -> dict[str, Any]:
    view = sale_view(sale, listing)
    if sale.status == "open" and sale.remaining_fen:
        try:
            view["today"] = quote_view(day_quote(uow, sale, principal or sale.remaining_fen,
                                                 day, rules))
        except BiaodiError as closed:
            view["today"] = None
            view["not_tradable"] = closed.as_dict()
    return view


def browse(uow: UnitOfWork, day: date, rules: SecondaryRules, *, listing_id: int | None,
           page: int, page_size: int) -> dict[str, Any]:
    """Open sales, newest first, each with the day's price of what remains."""
    where = [SecondarySale.status == "open"]
    if listing_id is not None:
        where.append(SecondarySale.listing_id == listing_id)
    total = uow.s.execute(select(func.count()).select_from(SecondarySale).where(*where)).scalar()
    found = uow.s.execute(select(SecondarySale, Listing)
                          .join(Listing, Listing.id == SecondarySale.listing_id).where(*where)
                          .order_by(SecondarySale.id.desc())
                          .offset((page - 1) * page_size).limit(page_size)).all()
    return {"total": int(total or 0), "page": page, "page_size": page_size,
            "items": [_with_today(uow, sale, listing, day, rules) for sale, listing in found]}


def detail(uow: UnitOfWork, sale_id: int, day: date, rules: SecondaryRules,
           principal: int | None = None) -> dict[str, Any]:
    sale = uow.s.get(SecondarySale, sale_id)
    if sale is None:
        raise NotFound(f"no sale {sale_id}", field="sale_id")
    if principal is not None and not 0 < principal <= sale.remaining_fen:
        raise InvalidInput(f"principal must be more than 0 and at most the "
                           f"{Money(sale.remaining_fen)} left in sale {sale_id}",
                           field="principal")
    view = _with_today(uow, sale, uow.s.get(Listing, sale.listing_id), day, rules, principal)
    view["purchases"] = len(_purchases(uow, SecondaryPurchase.sale_id == sale_id))
    return view


def _purchases(uow: UnitOfWork, *where: Any) -> Sequence[SecondaryPurchase]:
    return uow.s.scalars(select(SecondaryPurchase).where(*where)
                         .order_by(SecondaryPurchase.id)).all()


def purchase_view(p: SecondaryPurchase) -> dict[str, Any]:
    return {"id": p.id, "sale_id": p.sale_id, "listing_id": p.listing_id,
            "buyer_holding_id": p.buyer_holding_id, "business_date": p.business_date.isoformat(),
            "principal": _money(p.principal_fen),
            "accrued_interest": _money(p.accrued_interest_fen),
            "fair_value": _money(p.fair_value_fen), "price": _money(p.price_fen),
            "transfer_fee": _money(p.fee_fen), "yield_to_maturity": percent_text(p.yield_ppm)}


def my_sales(uow: UnitOfWork, seller_id: int) -> dict[str, Any]:
    sales = uow.s.scalars(select(SecondarySale).where(SecondarySale.seller_id == seller_id)
                          .order_by(SecondarySale.id.desc()).limit(200)).all()
    bought = _purchases(uow, SecondaryPurchase.sale_id.in_([s.id for s in sales]))
    by_sale: dict[int, list[SecondaryPurchase]] = {}
    for p in bought:
        by_sale.setdefault(p.sale_id, []).append(p)
    items, totals = [], {"proceeds": 0, "fees": 0, "interest": 0, "gain": 0}
    for sale in sales:
        rows = []
        for p in by_sale.get(sale.id, []):
            gain = p.price_fen - p.fee_fen - p.fair_value_fen
            rows.append({**purchase_view(p), "seller_received": _money(p.price_fen - p.fee_fen),
                         "realised_interest": _money(p.accrued_interest_fen),
                         "realised_gain": _money(gain)})
            totals["proceeds"] += p.price_fen - p.fee_fen
            totals["fees"] += p.fee_fen
            totals["interest"] += p.accrued_interest_fen
            totals["gain"] += gain
        items.append({**sale_view(sale), "sold": _money(sale.principal_fen - sale.remaining_fen),
                      "purchases": rows})
    return {"items": items, "totals": {
        "proceeds": _money(totals["proceeds"]), "transfer_fees": _money(totals["fees"]),
        "realised_interest": _money(totals["interest"]),
        "realised_gain": _money(totals["gain"])}}


def my_purchases(uow: UnitOfWork, buyer_id: int) -> dict[str, Any]:
    bought = _purchases(uow, SecondaryPurchase.buyer_id == buyer_id)
    mine = [p.buyer_holding_id for p in bought]
    holdings = {h.id: h for h in uow.s.scalars(select(Holding).where(Holding.id.in_(mine)))}
    positions = {p.holding_id: p for p in uow.s.scalars(
        select(ServicingPosition).where(ServicingPosition.holding_id.in_(mine)))}
    resold = dict(uow.s.execute(
        select(SecondaryPurchase.seller_holding_id,
               func.sum(SecondaryPurchase.price_fen - SecondaryPurchase.fee_fen))
        .where(SecondaryPurchase.seller_holding_id.in_(mine))
        .group_by(SecondaryPurchase.seller_holding_id)).all())
    items, realised = [], 0
    for p in bought:
        holding, position = holdings[p.buyer_holding_id], positions.get(p.buyer_holding_id)
        received = 0 if position is None else (position.received_principal_fen
                                               + position.received_interest_fen
                                               + position.received_penalty_fen)
        proceeds = int(resold.get(p.buyer_holding_id) or 0)
        gain = None
        if holding.status != "active":
            gain = received + proceeds - p.price_fen
            realised += gain
        items.append({**purchase_view(p), "holding_status": holding.status,
                      "outstanding_principal": _money(holding.outstanding_principal_fen),
                      "premium_paid": _money(p.price_fen - p.fair_value_fen),
                      "cash_received": _money(received), "resale_proceeds": _money(proceeds),
                      "realised_gain": _money(gain)})
    return {"items": items[::-1], "totals": {
        "paid": _money(sum(p.price_fen for p in bought)), "realised_gain": _money(realised)}}


# --- the market pages: the board and one sale ------------------------------------------------
LIVE_INSTALMENTS = ("scheduled", "due", "overdue")


def remaining_terms(uow: UnitOfWork, listing_ids: Sequence[int]) -> dict[int, tuple[int, date]]:
    """Per loan: how many instalments are still to be paid and the last one's due date."""
    if not listing_ids:
        return {}
    rows = uow.s.execute(
        select(LoanInstalment.listing_id, func.count(), func.max(LoanInstalment.due_date))
        .where(LoanInstalment.listing_id.in_(listing_ids),
               LoanInstalment.status.in_(LIVE_INSTALMENTS))
        .group_by(LoanInstalment.listing_id)).all()
    return {int(listing_id): (int(n), last) for listing_id, n, last in rows}


def listing_facts(listing: Listing) -> dict[str, Any]:
    return {"listing_id": listing.id, "title": listing.title, "kind": listing.kind,
            "grade": listing.grade, "risk_level": listing.risk_level,
            "annual_rate": percent_text(listing.annual_rate_ppm), "term": listing.term,
            "term_unit": listing.term_unit, "repayment_method": listing.repayment_method}


def quote_figures(quote: PartQuote) -> dict[str, Any]:
    """A quote in Money for the pages, with the premium (or discount) in yuan and percent."""
    difference = quote.price - quote.fair_value
    return {"principal": Money(quote.principal), "accrued": Money(quote.accrued_interest),
            "fair_value": Money(quote.fair_value), "price": Money(quote.price),
            "fee": Money(quote.fee), "proceeds": Money(quote.proceeds),
            "difference": Money(difference), "difference_abs": Money(abs(difference)),
            "difference_percent": percent_text(round_half_up(
                Decimal(difference) * PPM / quote.fair_value)) if quote.fair_value else "0.00",
            "yield": percent_text(ppm_of(quote.yield_rate)),
            "expected_loss": percent_text(ppm_of(quote.expected_loss)),
            "receives": Money(sum(s.principal + s.interest for s in quote.take)),
            "shares": [{"seq": s.seq, "due_date": s.due_date, "principal": Money(s.principal),
                        "interest": Money(s.interest), "total": Money(s.principal + s.interest)}
                       for s in quote.take]}


def _board_item(uow: UnitOfWork, sale: SecondarySale, listing: Listing, day: date,
                rules: SecondaryRules, term: tuple[int, date] | None) -> dict[str, Any]:
    item = {"id": sale.id, **listing_facts(listing), "status": sale.status,
            "principal": Money(sale.principal_fen), "remaining": Money(sale.remaining_fen),
            "premium": percent_text(sale.premium_ppm), "listed_on": sale.listed_on,
            "instalments_left": term[0] if term else 0, "maturity": term[1] if term else None,
            "today": None, "not_tradable": None}
    if sale.status == "open" and sale.remaining_fen:
        try:
            item["today"] = quote_figures(day_quote(uow, sale, sale.remaining_fen, day, rules))
        except BiaodiError as closed:
            item["not_tradable"] = closed.code
    return item


def board(uow: UnitOfWork, day: date, rules: SecondaryRules, *, kind: str | None = None,
          page: int = 1, page_size: int = 12) -> dict[str, Any]:
    """The market board: open sales, newest first, each with the day's fair value, price,
    premium or discount, the buyer's yield and the loan's remaining term; by listing type."""
    where = [SecondarySale.status == "open", SecondarySale.remaining_fen > 0]
    if kind is not None:
        where.append(Listing.kind == kind)
    base = select(SecondarySale, Listing).join(Listing, Listing.id == SecondarySale.listing_id)
    total = uow.s.execute(select(func.count()).select_from(
        base.where(*where).subquery())).scalar()
    found = uow.s.execute(base.where(*where).order_by(SecondarySale.id.desc())
                          .offset((page - 1) * page_size).limit(page_size)).all()
    terms = remaining_terms(uow, sorted({listing.id for _, listing in found}))
    return {"total": int(total or 0), "page": page, "page_size": page_size,
            "items": [_board_item(uow, sale, listing, day, rules, terms.get(listing.id))
                      for sale, listing in found]}


def sale_page(uow: UnitOfWork, sale_id: int, day: date, rules: SecondaryRules) -> dict[str, Any]:
    """One sale for its page: the listing, the loan's state and remaining instalments, the
    day's quote of what remains (with the buyer's share of each instalment) and how its fair
    value was reached (the period's interest accrued by days)."""
    sale = uow.s.get(SecondarySale, sale_id)
    if sale is None:
        raise NotFound(f"no sale {sale_id}", field="sale_id")
    listing = uow.s.get(Listing, sale.listing_id)
    loan = uow.s.get(LoanServicing, sale.listing_id)
    assert listing is not None
    item = _board_item(uow, sale, listing, day, rules,
                       remaining_terms(uow, [listing.id]).get(listing.id))
    item |= {"seller_id": sale.seller_id, "cancel_reason": sale.cancel_reason,
             "min_ticket": Money(min_ticket(listing, rules)), "loan": None,
             "instalments": [], "why": None}
    if loan is None:
        return item
    item["loan"] = {"status": loan.status, "bucket": loan.bucket,
                    "days_past_due": loan.days_past_due, "next_due_date": loan.next_due_date,
                    "outstanding": Money(loan.outstanding_principal_fen)}
    item["instalments"] = [
        {"seq": i.seq, "due_date": i.due_date, "principal": Money(i.principal_fen),
         "interest": Money(i.interest_fen), "status": i.status}
        for i in uow.s.scalars(select(LoanInstalment).where(
            LoanInstalment.listing_id == listing.id,
            LoanInstalment.status.in_(LIVE_INSTALMENTS)).order_by(LoanInstalment.seq))]
    holding = uow.s.get(Holding, sale.holding_id)
    if item["today"] and holding is not None and loan.period_start and loan.next_due_date:
        start = period_start(loan, holding)
        item["why"] = {"period_start": start, "next_due_date": loan.next_due_date,
                       "elapsed": max(0, (day - start).days),
                       "days": (loan.next_due_date - start).days,
                       "next_interest": item["today"]["shares"][0]["interest"]
                       if item["today"]["shares"] else Money(0)}
    return item

