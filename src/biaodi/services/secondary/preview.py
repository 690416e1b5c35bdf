"""What a seller and a buyer see before they confirm, from the very commands that act: an
offer (`sales.offer`) or a purchase (`purchases.buy`) run in a savepoint that is always rolled
back, so the figures and the refusal shown are the ones confirming would meet. Run these in a
unit of work that is never committed (an offer may take the loan into servicing first)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from biaodi.adapters.db.secondary_tables import SecondarySale
from biaodi.adapters.db.tables import Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import UnsuitableInvestment
from biaodi.domain.listings.policy import listing_risk_level
from biaodi.domain.secondary.valuation import asking_price, transfer_fee
from biaodi.domain.shared.errors import BiaodiError, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import wallet_of
from biaodi.services.investing.quote import investor_profile, refusal_view
from biaodi.services.secondary import purchases, sales
from biaodi.services.secondary.pricing import (
    check_tradable,
    expected_loss,
    period_start,
    ppm_of,
    quote_part,
)
from biaodi.services.secondary.queries import listing_facts, quote_figures
from biaodi.services.secondary.rules import SecondaryRules
from biaodi.services.servicing import loan as loans
from biaodi.services.servicing.onboarding import ensure_onboarded
from biaodi.services.shared.rates import percent_text

T = TypeVar("T")

#: Refusals of an offer that no price or amount can cure: the holding cannot be offered now.
BLOCKING = ("not_transferable", "holding_not_active", "holding_period", "loan_overdue",
            "repayment_day", "loan_maturing", "already_offered")


def _dry(uow: UnitOfWork, fn: Callable[[], T]) -> tuple[T | None, BiaodiError | None]:
    """`fn`'s answer (read inside the savepoint) or its refusal; nothing it did is kept."""
    savepoint = uow.s.begin_nested()
    try:
        return fn(), None
    except BiaodiError as exc:
        return None, exc
    finally:
        savepoint.rollback()


def refusal(exc: BiaodiError, **values: Any) -> dict[str, Any]:
    return {"code": exc.code, "field": exc.field, "message": exc.message, "values": values}


def sell_preview(uow: UnitOfWork, holding_id: int, seller_id: int, rules: SecondaryRules, *,
                 premium: Decimal | None = None,
                 principal: Money | None = None) -> dict[str, Any]:
    """The holding's fair value today, the guardrails (price range, fee, minimum part, holding
    period), what blocks offering it (None: nothing) and, for a `premium` (and a part), the
    offer's figures or the rule it breaks. Raises NotFound / Forbidden (not the holder)."""
    today = uow.clock.today()
    holding = sales.owned_holding(uow, holding_id, seller_id)
    listing = uow.s.get(Listing, holding.listing_id)
    assert listing is not None
    sale = rules.sale
    smallest = Money(sales.min_ticket(listing, rules))
    found: dict[str, Any] = {
        "holding_id": holding.id, "status": holding.status, **listing_facts(listing),
        "outstanding": Money(holding.outstanding_principal_fen),
        "rules": {"max_premium": percent_text(ppm_of(sale.max_premium)),
                  "max_discount": percent_text(ppm_of(sale.max_discount)),
                  "fee_rate": percent_text(ppm_of(sale.transfer_fee_rate)),
                  "holding_days": sale.holding_period_days,
                  "free_on": holding.interest_start + timedelta(
                      days=sale.holding_period_days),
                  "min_ticket": smallest},
        "blocked": None, "whole": None, "range": None, "why": None, "quote": None,
        "refusal": None}

    def whole() -> dict[str, Any]:
        ensure_onboarded(uow, listing.id, today, rules.servicing)
        loan = loans.state(uow, listing.id)
        check_tradable(loan, today)
        quote = quote_part(uow, holding, loan, holding.outstanding_principal_fen, Decimal(0),
                           today, sale, expected_loss(uow, listing))
        start = period_start(loan, holding)
        assert loan.next_due_date is not None
        return {"figures": quote_figures(quote),
                "range": (Money(asking_price(quote.fair_value, -sale.max_discount, sale)),
                          Money(asking_price(quote.fair_value, sale.max_premium, sale))),
                "why": {"period_start": start, "next_due_date": loan.next_due_date,
                        "elapsed": max(0, (today - start).days),
                        "days": (loan.next_due_date - start).days,
                        "next_interest": Money(quote.take[0].interest) if quote.take
                        else Money(0)}}

    if holding.status == "active":
        valued, not_tradable = _dry(uow, whole)
        if valued is not None:
            found |= {"whole": valued["figures"], "range": valued["range"],
                      "why": valued["why"]}
        elif not_tradable is not None:
            found["blocked"] = refusal(not_tradable)
    _, blocked = _dry(uow, lambda: sales.offer(
        uow, sales.Offer(holding.id, seller_id, Decimal(0)), rules))
    if blocked is not None and blocked.code in BLOCKING:
        found["blocked"] = refusal(blocked, free_on=found["rules"]["free_on"],
                                   days=sale.holding_period_days)
    if premium is None or found["blocked"]:
        return found

    def offered() -> dict[str, Any]:
        made = sales.offer(uow, sales.Offer(holding.id, seller_id, premium, principal), rules)
        price = made.asking_price_fen
        fee = transfer_fee(price, sale)
        return {"principal": Money(made.principal_fen), "fair_value": Money(made.fair_value_fen),
                "price": Money(price), "fee": Money(fee), "proceeds": Money(price - fee),
                "difference": Money(price - made.fair_value_fen),
                "premium": percent_text(made.premium_ppm),
                "yield": percent_text(made.yield_ppm)}

    quote, exc = _dry(uow, offered)
    found["quote"] = quote
    if exc is not None:
        code = exc.code
        if isinstance(exc, InvalidInput) and exc.field == "premium":
            code = "premium_above_max" if premium > 0 else "discount_beyond_max"
        elif isinstance(exc, InvalidInput) and exc.field == "principal":
            code = "principal_rules"
        found["refusal"] = refusal(exc, min=smallest, outstanding=found["outstanding"],
                                   max_premium=found["rules"]["max_premium"],
                                   max_discount=found["rules"]["max_discount"],
                                   low=found["range"][0] if found["range"] else None,
                                   high=found["range"][1] if found["range"] else None)
        found["refusal"]["code"] = code
    return found


def buy_preview(uow: UnitOfWork, sale_id: int, buyer_id: int, rules: SecondaryRules, *,
                principal: Money | None = None) -> dict[str, Any]:
    """Buying `principal` of a sale (None: all that remains) today: what the buyer pays and
    receives, or the refusal buying would meet; and the buyer's available balance."""
    sale = uow.s.get(SecondarySale, sale_id)
    if sale is None:
        raise NotFound(f"no sale {sale_id}", field="sale_id")
    listing = uow.s.get(Listing, sale.listing_id)
    assert listing is not None
    part = principal or Money(sale.remaining_fen)
    available = wallet_of(uow, buyer_id).get("investor", {}).get("available", Money(0))
    figures, exc = _dry(uow, lambda: quote_figures(purchases.buy(
        uow, purchases.Buy(sale_id, buyer_id, principal), rules).quote))
    found: dict[str, Any] = {"quote": figures, "refusal": None, "available": available,
                             "principal": part}
    if exc is not None:
        said = refusal(exc, available=available, min=Money(sales.min_ticket(listing, rules)),
                       remaining=Money(sale.remaining_fen))
        if isinstance(exc, UnsuitableInvestment):
            profile = investor_profile(uow, buyer_id, rules.investing)
            said["suitability"] = refusal_view(
                exc, profile, part, listing_risk_level(listing.risk_level, listing.grade))
        found["refusal"] = said
    return found
