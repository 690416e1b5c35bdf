"""Pricing a part of a holding on a day: its exact future shares, the interest accrued on them,
fair value, price at the sale's premium, the transfer fee and the buyer's yield after expected
losses. Shared by offering, buying and browsing, so all three quote the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from biaodi.adapters.db.risk_tables import RiskDecision
from biaodi.adapters.db.secondary_tables import SecondarySale
from biaodi.adapters.db.servicing_tables import LoanServicing
from biaodi.adapters.db.tables import Holding, HoldingInstalment, Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.secondary.valuation import (
    SaleRules,
    Share,
    accrued_interest,
    asking_price,
    split_shares,
    transfer_fee,
    yield_to_maturity,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money

PPM = 1_000_000


class NotTradable(Conflict):
    """The loan behind a holding is not in a state in which its holdings change hands."""

    code = "loan_not_tradable"


@dataclass(frozen=True)
class PartQuote:
    principal: int
    accrued_interest: int
    fair_value: int
    price: int
    fee: int
    yield_rate: Decimal
    expected_loss: Decimal
    keep: list[Share]  # the seller's future shares after the sale
    take: list[Share]  # the buyer's

    @property
    def proceeds(self) -> int:
        return self.price - self.fee


def check_tradable(loan: LoanServicing, day: date) -> None:
    """A holding changes hands only while its loan is current, with an instalment still to
    come after today (on a repayment day the holders of record are paid first)."""
    arrears = loan.due_principal_fen + loan.due_interest_fen + loan.penalty_fen
    if loan.status != "performing" or arrears or loan.accelerated_on is not None:
        raise NotTradable(f"loan {loan.listing_id} is {loan.status} with arrears: its holdings"
                          " cannot change hands until it is current", code="loan_overdue",
                          field="holding_id")
    if loan.next_due_date is None or loan.next_seq is None:
        raise NotTradable(f"loan {loan.listing_id} has no instalment left to fall due",
                          code="loan_maturing", field="holding_id")
    if loan.next_due_date <= day:
        raise NotTradable(f"an instalment of loan {loan.listing_id} falls due on "
                          f"{loan.next_due_date}: trading reopens after close of business",
                          code="repayment_day", field="holding_id")


def future_shares(uow: UnitOfWork, holding_id: int, from_seq: int) -> list[Share]:
    rows = uow.s.execute(select(HoldingInstalment.seq, HoldingInstalment.due_date,
                                HoldingInstalment.principal_fen, HoldingInstalment.interest_fen)
                         .where(HoldingInstalment.holding_id == holding_id,
                                HoldingInstalment.seq >= from_seq)
                         .order_by(HoldingInstalment.seq)).all()
    return [Share(r.seq, r.due_date, r.principal_fen, r.interest_fen) for r in rows]


def period_start(loan: LoanServicing, holding: Holding) -> date:
    """The start of the interest period now running for this holding: the loan's, except in
    the first period of a holding whose interest started later (流转标 subscribers)."""
    assert loan.period_start is not None
    return holding_period_start(loan.period_start, holding.investment_id,
                                holding.interest_start)


def holding_period_start(loan_period_start: date, investment_id: int | None,
                         interest_start: date) -> date:
    if investment_id is not None and interest_start > loan_period_start:
        return interest_start
    return loan_period_start


def expected_loss(uow: UnitOfWork, listing: Listing) -> Decimal:
    """The expected annual loss rate risk control gave the borrower (its grade's default rate,
    all of it counted as lost), from the latest decision before the listing was published;
    zero where risk control has none."""
    query = select(RiskDecision.expected_default_ppm).where(
        RiskDecision.user_id == listing.applicant_id,
        RiskDecision.expected_default_ppm.is_not(None))
    if listing.published_at is not None:
        query = query.where(RiskDecision.decided_at <= listing.published_at)
    ppm = uow.s.execute(query.order_by(RiskDecision.decided_at.desc(), RiskDecision.id.desc())
                        .limit(1)).scalar()
    return Decimal(ppm or 0) / PPM


def quote_part(uow: UnitOfWork, holding: Holding, loan: LoanServicing, principal: int,
               premium: Decimal, day: date, rules: SaleRules, loss: Decimal) -> PartQuote:
    """The price of `principal` of `holding` on `day` at `premium` to fair value."""
    assert loan.next_seq is not None
    return price_shares(future_shares(uow, holding.id, loan.next_seq),
                        holding.outstanding_principal_fen, principal, premium, day, rules, loss,
                        period_start(loan, holding))


def price_shares(shares: list[Share], outstanding: int, principal: int, premium: Decimal,
                 day: date, rules: SaleRules, loss: Decimal, start: date) -> PartQuote:
    """`quote_part` on shares already read: `principal` of a holding with `outstanding`
    principal and these future `shares`, in an interest period that began on `start`."""
    keep, take = split_shares(shares, outstanding - principal, principal)
    accrued = accrued_interest(take, start, day)
    fair = principal + accrued
    price = asking_price(fair, premium, rules)
    return PartQuote(principal, accrued, fair, price, transfer_fee(price, rules),
                     yield_to_maturity(price, day, take, loss), loss, keep, take)


def quote_sale(uow: UnitOfWork, sale: SecondarySale, holding: Holding, loan: LoanServicing,
               principal: int, day: date, rules: SaleRules) -> PartQuote:
    """The price of `principal` of an offer on `day`, at the offer's premium and with the
    expected loss recorded when it was made."""
    return quote_part(uow, holding, loan, principal, Decimal(sale.premium_ppm) / PPM, day,
                      rules, Decimal(sale.expected_loss_ppm) / PPM)


def check_part(principal: int, available: int, smallest: int, *, limit: str, verb: str,
               rest: str) -> None:
    """A part offered or bought: positive, within what is `available` (described by `limit`),
    at least the minimum ticket, and leaving either nothing or at least the minimum ticket."""
    if not 0 < principal <= available:
        raise InvalidInput(f"principal must be more than 0 and at most {limit}",
                           field="principal")
    if principal < min(smallest, available) or 0 < available - principal < smallest:
        raise InvalidInput(f"{verb} at least {Money(smallest)} and {rest} either nothing or at"
                           f" least {Money(smallest)}", field="principal")


def ppm_of(rate: Decimal) -> int:
    return int((rate * PPM).to_integral_value())
