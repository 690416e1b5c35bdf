"""Full funding, disbursement and failed listings.

Disbursement is one journal entry (kind `disbursement`), in the transaction that takes the
last amount or that closes the funding window — for a type whose subscriptions settle at once
(流转标), in the transaction of each subscription, for that subscription alone:
- each investor's frozen money: debit `investor:N:frozen` (at once: `investor:N:available`);
- the applicant (borrower, or originator for 流转标): credit `<role>:N:available` with the full
  amount funded — fees are never taken off the principal; they are yearly rates charged with
  each instalment (`domain.listings.fees`, collected by servicing);
- the claims: debit `holding:H:principal` per holding, credit `loan:L:principal_payable`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Date, Integer, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from biaodi.adapters import faults
from biaodi.adapters.db.tables import (
    Holding,
    HoldingInstalment,
    Investment,
    Listing,
    LoanInstalment,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.holdings import split_interest, split_principal, subscription_shares
from biaodi.domain.ledger.rules import AccountSpec, AccountType, EntryDraft, OwnerKind, wallet
from biaodi.domain.listings import policy_for
from biaodi.domain.listings.fees import fee_schedule, fees_on
from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.shared.errors import BiaodiError, InsufficientBalance
from biaodi.domain.shared.money import Money
from biaodi.services.incentives import coupons
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import bulk as ledger_bulk
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings import borrowing
from biaodi.services.listings import lifecycle as listings
from biaodi.services.shared.rates import ppm_to_rate
from biaodi.services.shared.sqlkit import stamped
from biaodi.services.shared.tx import in_transaction


def holding_account(holding_id: int) -> AccountSpec:
    """What the loan owes one holding: the investor's claim, an asset of theirs."""
    return AccountSpec(f"holding:{holding_id}:principal", AccountType.ASSET, OwnerKind.HOLDING,
                       holding_id, "principal", True)


def loan_account(listing_id: int) -> AccountSpec:
    """What the borrower owes on the loan's principal."""
    return AccountSpec(f"loan:{listing_id}:principal_payable", AccountType.LIABILITY,
                       OwnerKind.LOAN, listing_id, "principal_payable", True)


def applicant_wallet(listing: Listing) -> str:
    role = policy_for(listing.kind).applicant_role
    return wallet(OwnerKind(role), listing.applicant_id).code


def complete_funding(uow: UnitOfWork, listing: Listing, rules: InvestingRules) -> None:
    """Funded: holdings with exact shares, loan schedule, disbursement; 秒标 repaid at once.
    An applicant screened out right before disbursement (blacklisted since publication, or
    past a borrowing cap) fails the listing instead, and every investor is refunded. A listing
    whose subscriptions settled at once (流转标) is only closed at what was sold."""
    policy = policy_for(listing.kind)
    if policy.funding_rules(rules.listing.config).settles_on_subscription:
        _close_settled(uow, listing)
        return
    try:
        borrowing.check_listing(uow, listing, rules.listing,
                                amount=Money(listing.amount_fen - listing.remaining_fen))
        if rules.screen_applicant is not None:
            rules.screen_applicant(uow, listing.applicant_id)
    except BiaodiError as refusal:
        refund(uow, listing)
        listings.advance(uow, listing.id, "failed", actor_id=None,
                         reason=f"not disbursed: {refusal.message}")
        return
    today = uow.clock.today()
    funded = listing.amount_fen - listing.remaining_fen
    listings.advance(uow, listing.id, "funded", actor_id=None,
                     reason=f"raised {Money(funded)} of {Money(listing.amount_fen)}")
    listing.funded_fen, listing.funded_at, listing.remaining_fen = funded, uow.clock.now(), 0
    uow.s.flush()

    # Every frozen investment becomes a holding, in investment order, in one statement.
    holdings = sorted(uow.s.execute(_HOLDINGS, {"listing": listing.id, "today": today,
                                                "now": uow.clock.now()}).all(),
                      key=lambda h: h.investment_id)
    faults.point("funding.holdings")
    uow.s.execute(update(Investment).where(Investment.listing_id == listing.id,
                                           Investment.status == "frozen")
                  .values(status="settled"))
    schedule = build_schedule(Money(funded), listings.terms_of(listing).annual_rate,
                              listing.term, listing.term_unit, listing.repayment_method, today)
    due_dates = [row.due_date for row in schedule]

    weights = [h.principal_fen for h in holdings]
    principal = split_principal([r.principal.fen for r in schedule], weights)
    interest = split_interest([r.interest.fen for r in schedule], weights)
    shares = [list(zip(principal[h], interest[h], strict=True)) for h in range(len(holdings))]
    loan_rows = [(r.principal.fen, r.interest.fen) for r in schedule]

    fees = fee_schedule(schedule, Money(funded), ppm_to_rate(listing.service_fee_ppm),
                        ppm_to_rate(listing.guarantee_fee_ppm), listing.term, listing.term_unit,
                        listing.repayment_method)
    # Core inserts (the driver's executemany), not the ORM's bulk path: a listing of a few
    # hundred tickets has thousands of instalment shares.
    connection = uow.s.connection()
    connection.execute(LoanInstalment.__table__.insert(), [
        {"listing_id": listing.id, "seq": k + 1, "due_date": due_dates[k],
         "principal_fen": p, "interest_fen": i, "service_fee_fen": fees[k].service.fen,
         "guarantee_fee_fen": fees[k].guarantee.fen, "status": "scheduled"}
        for k, (p, i) in enumerate(loan_rows)])
    if connection.dialect.name == "postgresql":  # one statement, the shares as arrays
        n = len(due_dates)
        connection.execute(_HOLDING_SHARES, {
            "holding": [h.id for h in holdings for _ in range(n)],
            "seq": list(range(1, n + 1)) * len(holdings),
            "principal": [p for rows in shares for p, _ in rows],
            "interest": [i for rows in shares for _, i in rows],
            "due": due_dates})
    else:
        connection.execute(HoldingInstalment.__table__.insert(), [
            {"holding_id": h.id, "seq": k + 1, "due_date": due_dates[k], "principal_fen": p,
             "interest_fen": i, "status": "scheduled"}
            for h, rows in zip(holdings, shares, strict=True) for k, (p, i) in enumerate(rows)])

    _disburse_all(uow, listing, funded)
    faults.point("funding.disbursed")
    listings.advance(uow, listing.id, "repaying", actor_id=None,
                     reason=f"disbursed {Money(funded)} to the applicant")
    if policy.settles_on_funding:
        _settle_at_once(uow, listing, holdings, loan_rows)


#: PostgreSQL: every holding's share of every instalment in one INSERT (thousands of rows for
#: a listing of a few hundred tickets), the due dates by instalment number.
_HOLDING_SHARES = text(
    "INSERT INTO holding_instalments (holding_id, seq, due_date, principal_fen, interest_fen, "
    "status) SELECT s.holding, s.seq, d.due, s.principal, s.interest, 'scheduled' "
    "FROM unnest(:holding, :seq, :principal, :interest) AS s(holding, seq, principal, interest) "
    "JOIN unnest(:due) WITH ORDINALITY AS d(due, seq) ON d.seq = s.seq"
).bindparams(bindparam("holding", type_=ARRAY(BigInteger)),
             bindparam("seq", type_=ARRAY(Integer)),
             bindparam("principal", type_=ARRAY(BigInteger)),
             bindparam("interest", type_=ARRAY(BigInteger)),
             bindparam("due", type_=ARRAY(Date)))

_HOLDINGS = stamped(
    "INSERT INTO holdings (listing_id, investor_id, investment_id, principal_fen, "
    "outstanding_principal_fen, interest_start, status, created_at) "
    "SELECT listing_id, investor_id, id, amount_fen, amount_fen, :today, 'active', :now "
    "FROM investments WHERE listing_id = :listing AND status = 'frozen' ORDER BY id "
    "RETURNING id, investment_id, investor_id, principal_fen"
)

_OPEN_CLAIMS = stamped(
    "INSERT INTO accounts (code, type, owner_kind, owner_id, purpose, non_negative, balance, "
    "created_at) SELECT 'holding:' || id || ':' || 'principal', :type, :owner_kind, id, "
    "'principal', :non_negative, 0, :now FROM holdings WHERE listing_id = :listing AND true "
    "ON CONFLICT (code) DO NOTHING"
)


def _disburse_all(uow: UnitOfWork, listing: Listing, funded: int) -> None:
    """The `disbursement` entry of a funded listing, set-based whatever its number of
    holdings: each investor's frozen money (debit `investor:N:frozen`), the applicant paid the
    full amount (credit), each holding's claim (debit `holding:H:principal`) against the
    loan's principal (credit `loan:L:principal_payable`) — the legs chosen by one SELECT and
    posted by `ledger.bulk.post_legs` (balances moved by one aggregated UPDATE)."""
    holding = holding_account(0)
    ledger.open_accounts(uow, [loan_account(listing.id)])
    uow.s.execute(_OPEN_CLAIMS, {"type": holding.type.value, "owner_kind": holding.owner_kind.value,
                                 "non_negative": holding.non_negative, "now": uow.clock.now(),
                                 "listing": listing.id})
    entry = ledger.entry_row(uow, "disbursement", f"listing {listing.id} funded",
                             f"disbursement:{listing.id}")
    ledger_bulk.post_legs(
        uow,
        """SELECT :entry AS entry_id, a.id AS account_id, h.principal_fen AS amount, 1 AS leg
           FROM holdings h
           JOIN accounts a ON a.code = 'investor:' || h.investor_id || ':' || 'frozen'
           WHERE h.listing_id = :listing
           UNION ALL
           SELECT :entry, a.id, -:funded, 2 FROM accounts a WHERE a.code = :applicant
           UNION ALL
           SELECT :entry, a.id, h.principal_fen, 3
           FROM holdings h JOIN accounts a ON a.code = 'holding:' || h.id || ':' || 'principal'
           WHERE h.listing_id = :listing
           UNION ALL
           SELECT :entry, a.id, -:funded, 4 FROM accounts a WHERE a.code = :loan""",
        "SELECT :entry AS entry_id",
        entry=entry, listing=listing.id, funded=funded, applicant=applicant_wallet(listing),
        loan=loan_account(listing.id).code)


def settle_subscription(uow: UnitOfWork, listing: Listing, investment: Investment,
                        rules: InvestingRules) -> Holding:
    """流转标: a subscription settles at once. The applicant is screened (blacklisted since
    publication: the subscription is refused); the investment becomes a holding earning
    interest from today, with its own share of every instalment of the schedule counted from
    publication (`subscription_shares`); and one `disbursement` entry pays it over: debit
    `investor:N:available`, credit the originator with all of it, the claim recorded
    as `holding:H:principal` against `loan:L:principal_payable`."""
    if rules.screen_applicant is not None:
        rules.screen_applicant(uow, listing.applicant_id)
    terms = listings.terms_of(listing)
    start = listing.published_at.date() if listing.published_at else uow.clock.today()
    due_dates = [row.due_date for row in build_schedule(
        Money(investment.amount_fen), terms.annual_rate, listing.term, listing.term_unit,
        listing.repayment_method, start)]
    holding = Holding(listing_id=listing.id, investor_id=investment.investor_id,
                      investment_id=investment.id, principal_fen=investment.amount_fen,
                      outstanding_principal_fen=investment.amount_fen,
                      interest_start=investment.subscribed_on, status="active",
                      created_at=uow.clock.now())
    uow.s.add(holding)
    uow.s.flush()
    shares = subscription_shares(holding.principal_fen, terms.annual_rate,
                                 holding.interest_start, start, due_dates)
    uow.s.execute(insert(HoldingInstalment), [
        {"holding_id": holding.id, "seq": k + 1, "due_date": due_dates[k], "principal_fen": p,
         "interest_fen": i, "status": "scheduled"} for k, (p, i) in enumerate(shares)])
    _disburse(uow, listing, [investment], [holding], investment.amount_fen,
              paid_from="available", key=f"subscription:{investment.id}",
              memo=f"listing {listing.id}: subscription {investment.id} paid over")
    return holding


def _close_settled(uow: UnitOfWork, listing: Listing) -> None:
    """Close a listing whose subscriptions settled at once, at what was sold (full, or the
    window ended part-sold): the loan's instalments are the sums of its holdings' shares; no
    money moves, nothing is refunded, and the unsold part stays with the originator."""
    funded = listing.amount_fen - listing.remaining_fen
    listings.advance(uow, listing.id, "funded", actor_id=None,
                     reason=f"sold {Money(funded)} of {Money(listing.amount_fen)}")
    listing.funded_fen, listing.funded_at, listing.remaining_fen = funded, uow.clock.now(), 0
    rows = uow.s.execute(
        select(HoldingInstalment.seq, func.min(HoldingInstalment.due_date),
               func.sum(HoldingInstalment.principal_fen), func.sum(HoldingInstalment.interest_fen))
        .join(Holding, Holding.id == HoldingInstalment.holding_id)
        .where(Holding.listing_id == listing.id)
        .group_by(HoldingInstalment.seq).order_by(HoldingInstalment.seq)).all()
    fees = fees_on([int(p) for _, _, p, _ in rows], funded, ppm_to_rate(listing.service_fee_ppm),
                   ppm_to_rate(listing.guarantee_fee_ppm), listing.term, listing.term_unit,
                   listing.repayment_method)
    uow.s.execute(insert(LoanInstalment), [
        {"listing_id": listing.id, "seq": seq, "due_date": due, "principal_fen": int(p),
         "interest_fen": int(i), "service_fee_fen": fee.service.fen,
         "guarantee_fee_fen": fee.guarantee.fen, "status": "scheduled"}
        for (seq, due, p, i), fee in zip(rows, fees, strict=True)])
    listings.advance(uow, listing.id, "repaying", actor_id=None,
                     reason=f"{Money(funded)} paid over to the applicant as subscribed")


def _disburse(uow: UnitOfWork, listing: Listing, investments: list[Investment],
              holdings: list[Holding], funded: int, *,
              paid_from: str = "frozen", key: str | None = None,
              memo: str | None = None) -> None:
    ledger.open_accounts(uow, [loan_account(listing.id)] +
                         [holding_account(h.id) for h in holdings])
    draft = EntryDraft("disbursement", memo=memo or f"listing {listing.id} funded")
    for investment in investments:
        draft.debit(wallet(OwnerKind.INVESTOR, investment.investor_id, paid_from).code,
                    investment.amount_fen)
    draft.credit(applicant_wallet(listing), funded)
    for holding in holdings:
        draft.debit(holding_account(holding.id).code, holding.principal_fen)
    draft.credit(loan_account(listing.id).code, funded)
    ledger.post(uow, draft, idempotency_key=key or f"disbursement:{listing.id}")


def _settle_at_once(uow: UnitOfWork, listing: Listing, holdings: list[Any],
                    loan_rows: list[tuple[int, int]]) -> None:
    """秒标: the applicant repays principal and interest right after funding, if its wallet
    can; otherwise the loan stays repaying and servicing treats the instalment as due."""
    principal = sum(p for p, _ in loan_rows)
    interest = sum(i for _, i in loan_rows)
    shares = uow.s.execute(select(HoldingInstalment.holding_id, HoldingInstalment.principal_fen,
                                  HoldingInstalment.interest_fen)
                           .where(HoldingInstalment.holding_id.in_([h.id for h in holdings])))
    draft = EntryDraft("instant_repayment", memo=f"秒标 {listing.id} repaid on funding")
    draft.debit(applicant_wallet(listing), principal + interest)
    draft.debit(loan_account(listing.id).code, principal)
    by_holding = {h.id: h for h in holdings}
    for holding_id, p, i in shares:
        draft.credit(wallet(OwnerKind.INVESTOR, by_holding[holding_id].investor_id).code, p + i)
        if p:
            draft.credit(holding_account(holding_id).code, p)
    savepoint = uow.s.begin_nested()
    try:
        ledger.post(uow, draft, idempotency_key=f"instant_repayment:{listing.id}")
    except InsufficientBalance:
        savepoint.rollback()
        return
    savepoint.commit()
    uow.s.execute(update(Holding).where(Holding.listing_id == listing.id)
                  .values(outstanding_principal_fen=0, status="settled"))
    uow.s.execute(update(LoanInstalment).where(LoanInstalment.listing_id == listing.id)
                  .values(status="paid"))
    uow.s.execute(update(HoldingInstalment).where(
        HoldingInstalment.holding_id.in_([h.id for h in holdings])).values(status="paid"))
    listings.advance(uow, listing.id, "settled", actor_id=None, reason="秒标 repaid at once")


def close_funding_window(uow: UnitOfWork, listing_id: int, rules: InvestingRules) -> str:
    """At the deadline: funded (full, or partial where the type accepts it; at whatever was
    sold where subscriptions settled at once) or failed with every frozen amount returned
    (nothing, where nothing was sold). Returns the listing's new status."""
    listing = listings.get_listing(uow, listing_id, for_update=True)
    if listing.status != "published":
        return listing.status
    sold_out = listing.remaining_fen == 0  # the last ticket's completion never ran
    if (not sold_out and listing.funding_deadline is not None
            and uow.clock.today() < listing.funding_deadline):
        return listing.status  # the window is still open
    policy = policy_for(listing.kind)
    raised = Money(listing.amount_fen - listing.remaining_fen)
    funding = policy.funding_rules(rules.listing.config)
    if raised.fen > 0 and funding.succeeds_with(raised, Money(listing.amount_fen)):
        complete_funding(uow, listing, rules)
        return listing.status
    refund(uow, listing)
    listings.advance(uow, listing.id, "failed", actor_id=None,
                     reason=f"funding deadline {listing.funding_deadline} passed with"
                            f" {raised} of {Money(listing.amount_fen)} raised")
    return "failed"


def complete_sold_out(uow: UnitOfWork, listing_id: int, rules: InvestingRules) -> Listing:
    """Complete the funding of a listing whose last ticket was taken, unless done already: the
    listing row locked, so it runs once however many callers find it sold out."""
    listing = listings.get_listing(uow, listing_id, for_update=True)
    if listing.status == "published" and listing.remaining_fen == 0:
        complete_funding(uow, listing, rules)
    return listing


def complete_all_sold_out(uow_factory: Callable[[], UnitOfWork],
                          rules: InvestingRules) -> list[int]:
    """Every listing sold out but not completed — the process stopped between the last
    ticket and its completion (`one_trip`) — completed now, one transaction each. The server
    runs this when it starts; close of business also finds them (`due_for_closing`)."""
    with uow_factory() as uow:
        found = list(uow.s.scalars(select(Listing.id).where(
            Listing.status == "published", Listing.remaining_fen == 0).order_by(Listing.id)))
    for listing_id in found:
        in_transaction(uow_factory, lambda uow, i=listing_id: complete_sold_out(uow, i, rules))
    return found


def refund(uow: UnitOfWork, listing: Listing) -> None:
    """Return every frozen amount: debit `investor:N:frozen`, credit `investor:N:available`;
    cash coupons used with the refunded investments are given back (`coupons.give_back_on_refund`).
    The investments are marked first (their triggers move the investors' exposure), then the
    wallets: exposure before wallets, the order every investment takes them in."""
    frozen = uow.s.scalars(select(Investment).where(
        Investment.listing_id == listing.id, Investment.status == "frozen")).all()
    if frozen:
        draft = EntryDraft("funding_refund", memo=f"listing {listing.id} failed")
        for investment in frozen:
            draft.transfer(wallet(OwnerKind.INVESTOR, investment.investor_id, "frozen").code,
                           wallet(OwnerKind.INVESTOR, investment.investor_id).code,
                           investment.amount_fen)
        uow.s.execute(update(Investment).where(Investment.listing_id == listing.id,
                                               Investment.status == "frozen")
                      .values(status="refunded"))
        ledger.post(uow, draft, idempotency_key=f"funding_refund:{listing.id}")
        coupons.give_back_on_refund(uow, listing.id)
    listing.remaining_fen = 0


def due_for_closing(uow: UnitOfWork, today: date) -> list[int]:
    """Published listings whose funding window has ended (the deadline day itself is closed),
    and those sold out whose completion never ran (the process stopped between the last
    ticket and its disbursement: `one_trip`)."""
    return list(uow.s.scalars(select(Listing.id).where(
        Listing.status == "published",
        (Listing.funding_deadline <= today) | (Listing.remaining_fen == 0),
    ).order_by(Listing.id)))
