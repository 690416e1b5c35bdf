"""Coupons with an investment: checked before the investment takes the listing's hot row and
consumed in the investment's own transaction (`services/investing/invest.py` calls both), and
what an investor holds.

A cash coupon (红包) is paid from the marketing account when it is used, and given back to the
investor unused (its cash taken back) when the listing fails and the investment is refunded
(`give_back_on_refund`, called by the refund); a rate boost (加息券) starts accruing on the
investment's holding (`days.accrue_boosts`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, bindparam, text

from biaodi.adapters.db import audit
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.incentives.coupons import (
    CouponFacts,
    CouponKind,
    CouponTaken,
    InvestmentFacts,
    TemplateTerms,
    check_use,
    simple_interest,
    term_label,
)
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.errors import NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.incentives.payouts import pay, take_back
from biaodi.services.ledger import posting as ledger

_COUPONS = text("""
    SELECT k.id, k.user_id, k.kind, k.status, k.expires_on, k.campaign_id, k.face_fen,
           t.id AS template_id, t.name, t.amount_fen, t.rate_ppm, t.days, t.validity_days,
           t.min_invest_fen, t.max_invest_fen, t.listing_kinds, t.terms, t.stackable,
           t.auto_invest, t.expected_use_ppm, t.per_user_count, t.total_count
    FROM incentive_coupons k JOIN coupon_templates t ON t.id = k.template_id
    WHERE k.id IN :ids""").bindparams(bindparam("ids", expanding=True)).columns(
    expires_on=Date)

_LISTING = text("SELECT kind, term, term_unit FROM listings WHERE id = :id")

_USE = text("""
    UPDATE incentive_coupons SET status = :status, investment_id = :investment,
           used_on = :today, accrued_through = NULL
    WHERE id = :id AND status = 'issued' AND expires_on >= :today""")

_PAID = text("UPDATE incentive_coupons SET paid_fen = paid_fen + :fen WHERE id = :id")


@dataclass(frozen=True)
class Usable:
    """Coupons that passed the checks for one investment, to be consumed with it."""

    rows: tuple[Any, ...]


def _terms(row: Any) -> TemplateTerms:
    return TemplateTerms(
        kind=CouponKind(row.kind), amount=Money(row.amount_fen) if row.amount_fen else None,
        rate_ppm=row.rate_ppm, days=row.days, validity_days=row.validity_days,
        min_invest=Money(row.min_invest_fen),
        max_invest=Money(row.max_invest_fen) if row.max_invest_fen is not None else None,
        listing_kinds=tuple(_list(row.listing_kinds)), terms=tuple(_list(row.terms)),
        total_count=row.total_count, per_user_count=row.per_user_count,
        stackable=bool(row.stackable), auto_invest=bool(row.auto_invest),
        expected_use_ppm=row.expected_use_ppm)


def _list(value: Any) -> list[str]:
    if isinstance(value, str):  # JSON read through a text() query on SQLite
        return list(json.loads(value))
    return list(value or ())


def check_for_investment(uow: UnitOfWork, investor_id: int, coupon_ids: tuple[int, ...],
                         listing_id: int, amount: Money, source: str) -> Usable:
    """The coupons named for this investment, checked (reads only; nothing locked)."""
    rows = list(uow.s.execute(_COUPONS, {"ids": list(coupon_ids)}))
    found = {row.id: row for row in rows if row.user_id == investor_id}
    for coupon_id in coupon_ids:
        if coupon_id not in found:
            raise NotFound(f"you hold no coupon {coupon_id}", field="coupon_ids")
    listing = uow.s.execute(_LISTING, {"id": listing_id}).one()
    today = uow.clock.today()
    check_use([CouponFacts(r.id, CouponKind(r.kind), r.status, r.expires_on, _terms(r))
               for r in (found[c] for c in coupon_ids)],
              InvestmentFacts(amount, listing.kind, listing.term, listing.term_unit, source,
                              today))
    return Usable(tuple(found[c] for c in coupon_ids))


def consume(uow: UnitOfWork, usable: Usable, investment_id: int, investor_id: int) -> int:
    """Mark the coupons used by this investment (only if still issued and unexpired: a
    coupon used twice at once is refused for the second) and pay cash coupons; what was paid
    in fen."""
    today = uow.clock.today()
    paid = 0
    for row in usable.rows:
        status = "used" if row.kind == CouponKind.CASH else "accruing"
        moved = uow.s.execute(_USE, {"status": status, "investment": investment_id,
                                     "today": today, "id": row.id}).rowcount
        if moved != 1:
            raise CouponTaken(f"coupon {row.id} was used or expired meanwhile",
                              field="coupon_ids")
        if row.kind == CouponKind.CASH:
            pay(uow, user_id=investor_id, fen=row.face_fen, kind="coupon_payout",
                memo=f"coupon {row.id} used with investment {investment_id}",
                campaign_id=row.campaign_id)
            uow.s.execute(_PAID, {"fen": row.face_fen, "id": row.id})
            paid += row.face_fen
    audit.note(uow, "incentive.coupons_used", subjects=[("user", investor_id)],
               changes={"investment_id": investment_id,
                        "coupon_ids": [row.id for row in usable.rows], "paid_fen": paid})
    return paid


_CASH_OF_REFUNDED = text("""
    SELECT k.id, k.user_id, k.paid_fen, k.campaign_id, k.expires_on, k.investment_id
    FROM incentive_coupons k JOIN investments i ON i.id = k.investment_id
    WHERE i.listing_id = :listing AND i.status = 'refunded' AND k.kind = 'cash'
      AND k.status = 'used' ORDER BY k.id""").columns(expires_on=Date)

_GIVE_BACK = text("""
    UPDATE incentive_coupons SET status = :status, investment_id = NULL, used_on = NULL,
           paid_fen = paid_fen - :fen
    WHERE id = :id AND status = 'used'""")


def give_back_on_refund(uow: UnitOfWork, listing_id: int) -> int:
    """A failed listing's refunded investments give their cash coupons back: the payout is
    taken back from the investor's available wallet (which the refund has just credited with
    the investment) into marketing, and the coupon can be used again until it expires. Should
    the wallet hold less than was paid (the investor withdrew it meanwhile), what it holds is
    taken back and the coupon stays used with the rest paid. What was taken back, in fen."""
    taken_total = 0
    for row in list(uow.s.execute(_CASH_OF_REFUNDED, {"listing": listing_id})):
        available = ledger.balance(uow, wallet(OwnerKind.INVESTOR, row.user_id).code)
        taken = min(int(row.paid_fen), max(available, 0))
        if taken:
            take_back(uow, user_id=row.user_id, fen=taken, kind="coupon_reversal",
                      memo=f"coupon {row.id} given back: investment {row.investment_id} "
                           f"refunded", campaign_id=row.campaign_id,
                      idempotency_key=f"coupon_reversal:{row.id}:{row.investment_id}")
        if taken == int(row.paid_fen):
            status = "issued" if row.expires_on >= uow.clock.today() else "expired"
            uow.s.execute(_GIVE_BACK, {"status": status, "fen": taken, "id": row.id})
        else:
            uow.s.execute(_PAID, {"fen": -taken, "id": row.id})
        taken_total += taken
    return taken_total


_MINE = text("""
    SELECT k.id, k.kind, k.status, k.face_fen, k.paid_fen, k.issued_on, k.expires_on,
           k.investment_id, k.used_on, k.ended_on, t.name, t.amount_fen, t.rate_ppm, t.days,
           t.min_invest_fen, t.max_invest_fen, t.listing_kinds, t.terms, t.stackable,
           t.auto_invest, c.name AS campaign, c.rule_text
    FROM incentive_coupons k JOIN coupon_templates t ON t.id = k.template_id
    JOIN incentive_campaigns c ON c.id = k.campaign_id
    WHERE k.user_id = :user ORDER BY k.id DESC""").columns(
    issued_on=Date, expires_on=Date, used_on=Date, ended_on=Date)


def coupons_of(uow: UnitOfWork, user_id: int) -> list[dict[str, Any]]:
    """An investor's coupons, newest first; an issued coupon past its last day shows as
    expired even before close of business marks it."""
    today = uow.clock.today()
    out = []
    for r in uow.s.execute(_MINE, {"user": user_id}):
        status = "expired" if r.status == "issued" and today > r.expires_on else r.status
        out.append({
            "id": r.id, "kind": r.kind, "name": r.name, "campaign": r.campaign,
            "rule_text": r.rule_text, "status": status,
            "amount": str(Money(r.amount_fen)) if r.amount_fen else None,
            "rate": _percent(r.rate_ppm), "days": r.days,
            "min_investment": str(Money(r.min_invest_fen)),
            "max_investment": (str(Money(r.max_invest_fen))
                               if r.max_invest_fen is not None else None),
            "listing_kinds": _list(r.listing_kinds), "terms": _list(r.terms),
            "stackable": bool(r.stackable), "auto_invest": bool(r.auto_invest),
            "face_value": str(Money(r.face_fen)), "paid": str(Money(r.paid_fen)),
            "issued_on": str(r.issued_on), "expires_on": str(r.expires_on),
            "investment_id": r.investment_id,
            "used_on": str(r.used_on) if r.used_on else None,
            "ended_on": str(r.ended_on) if r.ended_on else None,
        })
    return out


def usable_for(uow: UnitOfWork, user_id: int, listing_id: int) -> list[dict[str, Any]]:
    """The investor's coupons that could go with an investment in this listing (type, term,
    still valid); the amount is checked when investing."""
    listing = uow.s.execute(_LISTING, {"id": listing_id}).first()
    if listing is None:
        return []
    label = term_label(listing.term, listing.term_unit)
    return [c for c in coupons_of(uow, user_id)
            if c["status"] == "issued" and c["kind"] != CouponKind.TRIAL
            and (not c["listing_kinds"] or listing.kind in c["listing_kinds"])
            and (not c["terms"] or label in c["terms"])]


def _percent(ppm: int | None) -> str | None:
    if ppm is None:
        return None
    return str((Decimal(ppm) / 10_000).quantize(Decimal("0.01")))


def named(coupon_id: int | None, coupon_ids: list[int] | None) -> tuple[int, ...]:
    """The coupons a request names (`coupon_id` and `coupon_ids`), in order; a coupon named
    twice is refused by `check_use` (stacking)."""
    return ((coupon_id,) if coupon_id is not None else ()) + tuple(coupon_ids or ())


def expected_reward(coupon: dict[str, Any], amount: Money) -> Money:
    """What a coupon (as `coupons_of` lists it) should pay with an investment of `amount`: a
    cash coupon its amount; a boost its rate on the amount (at most its maximum) for its days,
    if the holding is kept and not repaid early."""
    if coupon["kind"] == CouponKind.CASH:
        return Money.parse(coupon["amount"], field="amount")
    most = Money.parse(coupon["max_investment"], field="max_investment")
    rate_ppm = int(Decimal(coupon["rate"]) * 10_000)
    return simple_interest(min(amount, most), rate_ppm, int(coupon["days"]))


def best_for_auto_invest(uow: UnitOfWork, user_id: int, listing_id: int,
                         amount: Money) -> int | None:
    """The coupon auto-invest uses for this investment: among the investor's coupons whose
    template allows auto-invest and that fit the listing and the amount, the one worth most
    (the earliest to expire on a tie). None: no coupon."""
    fitting = []
    for c in usable_for(uow, user_id, listing_id):
        if not c["auto_invest"] or amount < Money.parse(c["min_investment"],
                                                        field="min_investment"):
            continue
        if c["kind"] == CouponKind.CASH and c["max_investment"] is not None and \
                amount > Money.parse(c["max_investment"], field="max_investment"):
            continue
        fitting.append((-expected_reward(c, amount).fen, c["expires_on"], c["id"]))
    return min(fitting)[2] if fitting else None
