"""Investing in a listing (投标): freeze the investor's money and take it from the listing's
remaining amount in one transaction; the last ticket funds the listing.

Locks are taken in one global order — the listing row first, then (PostgreSQL) the investor's
exposure counter, then the wallet — so that an investment never holds a wallet while it waits
for a listing that a disbursement (which holds the listing, writes its investors' exposure and
locks their frozen wallets) is completing:

1. the checks, read without locks: the listing open, the investor role, not one's own listing,
   suitability (money at risk from the maintained counter, `counters`), the ticket (minimum,
   step, what is left);
2. the hot row: one conditional `UPDATE listings SET remaining_fen = remaining_fen - :x WHERE …
   remaining_fen >= :x RETURNING remaining_fen` — no row back means the listing is full;
3. (PostgreSQL) the investor's exposure row, locked before the wallet as funding and close
   of business take them; then the freeze: one `investment_freeze` entry
   (`investor:N:available` → `investor:N:frozen`), refused if the wallet has less;
4. the per-investor cap, from the maintained stake, read now that this listing's earlier
   investments have committed (they queued on the hot row);
5. the investment row (its triggers move the counters). The last ticket completes the funding
   (`funding.complete_funding`).

Every statement is SQLAlchemy Core (no ORM objects on the path). On PostgreSQL the API runs the
same steps as one statement, a function (`one_trip`); both give the same answers, built here
(`refusal`) from what the database saw.

A type whose subscriptions settle at once (流转标) freezes nothing: checks → the hot row →
per-investor cap → the investment row → the holding and one entry paying the originator.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Engine, text
from sqlalchemy.orm.util import identity_key

from biaodi.adapters.db import audit
from biaodi.adapters.db.tables import Investment, Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import (
    MAX_LISTING_RISK,
    InvestorLevel,
    UnsuitableInvestment,
    check_suitable,
)
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.listings import policy_for
from biaodi.domain.listings.policy import listing_risk_level
from biaodi.domain.shared.errors import (
    BiaodiError,
    Conflict,
    Forbidden,
    InsufficientBalance,
    InvalidInput,
    NotFound,
)
from biaodi.domain.shared.money import Money
from biaodi.services.incentives import coupons
from biaodi.services.investing import counters
from biaodi.services.investing.funding import complete_funding, settle_subscription
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.sqlkit import stamped

#: Statuses after funding: a late investor is told the listing is full, not closed.
FILLED = ("funded", "repaying", "overdue", "settled", "defaulted", "recovered", "written_off")


@dataclass(frozen=True)
class Invest:
    listing_id: int
    investor_id: int
    amount: Money
    source: str = "manual"
    #: Coupons used with this investment (`services/incentives/coupons.py`): checked before
    #: the hot row, consumed with the investment row in the same transaction.
    coupon_ids: tuple[int, ...] = ()


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


@dataclass(frozen=True)
class Terms:
    """What investing needs of a published listing that cannot change while it is published
    (its terms, grade and deadline are fixed at publication): read once per process."""

    listing_id: int
    kind: str
    amount_fen: int
    applicant_id: int
    risk: int  # 1–5, from the type, the security and the grade
    funding_deadline: date | None
    min_ticket_fen: int
    step_fen: int
    cap_fen: int  # the most one investor may take
    settles_on_subscription: bool


_terms_cache: weakref.WeakKeyDictionary[Engine, dict[int, Terms]] = weakref.WeakKeyDictionary()

_TERMS = text(
    "SELECT id, kind, amount_fen, applicant_id, risk_level, grade, funding_deadline, status "
    "FROM listings WHERE id = :id"
).columns(funding_deadline=Date)


def investor_cap(listing: Any, rules: InvestingRules) -> Money:
    """The most one investor may take of `listing` (anything with `kind` and `amount_fen`):
    its share of the amount, rounded down to the step, never below the minimum ticket."""
    funding = policy_for(listing.kind).funding_rules(rules.listing.config)
    share = Money(listing.amount_fen).times_rate(rules.per_investor_share).fen
    steps = (share // funding.step.fen) * funding.step.fen
    return Money(max(steps, funding.min_ticket.fen))


def cached_terms(engine: Engine, listing_id: int) -> Terms | None:
    cache = _terms_cache.get(engine)
    return cache.get(listing_id) if cache is not None else None


def terms_of(uow: UnitOfWork, listing_id: int, rules: InvestingRules) -> Terms | None:
    """The listing's fixed terms; cached once it is published. None: no such listing."""
    engine = uow.s.get_bind().engine
    cached = cached_terms(engine, listing_id)
    if cached is not None:
        return cached
    row = uow.s.execute(_TERMS, {"id": listing_id}).first()
    if row is None:
        return None
    funding = policy_for(row.kind).funding_rules(rules.listing.config)
    terms = Terms(row.id, row.kind, row.amount_fen, row.applicant_id,
                  listing_risk_level(row.risk_level, row.grade), row.funding_deadline,
                  funding.min_ticket.fen, funding.step.fen, investor_cap(row, rules).fen,
                  funding.settles_on_subscription)
    if row.status == "published":
        _terms_cache.setdefault(engine, {})[listing_id] = terms
    return terms


def check_open(status: str, remaining_fen: int, deadline: date | None, today: date,
               listing_id: int) -> None:
    if status in FILLED or (status == "published" and not remaining_fen):
        raise ListingFull(f"listing {listing_id} is fully funded", field="listing_id")
    if status != "published":
        raise ListingClosed(f"listing {listing_id} is not open for investment ({status})",
                            field="listing_id")
    if deadline is not None and today >= deadline:
        raise ListingClosed(f"listing {listing_id}'s funding window ended on {deadline}",
                            field="listing_id")


def refusal(code: str, facts: dict[str, Any], terms: Terms, amount: Money, today: date,
            rules: InvestingRules) -> BiaodiError:
    """The refusal for what the database saw (`code` and `facts`): the same error, message
    and field on either path, built by the same domain checks."""
    try:
        if code == "open":
            check_open(facts["status"], int(facts["remaining"]), _date(facts.get("deadline")),
                       today, terms.listing_id)
        elif code == "suitability":
            level = facts.get("level")
            check_suitable(InvestorLevel(int(level)) if level is not None else None,
                           _date(facts.get("valid_until")), today, terms.risk, amount,
                           Money(int(facts["outstanding"])), rules.level_limits)
        elif code == "ticket":
            policy_for(terms.kind).funding_rules(rules.listing.config).check_ticket(
                amount, Money(int(facts["remaining"])))
    except BiaodiError as found:
        return found
    if code == "not_found":
        return NotFound(f"no listing {terms.listing_id}", field="listing_id")
    if code == "role_required":
        return Forbidden("investing needs the investor role", code="role_required")
    if code == "self_investment":
        return Conflict("you cannot invest in your own listing (self-financing, 自融, is banned)",
                        code="self_investment", field="listing_id")
    if code == "listing_full":
        return ListingFull(f"listing {terms.listing_id} has less than {amount} yuan left",
                           field="amount")
    if code == "insufficient_balance":
        return InsufficientBalance("insufficient balance in "
                                   f"{wallet(OwnerKind.INVESTOR, int(facts['user_id'])).code}"
                                   " for investment_freeze", field="amount")
    if code == "investor_cap_exceeded":
        already = Money(int(facts["already"]))
        return InvalidInput(
            f"one investor may take at most {Money(terms.cap_fen)} yuan of this listing "
            f"({Decimal(100) * rules.per_investor_share:.0f} %); you have {already}",
            field="amount", code="investor_cap_exceeded")
    if code == "suitability":  # the database and the domain disagree: say so, refuse anyway
        return UnsuitableInvestment("this investment is outside your risk assessment's limits",
                                    code="over_level_limit", field="amount")
    if code == "no_account":
        return NotFound(f"no such account: {facts.get('account')}", field="account")
    raise AssertionError(f"unknown refusal {code!r}")


def placed_changes(amount: Money, investment_id: Any, entry_id: Any, remaining_fen: Any,
                   status: str) -> dict[str, Any]:
    """What an `investment.placed` audit event says changed (both paths write the same)."""
    return {"amount_fen": amount.fen, "investment_id": investment_id, "entry_id": entry_id,
            "listing_remaining_fen": remaining_fen, "status": status}


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def allowed_levels(risk: int) -> list[int]:
    """The investor levels that may take a listing of this risk level."""
    return [int(level) for level in InvestorLevel if risk <= MAX_LISTING_RISK[level]]


# --- the step-by-step path (SQLite, auto-invest, pages) ----------------------------------------
_CHECKS = text(
    "SELECT l.status, l.remaining_fen, "
    " EXISTS (SELECT 1 FROM user_roles WHERE user_id = :user AND role = 'investor') AS investor,"
    " (SELECT level FROM risk_assessments WHERE investor_id = :user"
    "  ORDER BY id DESC LIMIT 1) AS level,"
    " (SELECT valid_until FROM risk_assessments WHERE investor_id = :user"
    "  ORDER BY id DESC LIMIT 1) AS valid_until,"
    f" {counters.EXPOSURE_SQL} AS outstanding "
    "FROM listings l WHERE l.id = :listing"
).columns(valid_until=Date)

_TAKE = text(
    "UPDATE listings SET remaining_fen = remaining_fen - :amount "
    "WHERE id = :id AND status = 'published' AND remaining_fen >= :amount "
    "RETURNING remaining_fen"
)

_ALREADY = text(f"SELECT {counters.STAKE_SQL}")

# The freeze: both wallet rows in one UPDATE (the available one only if it holds enough);
# fewer than two rows back means the money is not there (or a wallet is missing).
_FREEZE = text(
    "UPDATE accounts SET balance = balance + CASE WHEN code = :available THEN -:amount "
    "ELSE :amount END "
    "WHERE (code = :available AND balance >= :amount) OR code = :frozen "
    "RETURNING id, code, balance"
)

_LEGS = text(
    "INSERT INTO postings (entry_id, account_id, amount, balance_after) VALUES "
    "(:entry, :available_id, :amount, :available_after), "
    "(:entry, :frozen_id, -:amount, :frozen_after)"
)

_RECORD = stamped(
    "INSERT INTO investments (listing_id, investor_id, amount_fen, status, source, "
    "subscribed_on, created_at) VALUES (:listing, :user, :amount, :status, :source, :today, "
    ":now) RETURNING id"
)


def invest(uow: UnitOfWork, cmd: Invest, rules: InvestingRules) -> Invested:
    terms = terms_of(uow, cmd.listing_id, rules)
    if terms is None:
        raise NotFound(f"no listing {cmd.listing_id}", field="listing_id")
    today = uow.clock.today()
    checks = uow.s.execute(_CHECKS, {"user": cmd.investor_id, "listing": cmd.listing_id}).one()

    def refuse(code: str, **facts: Any) -> BiaodiError:
        return refusal(code, facts, terms, cmd.amount, today, rules)

    check_open(checks.status, checks.remaining_fen, terms.funding_deadline, today,
               terms.listing_id)
    if not checks.investor:
        raise refuse("role_required")
    if terms.applicant_id == cmd.investor_id:
        raise refuse("self_investment")
    check_suitable(InvestorLevel(checks.level) if checks.level is not None else None,
                   checks.valid_until, today, terms.risk, cmd.amount,
                   Money(int(checks.outstanding)), rules.level_limits)
    policy_for(terms.kind).funding_rules(rules.listing.config).check_ticket(
        cmd.amount, Money(checks.remaining_fen))
    usable = (coupons.check_for_investment(uow, cmd.investor_id, cmd.coupon_ids,
                                           terms.listing_id, cmd.amount, cmd.source)
              if cmd.coupon_ids else None)

    remaining = uow.s.execute(_TAKE, {"amount": cmd.amount.fen, "id": terms.listing_id}).scalar()
    if remaining is None:
        raise refuse("listing_full")
    counters.lock_exposure(uow, cmd.investor_id)
    entry = None if terms.settles_on_subscription else _freeze(uow, cmd, refuse)
    already = int(uow.s.execute(_ALREADY, {"listing": terms.listing_id,
                                           "user": cmd.investor_id}).scalar() or 0)
    if already + cmd.amount.fen > terms.cap_fen:
        raise refuse("investor_cap_exceeded", already=already)
    status = "settled" if terms.settles_on_subscription else "frozen"
    investment_id = int(uow.s.execute(_RECORD, {
        "listing": terms.listing_id, "user": cmd.investor_id, "amount": cmd.amount.fen,
        "status": status, "source": cmd.source, "today": today, "now": uow.clock.now(),
    }).scalar_one())
    if usable is not None:
        coupons.consume(uow, usable, investment_id, cmd.investor_id)

    audit.note(uow, "investment.placed",
               subjects=[("listing", terms.listing_id), ("user", cmd.investor_id)],
               changes=placed_changes(cmd.amount, investment_id, entry, int(remaining), status))
    listing_status = "published"
    if terms.settles_on_subscription or remaining == 0:
        listing = fresh_listing(uow, terms.listing_id)
        if terms.settles_on_subscription:
            settle_subscription(uow, listing, uow.s.get_one(Investment, investment_id), rules)
        if remaining == 0:
            complete_funding(uow, listing, rules)
        listing_status = listing.status
    return Invested(investment_id, terms.listing_id, cmd.amount, Money(int(remaining)),
                    listing_status, status=status)


def _freeze(uow: UnitOfWork, cmd: Invest, refuse: Any) -> int:
    """The `investment_freeze` entry; its id."""
    available = wallet(OwnerKind.INVESTOR, cmd.investor_id).code
    frozen = wallet(OwnerKind.INVESTOR, cmd.investor_id, "frozen").code
    moved = {row.code: row for row in uow.s.execute(_FREEZE, {
        "amount": cmd.amount.fen, "available": available, "frozen": frozen})}
    if available not in moved:
        raise refuse("insufficient_balance", user_id=cmd.investor_id)
    if frozen not in moved:
        raise refuse("no_account", account=frozen)
    entry = ledger.entry_row(uow, "investment_freeze", f"listing {cmd.listing_id}")
    uow.s.execute(_LEGS, {"entry": entry, "amount": cmd.amount.fen,
                          "available_id": moved[available].id,
                          "available_after": moved[available].balance,
                          "frozen_id": moved[frozen].id, "frozen_after": moved[frozen].balance})
    return int(entry)


def fresh_listing(uow: UnitOfWork, listing_id: int) -> Listing:
    """The listing as an ORM object with what the database holds now (the hot row moved under
    any copy loaded earlier in this session)."""
    loaded = uow.s.identity_map.get(identity_key(Listing, listing_id))
    if loaded is not None:
        uow.s.refresh(loaded)
        return loaded  # type: ignore[no-any-return]
    return uow.s.get_one(Listing, listing_id)
