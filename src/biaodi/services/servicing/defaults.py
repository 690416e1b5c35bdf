"""What happens when a borrower fails: one path per listing policy's `default_action`, found in
the dispatch table `PATHS` (never by asking a listing's type).

* guarantor_compensation (担保标): at the guarantor's deadline (days past due of what holders
  are owed ≥ its `compensation_days`) the guarantor pays holders the overdue principal and
  interest; at M3+ (when the product says so) the whole remaining principal. The guarantor
  takes over the claim (subrogation) and recovers after holders are whole.
* collateral_disposal (抵押标): at M3+ the loan is accelerated and goes to disposal; an
  operator records the sale (`record_disposal`) and the waterfall pays costs → penalty →
  interest → principal; a surplus returns to the borrower, a shortfall is written off.
* originator_buyback (流转标): at maturity (anything unpaid) or at default (M3+) the
  originator buys the claim back at principal plus accrued interest, from its buy-back
  reserve first, then its wallet; what it cannot pay is written off.
* write_off (信用标, 秒标): at M3+ the claims are written off as the holders' loss; later
  recoveries still reach them.

Each event moves money only through the ledger (see docs/SERVICING.md for the entries).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from sqlalchemy import select, update

from biaodi.adapters.db.servicing_tables import (
    CollateralDisposal,
    Repayment,
    RepaymentShare,
    ServicingPosition,
)
from biaodi.adapters.db.tables import Holding, HoldingInstalment, Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import (
    EntryDraft,
    OwnerKind,
    claim_account,
    platform_account,
    wallet,
    written_off_account,
)
from biaodi.domain.listings import DefaultAction, policy_for
from biaodi.domain.listings.lifecycle import ListingStatus as S
from biaodi.domain.servicing.accrual import accrued
from biaodi.domain.servicing.allocation import (
    HOLDERS_TIER,
    SUBROGATION_TIER,
    WATERFALL_ORDER,
    AllocationOrder,
    Component,
    Creditor,
    distribute,
)
from biaodi.domain.servicing.buckets import DEFAULT_BUCKET
from biaodi.domain.servicing.waterfall import Waterfall, waterfall
from biaodi.domain.shared.errors import Conflict, NotFound
from biaodi.domain.shared.money import Money, allocate_largest_remainder
from biaodi.services.ledger import posting as ledger
from biaodi.services.servicing import loan as loans
from biaodi.services.servicing.collect import Collection, collect
from biaodi.services.servicing.delinquency import late, refresh
from biaodi.services.servicing.rules import ServicingRules
from biaodi.services.servicing.settle import settle
from biaodi.services.shared.sqlkit import Sql, rows, tune

DEFAULTED = (S.OVERDUE, S.DEFAULTED)


# --- acceleration ---------------------------------------------------------------------------
def accelerate(uow: UnitOfWork, listing_id: int, day: date, reason: str) -> None:
    """Everything falls due now (加速到期): the remaining principal and the interest accrued in
    the current period; later scheduled interest is cancelled. Idempotent."""
    loan = loans.state(uow, listing_id, lock=True)
    if loan.accelerated_on is not None:
        return
    rest = loans.remaining(uow, loan)
    if rest and loan.next_due_date is not None and loan.period_start is not None:
        total = accrued(loan.next_interest_fen or 0, loan.period_start, loan.next_due_date, day)
        holders = [p for p in loans.positions(uow, listing_id, tier=HOLDERS_TIER)
                   if p.holding_id is not None]
        seqs = [r.seq for r in rest]
        shares = loans.holding_rows(uow, [p.holding_id for p in holders], seqs)  # type: ignore[misc]
        first = seqs[0]
        weights = [shares[(p.holding_id, first)].interest_fen for p in holders]  # type: ignore[index]
        if not any(weights):
            weights = [p.outstanding_principal_fen for p in holders]
        interest = (allocate_largest_remainder(total, weights) if total and any(weights)
                    else [0] * len(holders))
        principal = {p.id: sum(shares[(p.holding_id, s)].principal_fen for s in seqs)  # type: ignore[index]
                     for p in holders}

        def change() -> None:
            for index, row in enumerate(rest):
                row.interest_fen = total if index == 0 else 0
                row.due_date, row.status = day, "due"
            for position, part in zip(holders, interest, strict=True):
                for seq in seqs:
                    share: HoldingInstalment = shares[(position.holding_id, seq)]  # type: ignore[index]
                    share.interest_fen = part if seq == first else 0
                    share.due_date, share.status = day, "due"
                position.due_interest_fen += part
                position.due_principal_fen += principal[position.id]

        loans.revise(uow, listing_id, day, reason, rest, change)
        loan.due_interest_fen += total
        loan.due_principal_fen += sum(principal.values())
        loans.recognise_interest(uow, loan, {p.id: part for p, part in
                                             zip(holders, interest, strict=True)},
                                 f"accelerated:{day}")
    loan.next_seq = loan.next_due_date = loan.next_interest_fen = None
    loan.next_principal_fen = None
    loan.accrued_interest_fen = 0
    loan.oldest_due_date = loan.oldest_due_date or day
    loan.holders_oldest_due_date = loan.holders_oldest_due_date or day
    loan.accelerated_on = day
    loans.note(uow, loan, "accelerated", accelerated_on=day, reason=reason)
    uow.s.flush()


# --- write-off --------------------------------------------------------------------------
def write_off(uow: UnitOfWork, listing_id: int, day: date,
              tiers: tuple[int, ...] = (HOLDERS_TIER, SUBROGATION_TIER)) -> int:
    """Write off what creditors in `tiers` are still owed (`write_off`: debit
    `loss:L:written_off`, credit their claim accounts). Their positions keep the claim, now
    against the loss account, so later recoveries reach them and reduce the loss."""
    loan = loans.state(uow, listing_id, lock=True)
    owed = [p for p in loans.positions(uow, listing_id) if p.tier in tiers
            and p.status == "active" and p.due_principal_fen + p.due_interest_fen > 0]
    if not owed:
        return 0
    loss = written_off_account(listing_id)
    ledger.open_accounts(uow, [loss])
    names = loans.codes(uow, [a for p in owed for a in (p.principal_account_id,
                                                        p.interest_account_id)])
    total = sum(p.due_principal_fen + p.due_interest_fen for p in owed)
    draft = EntryDraft("write_off", memo=f"listing {listing_id} written off").debit(loss.code,
                                                                                    total)
    for p in owed:
        if p.due_interest_fen:
            draft.credit(names[p.interest_account_id], p.due_interest_fen)
        if p.due_principal_fen:
            draft.credit(names[p.principal_account_id], p.due_principal_fen)
    tiers_key = ",".join(map(str, tiers))
    ledger.post(uow, draft, idempotency_key=f"write_off:{listing_id}:{day}:{tiers_key}")
    loss_id = loans.codes_to_ids(uow, [loss.code])[loss.code]
    for p in owed:
        p.written_off_fen += p.due_principal_fen + p.due_interest_fen
        p.principal_account_id = p.interest_account_id = loss_id
        p.status = "written_off"
    holding_ids = [p.holding_id for p in owed if p.holding_id is not None]
    if holding_ids:
        uow.s.execute(update(Holding).where(Holding.id.in_(holding_ids))
                      .values(status="written_off"))
    loan.default_stage = "written_off"
    if all(p.status != "active" or p.due_principal_fen + p.due_interest_fen == 0
           for p in loans.positions(uow, listing_id)):
        loan.status = "written_off"
    loans.note(uow, loan, "written_off", written_off_fen=total, tiers=list(tiers))
    uow.s.flush()
    return total


def _write_off_loan(uow: UnitOfWork, listing_id: int, day: date, rules: ServicingRules) -> str:
    accelerate(uow, listing_id, day, "default")
    loan = loans.state(uow, listing_id, lock=True)
    loan.defaulted_on = day
    loans.walk(uow, listing_id, DEFAULTED, f"M3+ ({loan.days_past_due} days past due)")
    write_off(uow, listing_id, day)
    loans.walk(uow, listing_id, (S.WRITTEN_OFF,), "claims written off; recoveries continue")
    return "written_off"


# --- guarantor compensation (代偿) --------------------------------------------------------
def compensate(uow: UnitOfWork, listing_id: int, day: date, *, full: bool) -> int:
    """The guarantor pays holders what they are owed in interest and principal (not penalty),
    as far as its wallet allows, and takes over that claim. Returns the amount paid."""
    listing = uow.s.get(Listing, listing_id)
    if listing is None or listing.guarantor_id is None:
        raise NotFound(f"listing {listing_id} has no guarantor", field="listing_id")
    if full:
        accelerate(uow, listing_id, day, "guarantor_full_compensation")
    loan = loans.state(uow, listing_id, lock=True)
    holders = [p for p in loans.positions(uow, listing_id, tier=HOLDERS_TIER)
               if p.status == "active" and p.due_interest_fen + p.due_principal_fen > 0]
    guarantor = listing.guarantor_id
    purse = wallet(OwnerKind.GUARANTOR, guarantor)
    owed = sum(p.due_interest_fen + p.due_principal_fen for p in holders)
    paid = min(owed, ledger.balance(uow, purse.code))
    if paid <= 0:
        return 0
    order = AllocationOrder((*(c for c in loans.order_of(loan).components
                               if c is not Component.PENALTY), Component.PENALTY))
    shares = distribute(paid, [Creditor(p.id, HOLDERS_TIER, {
        Component.INTEREST: p.due_interest_fen, Component.PRINCIPAL: p.due_principal_fen})
        for p in holders], order)
    subrogation = claim_account(OwnerKind.GUARANTOR, guarantor, "subrogation")
    ledger.open_accounts(uow, [subrogation])
    ids = loans.codes_to_ids(uow, [purse.code, subrogation.code])
    claim = _guarantor_position(uow, listing_id, guarantor, ids[purse.code], ids[subrogation.code])
    names = loans.codes(uow, [a for p in holders for a in (p.wallet_account_id,
                                                           p.principal_account_id,
                                                           p.interest_account_id)])
    interest = sum(s[Component.INTEREST] for s in shares.values())
    principal = sum(s[Component.PRINCIPAL] for s in shares.values())
    key = f"guarantor_compensation:{listing_id}:{day}:{'full' if full else 'due'}"
    draft = EntryDraft("guarantor_compensation", memo=f"listing {listing_id} guarantor {guarantor}")
    draft.debit(purse.code, paid).debit(subrogation.code, paid)
    for p in holders:
        share = shares[p.id]
        got_interest, got_principal = share[Component.INTEREST], share[Component.PRINCIPAL]
        if got_interest + got_principal == 0:
            continue
        draft.credit(names[p.wallet_account_id], got_interest + got_principal)
        if got_interest:
            draft.credit(names[p.interest_account_id], got_interest)
        if got_principal:
            draft.credit(names[p.principal_account_id], got_principal)
    posted = ledger.post(uow, draft, idempotency_key=key)
    if posted.replayed:
        return 0
    record = Repayment(key=key, batch=uuid.uuid4().hex, listing_id=listing_id, business_date=day,
                       source="guarantor", payer_account_id=ids[purse.code], amount_fen=paid,
                       penalty_fen=0, interest_fen=interest, principal_fen=principal,
                       entry_id=posted.entry_id, created_at=uow.clock.now())
    uow.s.add(record)
    uow.s.flush()
    for p in holders:
        share = shares[p.id]
        got_interest, got_principal = share[Component.INTEREST], share[Component.PRINCIPAL]
        if got_interest + got_principal == 0:
            continue
        uow.s.add(RepaymentShare(repayment_id=record.id, position_id=p.id, penalty_fen=0,
                                 interest_fen=got_interest, principal_fen=got_principal))
        p.due_interest_fen -= got_interest
        p.due_principal_fen -= got_principal
        p.outstanding_principal_fen -= got_principal
        p.received_interest_fen += got_interest
        p.received_principal_fen += got_principal
        if p.holding_id is not None and got_principal:
            uow.s.execute(update(Holding).where(Holding.id == p.holding_id).values(
                outstanding_principal_fen=Holding.outstanding_principal_fen - got_principal))
    claim.due_interest_fen += interest
    claim.due_principal_fen += principal
    claim.outstanding_principal_fen += principal
    uow.s.flush()
    refresh(uow, day, listing_id, listing_id)
    return paid


def _guarantor_position(uow: UnitOfWork, listing_id: int, guarantor: int, wallet_id: int,
                        claim_id: int) -> ServicingPosition:
    found = [p for p in loans.positions(uow, listing_id, tier=SUBROGATION_TIER)
             if p.creditor_kind == "guarantor" and p.creditor_id == guarantor]
    if found:
        return found[0]
    position = ServicingPosition(
        listing_id=listing_id, holding_id=None, creditor_kind="guarantor", creditor_id=guarantor,
        tier=SUBROGATION_TIER, wallet_account_id=wallet_id, principal_account_id=claim_id,
        interest_account_id=claim_id, outstanding_principal_fen=0, due_principal_fen=0,
        due_interest_fen=0, penalty_fen=0, received_principal_fen=0, received_interest_fen=0,
        received_penalty_fen=0, written_off_fen=0, days_past_due=0, bucket="current",
        status="active")
    uow.s.add(position)
    uow.s.flush()
    return position


def _guarantor_deadline(uow: UnitOfWork, listing_id: int, day: date,
                        rules: ServicingRules) -> str:
    return "compensated" if compensate(uow, listing_id, day, full=False) else "guarantor_short"


def _guarantor_full(uow: UnitOfWork, listing_id: int, day: date, rules: ServicingRules) -> str:
    compensate(uow, listing_id, day, full=True)
    loan = loans.state(uow, listing_id, lock=True)
    loan.defaulted_on, loan.default_stage = day, "compensated"
    loan.status = "defaulted"
    loans.note(uow, loan, "defaulted", defaulted_on=day, path="guarantor_full")
    loans.walk(uow, listing_id, DEFAULTED, "M3+: the guarantor pays the remaining principal")
    if _holders_owed(uow, listing_id):
        write_off(uow, listing_id, day, tiers=(HOLDERS_TIER,))
        loans.walk(uow, listing_id, (S.WRITTEN_OFF,), "the guarantor could not pay it all")
    else:
        loans.walk(uow, listing_id, (S.RECOVERED,), "holders paid in full by the guarantor")
    return "compensated_in_full"


def _holders_owed(uow: UnitOfWork, listing_id: int) -> int:
    return sum(p.due_principal_fen + p.due_interest_fen
               for p in loans.positions(uow, listing_id, tier=HOLDERS_TIER)
               if p.status == "active")


# --- collateral disposal (抵押物处置) ------------------------------------------------------
def _open_disposal(uow: UnitOfWork, listing_id: int, day: date, rules: ServicingRules) -> str:
    accelerate(uow, listing_id, day, "default")
    loan = loans.state(uow, listing_id, lock=True)
    loan.status, loan.default_stage, loan.defaulted_on = "disposal", "disposal", day
    loans.note(uow, loan, "defaulted", defaulted_on=day, path="disposal")
    loans.walk(uow, listing_id, DEFAULTED, "M3+: the collateral goes to disposal")
    uow.s.add(CollateralDisposal(listing_id=listing_id, status="pending", opened_on=day))
    uow.s.flush()
    return "disposal"


@dataclass(frozen=True)
class RecordDisposal:
    listing_id: int
    proceeds: Money
    costs: Money
    reference: str
    operator_id: int


def record_disposal(uow: UnitOfWork, cmd: RecordDisposal) -> CollateralDisposal:
    """An operator records the sale: the waterfall pays the holders out of the proceeds
    (`collateral_disposal`: debit `custody:cash`, the proceeds arrive in custody), returns a
    surplus to the borrower (`disposal_surplus`) and writes off any shortfall."""
    tune(uow)
    found = uow.s.execute(select(CollateralDisposal).where(
        CollateralDisposal.listing_id == cmd.listing_id).with_for_update()).scalar_one_or_none()
    if found is None or found.status != "pending":
        raise Conflict(f"listing {cmd.listing_id} has no collateral disposal pending",
                       code="no_disposal_pending", field="listing_id")
    day = uow.clock.today()
    loan = loans.state(uow, cmd.listing_id, lock=True)
    plan: Waterfall = waterfall(cmd.proceeds.fen, cmd.costs.fen, loan.penalty_fen,
                                loan.due_interest_fen, loan.due_principal_fen)
    custody = loans.codes_to_ids(uow, [platform_account("custody:cash").code])["custody:cash"]
    if plan.to_creditors:
        collect(uow, day, cmd.listing_id, cmd.listing_id, Collection(
            source="disposal", kind="collateral_disposal", key=f"disposal:{cmd.listing_id}",
            batch=uuid.uuid4().hex, payer_account_id=custody, cap=plan.to_creditors,
            limit_to_balance=False, order=AllocationOrder(WATERFALL_ORDER)))
    if plan.surplus:
        borrower = loans.codes(uow, [loan.payer_account_id])[loan.payer_account_id]
        ledger.post(uow, EntryDraft("disposal_surplus", memo=f"listing {cmd.listing_id}")
                    .transfer("custody:cash", borrower, plan.surplus),
                    idempotency_key=f"disposal_surplus:{cmd.listing_id}")
    found.status, found.proceeds_fen, found.costs_fen = "settled", cmd.proceeds.fen, cmd.costs.fen
    found.penalty_fen, found.interest_fen = plan.penalty, plan.interest
    found.principal_fen, found.surplus_fen, found.shortfall_fen = (
        plan.principal, plan.surplus, plan.shortfall)
    found.reference, found.recorded_by = cmd.reference.strip(), cmd.operator_id
    found.recorded_at = uow.clock.now()
    loan = loans.state(uow, cmd.listing_id, lock=True)
    if plan.shortfall:
        write_off(uow, cmd.listing_id, day)
        loans.walk(uow, cmd.listing_id, (S.WRITTEN_OFF,),
                   f"disposal short by {Money(plan.shortfall)}: written off")
    else:
        loan.default_stage = "recovered"
        loans.note(uow, loan, "recovered", proceeds_fen=cmd.proceeds.fen)
        loans.walk(uow, cmd.listing_id, (S.RECOVERED,), "disposal proceeds repaid the holders")
    refresh(uow, day, cmd.listing_id, cmd.listing_id)
    uow.s.flush()
    return found


# --- originator buy-back (回购) ------------------------------------------------------------
def _buyback(uow: UnitOfWork, listing_id: int, day: date, rules: ServicingRules) -> str:
    loan = loans.state(uow, listing_id, lock=True)
    at_maturity = loan.next_seq is None and loan.bucket != DEFAULT_BUCKET.value
    if not at_maturity:
        accelerate(uow, listing_id, day, "default")
    _waive_penalty(uow, listing_id)
    listing = uow.s.get(Listing, listing_id)
    assert listing is not None
    owner = OwnerKind(policy_for(listing.kind).applicant_role)
    reserve = wallet(owner, listing.applicant_id, "buyback_reserve").code
    purse = wallet(owner, listing.applicant_id).code
    ids = loans.codes_to_ids(uow, [reserve, purse])
    for name, code in (("reserve", reserve), ("available", purse)):
        collect(uow, day, listing_id, listing_id, Collection(
            source="buyback", kind="originator_buyback", key=f"buyback:{listing_id}:{name}",
            batch=uuid.uuid4().hex, payer_account_id=ids[code], include_penalty=False))
    loan = loans.state(uow, listing_id, lock=True)
    loan.default_stage = "bought_back"
    loans.note(uow, loan, "bought_back")
    short = loan.due_principal_fen + loan.due_interest_fen
    if short or not at_maturity:
        loan.defaulted_on = day
        loans.walk(uow, listing_id, DEFAULTED, "the originator buys the claim back")
    if short:
        write_off(uow, listing_id, day)
        loans.walk(uow, listing_id, (S.WRITTEN_OFF,),
                   f"buy-back short by {Money(short)}: written off")
        return "bought_back_short"
    if not at_maturity:
        loans.walk(uow, listing_id, (S.RECOVERED,), "bought back by the originator")
    refresh(uow, day, listing_id, listing_id)
    return "bought_back"


def _waive_penalty(uow: UnitOfWork, listing_id: int) -> None:
    """The buy-back price is principal plus interest: penalty accrued so far is waived."""
    loan = loans.state(uow, listing_id, lock=True)
    for p in loans.positions(uow, listing_id):
        p.penalty_fen = 0
    loan.penalty_waived_fen += loan.penalty_fen
    loan.penalty_fen = 0
    uow.s.flush()


# --- the dispatch table -------------------------------------------------------------------
Handler = Callable[[UnitOfWork, int, date, ServicingRules], str]


@dataclass(frozen=True)
class Trigger:
    """When a default path starts (SQL over `loan_servicing s`) and what it then does."""

    name: str
    where: Callable[[Sql], str]
    handle: Handler
    joins: str = ""


M3_PLUS = f"s.accelerated_on IS NULL AND s.bucket = '{DEFAULT_BUCKET.value}'"

PATHS: Mapping[DefaultAction, tuple[Trigger, ...]] = MappingProxyType({
    DefaultAction.GUARANTOR_COMPENSATION: (
        Trigger("guarantor_full", lambda sql: f"{M3_PLUS} AND s.guarantor_full_at_m3",
                _guarantor_full),
        Trigger("guarantor_deadline", lambda sql: (
            "s.accelerated_on IS NULL AND s.holders_oldest_due_date IS NOT NULL AND "
            f"{sql.days(sql.date('d'), 's.holders_oldest_due_date')} >= g.compensation_days"),
            _guarantor_deadline,
            joins="JOIN listings l ON l.id = s.listing_id "
                  "JOIN guarantor_profiles g ON g.user_id = l.guarantor_id"),
    ),
    DefaultAction.COLLATERAL_DISPOSAL: (
        Trigger("disposal", lambda sql: M3_PLUS, _open_disposal),
    ),
    DefaultAction.ORIGINATOR_BUYBACK: (
        Trigger("buyback", lambda sql: (
            "s.default_stage IS NULL AND s.due_principal_fen + s.due_interest_fen > 0 AND "
            f"(s.next_seq IS NULL OR s.bucket = '{DEFAULT_BUCKET.value}')"), _buyback),
    ),
    DefaultAction.WRITE_OFF: (
        Trigger("write_off", lambda sql: M3_PLUS, _write_off_loan),
    ),
})


def handle_defaults(uow: UnitOfWork, day: date, lo: int, hi: int,
                    rules: ServicingRules) -> int:
    """Run every default path whose trigger holds for a loan in [lo, hi]; events handled."""
    sql = Sql.of(uow)
    handled = 0
    for action, triggers in PATHS.items():
        for trigger in triggers:
            due = rows(uow, f"""
                SELECT s.listing_id FROM loan_servicing s {trigger.joins}
                WHERE s.listing_id BETWEEN :lo AND :hi AND s.status <> 'closed' AND {late()}
                  AND s.default_action = :action AND {trigger.where(sql)}
                ORDER BY s.listing_id""", lo=lo, hi=hi, d=day, action=action.value)
            for (listing_id,) in due:
                trigger.handle(uow, listing_id, day, rules)
                handled += 1
    return handled


@dataclass(frozen=True)
class RecordRecovery:
    listing_id: int
    amount: Money
    reference: str
    operator_id: int
    key: str


def record_recovery(uow: UnitOfWork, cmd: RecordRecovery) -> int:
    """Money recovered outside the wallets (a collection agency, a court) arrives in custody and
    is distributed to the loan's creditors like any repayment (`recovery`). Returns the amount
    distributed (at most what is owed)."""
    tune(uow)
    loan = loans.state(uow, cmd.listing_id, lock=True)
    owed = loan.penalty_fen + loan.due_interest_fen + loan.due_principal_fen
    if owed == 0:
        raise Conflict(f"nothing is owed on listing {cmd.listing_id}", code="nothing_due",
                       field="listing_id")
    if cmd.amount.fen > owed:
        raise Conflict(f"amount exceeds the {Money(owed)} owed", code="amount_exceeds_owed",
                       field="amount")
    custody = loans.codes_to_ids(uow, ["custody:cash"])["custody:cash"]
    day = uow.clock.today()
    key = f"recovery:{cmd.listing_id}:{cmd.key}"
    collect(uow, day, cmd.listing_id, cmd.listing_id, Collection(
        source="recovery", kind="recovery", key=key, batch=uuid.uuid4().hex,
        payer_account_id=custody, cap=cmd.amount.fen, limit_to_balance=False))
    uow.s.execute(update(Repayment).where(Repayment.key == key, Repayment.reference.is_(None))
                  .values(reference=cmd.reference.strip() or None))
    refresh(uow, day, cmd.listing_id, cmd.listing_id)
    settle(uow, day, cmd.listing_id, cmd.listing_id)
    return cmd.amount.fen
