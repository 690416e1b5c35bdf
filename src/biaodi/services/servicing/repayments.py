"""A borrower's repayments: on time or late (`repay`), and early (`repay_early`: the whole loan,
or part of it with the rest re-amortised for a shorter term or a lower instalment).

Each runs in one transaction through the same set-based steps as close of business, scoped
to one loan: mark due what has fallen due, collect and distribute, recompute arrears, close
what is paid. (A transfer listing's originator repays its listing the same way.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from biaodi.adapters.db.servicing_tables import FeePayment, LoanServicing, Repayment
from biaodi.adapters.db.tables import Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.holdings import split_interest, split_principal
from biaodi.domain.listings.fees import fees_on
from biaodi.domain.servicing.accrual import accrued
from biaodi.domain.servicing.allocation import HOLDERS_TIER
from biaodi.domain.servicing.reamortise import Reamortise, Row, reamortise
from biaodi.domain.shared.errors import (
    Conflict,
    Forbidden,
    InsufficientBalance,
    InvalidInput,
    NotFound,
)
from biaodi.domain.shared.money import Money, allocate_largest_remainder
from biaodi.services.ledger import posting as ledger
from biaodi.services.servicing import loan as loans
from biaodi.services.servicing.collect import Collection, collect
from biaodi.services.servicing.defaults import accelerate
from biaodi.services.servicing.delinquency import refresh
from biaodi.services.servicing.due import mark_due
from biaodi.services.servicing.fees import collect_fees
from biaodi.services.servicing.onboarding import ensure_onboarded
from biaodi.services.servicing.rules import ServicingRules
from biaodi.services.servicing.settle import settle
from biaodi.services.shared.rates import ppm_to_rate
from biaodi.services.shared.sqlkit import tune


@dataclass(frozen=True)
class Repay:
    listing_id: int
    borrower_id: int
    amount: Money
    key: str  # the caller's idempotency key


@dataclass(frozen=True)
class RepayEarly:
    listing_id: int
    borrower_id: int
    key: str
    principal: Money | None = None  # None: the whole loan
    reamortise: str = Reamortise.LOWER_INSTALMENT.value


@dataclass(frozen=True)
class Quote:
    """What a loan owes today: arrears, accrued interest, principal not yet due, payoff."""

    penalty: Money
    interest_due: Money
    principal_due: Money
    accrued_interest: Money
    principal_not_due: Money
    fees_due: Money  # fees of instalments fallen due, not yet paid

    @property
    def due_now(self) -> Money:
        return self.penalty + self.interest_due + self.principal_due + self.fees_due

    @property
    def payoff(self) -> Money:
        return self.due_now + self.accrued_interest + self.principal_not_due


@dataclass(frozen=True)
class Repaid:
    repayment_id: int | None  # None: only fees were paid
    listing_id: int
    amount: Money  # to the holders (penalty, interest, principal)
    penalty: Money
    interest: Money
    principal: Money
    listing_status: str
    fees: Money  # service and guarantee fees paid with it


def _prepare(uow: UnitOfWork, listing_id: int, borrower_id: int, day: date,
             rules: ServicingRules, batch: str) -> LoanServicing:
    tune(uow)
    listing = uow.s.get(Listing, listing_id)
    if listing is None:
        raise NotFound(f"no listing {listing_id}", field="listing_id")
    if listing.applicant_id != borrower_id:
        raise Forbidden("only the borrower repays this loan", code="not_borrower")
    ensure_onboarded(uow, listing_id, day, rules)
    loan = loans.state(uow, listing_id, lock=True)
    if loan.status == "closed":
        raise Conflict(f"loan {listing_id} is repaid", code="loan_closed", field="listing_id")
    mark_due(uow, day, listing_id, listing_id, batch)
    return loans.state(uow, listing_id, lock=True)


def quote(uow: UnitOfWork, listing_id: int, day: date) -> Quote:
    loan = loans.state(uow, listing_id)
    interest = (accrued(loan.next_interest_fen or 0, loan.period_start, loan.next_due_date, day)
                if loan.next_due_date and loan.period_start else 0)
    not_due = loan.outstanding_principal_fen - loan.due_principal_fen
    return Quote(Money(loan.penalty_fen), Money(loan.due_interest_fen),
                 Money(loan.due_principal_fen), Money(interest), Money(not_due),
                 Money(loan.due_service_fee_fen + loan.due_guarantee_fee_fen))


def _check_wallet(uow: UnitOfWork, loan: LoanServicing, amount: int) -> None:
    payer = loans.codes(uow, [loan.payer_account_id])[loan.payer_account_id]
    if ledger.balance(uow, payer) < amount:
        raise InsufficientBalance(f"{payer} holds less than the {Money(amount)} to repay",
                                  field="amount")


def _paid(uow: UnitOfWork, key: str) -> Repayment | None:
    return uow.s.execute(select(Repayment).where(Repayment.key == key)).scalar_one_or_none()


def _fees_paid(uow: UnitOfWork, batch: str) -> int:
    return int(uow.s.execute(select(func.coalesce(func.sum(
        FeePayment.service_fen + FeePayment.guarantee_fen), 0)).where(
        FeePayment.batch == batch)).scalar() or 0)


def _finish(uow: UnitOfWork, day: date, listing_id: int, key: str, fee_batch: str) -> Repaid:
    refresh(uow, day, listing_id, listing_id)
    settle(uow, day, listing_id, listing_id)
    made = _paid(uow, key)
    listing = uow.s.get(Listing, listing_id)
    uow.s.refresh(listing)  # type: ignore[arg-type]
    fees = Money(_fees_paid(uow, fee_batch))
    if made is None:
        return Repaid(None, listing_id, Money(0), Money(0), Money(0), Money(0),
                      listing.status, fees)  # type: ignore[union-attr]
    return Repaid(made.id, listing_id, Money(made.amount_fen), Money(made.penalty_fen),
                  Money(made.interest_fen), Money(made.principal_fen),
                  listing.status, fees)  # type: ignore[union-attr]


def repay(uow: UnitOfWork, cmd: Repay, rules: ServicingRules) -> Repaid:
    """Pay what is due (all or part of it), allocated in the loan's order."""
    day = uow.clock.today()
    key = f"manual:{cmd.listing_id}:{cmd.key}"
    loan = _prepare(uow, cmd.listing_id, cmd.borrower_id, day, rules, uuid.uuid4().hex)
    owed = loan.penalty_fen + loan.due_interest_fen + loan.due_principal_fen
    fees = loan.due_service_fee_fen + loan.due_guarantee_fee_fen
    if owed + fees == 0:
        raise Conflict("nothing is due on this loan; to repay before the due date use early"
                       " repayment", code="nothing_due", field="amount")
    if cmd.amount.fen > owed + fees:
        raise InvalidInput(f"amount exceeds the {Money(owed + fees)} now due; to repay more use"
                           " early repayment", field="amount")
    _check_wallet(uow, loan, cmd.amount.fen)
    if owed:
        collect(uow, day, cmd.listing_id, cmd.listing_id, Collection(
            source="manual", kind="repayment", key=key, batch=uuid.uuid4().hex,
            cap=cmd.amount.fen))
    made = _paid(uow, key)
    left = cmd.amount.fen - (made.amount_fen if made else 0)
    fee_batch = uuid.uuid4().hex
    if left and fees:  # what is left of the amount goes to the fees owed
        collect_fees(uow, day, cmd.listing_id, cmd.listing_id, fee_batch, cap=left)
    return _finish(uow, day, cmd.listing_id, key, fee_batch)


def repay_early(uow: UnitOfWork, cmd: RepayEarly, rules: ServicingRules) -> Repaid:
    """Repay everything (arrears, the current period's accrued interest and all principal), or
    arrears + accrued interest + `principal` and re-amortise the rest."""
    day = uow.clock.today()
    key = f"early:{cmd.listing_id}:{cmd.key}"
    tune(uow)
    # Offers of its holdings end first (in the order a purchase locks: sales, then the loan);
    # a refused repayment rolls this back too.
    if rules.end_offers_of_loan is not None:
        rules.end_offers_of_loan(uow, cmd.listing_id, "repaid_early")
    loan = _prepare(uow, cmd.listing_id, cmd.borrower_id, day, rules, uuid.uuid4().hex)
    if loan.next_seq is None or loan.accelerated_on is not None:
        raise Conflict("every instalment has fallen due: repay what is due instead",
                       code="nothing_to_prepay", field="principal")
    if cmd.principal is None:
        offer = quote(uow, cmd.listing_id, day)
        _check_wallet(uow, loan, offer.payoff.fen)
        accelerate(uow, cmd.listing_id, day, "early_repayment")
        source = "early_full"
    else:
        _prepay_part(uow, loan, cmd, day)
        source = "early_partial"
    collect(uow, day, cmd.listing_id, cmd.listing_id, Collection(
        source=source, kind="early_repayment", key=key, batch=uuid.uuid4().hex,
        limit_to_balance=False))
    loan = loans.state(uow, cmd.listing_id, lock=True)
    if loan.due_principal_fen + loan.due_interest_fen + loan.penalty_fen:
        raise InsufficientBalance("the wallet did not cover the early repayment", field="amount")
    fee_batch = uuid.uuid4().hex  # fees of instalments already due; later periods carry none
    collect_fees(uow, day, cmd.listing_id, cmd.listing_id, fee_batch)
    return _finish(uow, day, cmd.listing_id, key, fee_batch)


def _prepay_part(uow: UnitOfWork, loan: LoanServicing, cmd: RepayEarly, day: date) -> None:
    """Make the accrued interest and the prepaid principal due now, and re-amortise the rest."""
    listing = uow.s.get(Listing, loan.listing_id)
    assert listing is not None and cmd.principal is not None
    rest = loans.remaining(uow, loan)
    rows = [Row(r.seq, r.due_date, r.principal_fen, r.interest_fen) for r in rest]
    prepaid = cmd.principal.fen
    assert loan.period_start is not None and loan.next_due_date is not None
    new = reamortise(rows, prepaid, Decimal(listing.annual_rate_ppm) / 1_000_000,
                     listing.repayment_method, cmd.reamortise, loan.period_start, day)
    interest = accrued(loan.next_interest_fen or 0, loan.period_start, loan.next_due_date, day)
    _check_wallet(uow, loan, loan.penalty_fen + loan.due_interest_fen + loan.due_principal_fen
                  + interest + prepaid)

    holders = [p for p in loans.positions(uow, loan.listing_id, tier=HOLDERS_TIER)
               if p.holding_id is not None and p.status == "active"]
    seqs = [r.seq for r in rest]
    shares = loans.holding_rows(uow, [p.holding_id for p in holders], seqs)  # type: ignore[misc]
    not_due = [sum(shares[(p.holding_id, s)].principal_fen for s in seqs)  # type: ignore[index]
               for p in holders]
    current = [shares[(p.holding_id, seqs[0])].interest_fen for p in holders]  # type: ignore[index]
    accrued_parts = (allocate_largest_remainder(interest, current if any(current) else not_due)
                     if interest else [0] * len(holders))
    prepaid_parts = allocate_largest_remainder(prepaid, not_due)
    loans.recognise_interest(uow, loan, {p.id: part for p, part in
                                         zip(holders, accrued_parts, strict=True)},
                             f"prepayment:{cmd.key}")
    for position, i_part, p_part in zip(holders, accrued_parts, prepaid_parts, strict=True):
        position.due_interest_fen += i_part
        position.due_principal_fen += p_part
    loan.due_interest_fen += interest
    loan.due_principal_fen += prepaid

    weights = [left - part for left, part in zip(not_due, prepaid_parts, strict=True)]
    keep = [i for i, w in enumerate(weights) if w > 0]
    principal_parts = [r.principal for r in new]
    p_split = split_principal(principal_parts, [weights[i] for i in keep])
    i_split = split_interest([r.interest for r in new], [weights[i] for i in keep])
    by_holder = {holders[i].holding_id: (p_split[n], i_split[n]) for n, i in enumerate(keep)}

    def change() -> None:
        for index, (row, fresh) in enumerate(zip(rest, new, strict=True)):
            row.principal_fen, row.interest_fen = fresh.principal, fresh.interest
            if fresh.principal + fresh.interest == 0 and index > 0:
                row.status = "cancelled"
            for position in holders:
                share = shares[(position.holding_id, row.seq)]  # type: ignore[index]
                p_parts, i_parts = by_holder.get(position.holding_id, (None, None))
                share.principal_fen = p_parts[index] if p_parts else 0
                share.interest_fen = i_parts[index] if i_parts else 0
                if row.status == "cancelled":
                    share.status = "cancelled"

    def change_with_fees() -> None:
        change()
        live = [row for row in rest if row.status != "cancelled"]
        principals = [row.principal_fen for row in live]
        fees = fees_on(principals, sum(principals), ppm_to_rate(listing.service_fee_ppm),
                       ppm_to_rate(listing.guarantee_fee_ppm), listing.term, listing.term_unit,
                       listing.repayment_method)
        for row, fee in zip(live, fees, strict=True):  # on the balances left
            row.service_fee_fen, row.guarantee_fee_fen = fee.service.fen, fee.guarantee.fen

    loans.revise(uow, loan.listing_id, day, f"prepayment_{cmd.reamortise}", rest,
                 change_with_fees)
    loan.period_start = day
    loan.next_interest_fen, loan.next_principal_fen = new[0].interest, new[0].principal
    loan.accrued_interest_fen = 0
    uow.s.flush()
