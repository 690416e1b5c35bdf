"""Building blocks for servicing tests: funded loans of every type, close of business day by
day, and the checks every day must pass (the books, and loans = Σ positions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from biaodi.adapters.clock import CST, FixedClock
from biaodi.adapters.db.servicing_tables import CloseDayStep, LoanServicing, ServicingPosition
from biaodi.adapters.db.tables import Account, Holding, HoldingInstalment, Listing, LoanInstalment
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.services.investing import counters, suitability
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings.security import AssetInput, ClaimInput
from biaodi.services.servicing import products
from biaodi.services.servicing.close_day import CloseDay, DaySummary, close_day
from biaodi.services.servicing.rules import ServicingRules
from biaodi.services.shared.tx import in_transaction
from investing_support import (
    AGGRESSIVE,
    claim_maturity,
    deposit,
    invest,
    investor,
    published_listing,
    user,
)
from test_support import register

INVESTING = InvestingRules()
TICKETS = (3_300, 3_300, 3_400)  # uneven, so every split has a rounding residue


def servicing_rules(platform: Platform, **changes: object) -> ServicingRules:
    return replace(platform.servicing_rules, **changes)


@dataclass
class Loan:
    listing_id: int
    kind: str
    applicant: int
    role: str
    investors: list[int]
    holdings: list[int] = field(default_factory=list)
    guarantor: int | None = None

    @property
    def payer(self) -> str:
        return wallet(OwnerKind(self.role), self.applicant).code


def guarantor(platform: Platform, *, fee_rate: str = "0.01", days: int = 3,
              yuan: int = 100_000) -> int:
    operator = user(platform, "operator")
    guarantor_id = user(platform, "guarantor")
    in_transaction(platform.uow, lambda uow: listings.set_guarantor_terms(
        uow, guarantor_id, name="中和担保", capacity=Money.yuan(10_000_000),
        fee_rate=Decimal(fee_rate), compensation_days=days, actor_id=operator))
    if yuan:
        deposit(platform, guarantor_id, yuan, role="guarantor")
    return guarantor_id


def seed_lpr(platform: Platform) -> None:
    """The migration seeds the LPR history; the PostgreSQL fixture empties every table, so put
    back the fixing in force for these tests (3.00 % from 2025-05-20: cap 12 % under cn-2016)."""
    in_transaction(platform.uow, lambda uow: products.set_lpr(
        uow, date(2025, 5, 20), 30_000, 35_000, "test"))


def funded_loan(platform: Platform, kind: str, *, rate: str = "0.06", term: int = 3,
                method: str = "equal_installment", tickets: tuple[int, ...] = TICKETS,
                guarantor_id: int | None = None, reserve_yuan: int | None = None,
                applicant: int | None = None, people: list[int] | None = None) -> Loan:
    """A listing of `kind` funded by one investor per ticket (the loan starts today). Pass
    `applicant` and `people` (investors with money and an assessment) to choose who."""
    seed_lpr(platform)
    amount = sum(tickets)
    role = "originator" if kind == "transfer" else "borrower"
    applicant = applicant or user(platform, role)
    security: dict[str, object] = {}
    if kind == "collateral":
        security["assets"] = (AssetInput("car", Money.yuan(amount * 3), platform.clock.today(),
                                         "车易估", plate_number="京A12345",
                                         registration_certificate_no="110000123456"),)
    if kind == "guarantee":
        security["guarantor_id"] = guarantor_id or guarantor(platform)
    if kind == "transfer":
        method = "interest_first"
        security["claim"] = ClaimInput(Money.yuan(amount * 2), Decimal("0.12"),
                                       claim_maturity(platform, term))
    listing_id = published_listing(platform, INVESTING, kind=kind, amount=amount, rate=rate,
                                   term=term, method=method, borrower=applicant, **security)
    if kind == "transfer":  # the helper funded a 10 % reserve; move the rest back to available
        code = wallet(OwnerKind.ORIGINATOR, applicant).code
        with platform.uow() as uow:
            left = ledger.balance(uow, code)
        if left:
            move(platform, code, "custody:cash", left)
        if reserve_yuan is not None:
            reserve = wallet(OwnerKind.ORIGINATOR, applicant, "buyback_reserve").code
            with platform.uow() as uow:
                extra = Money.yuan(reserve_yuan).fen - ledger.balance(uow, reserve)
            if extra > 0:
                move(platform, "custody:cash", reserve, extra)
    people = people or [investor(platform, ticket) for ticket in tickets]
    for person, ticket in zip(people, tickets, strict=True):
        invest(platform, INVESTING, listing_id, person, ticket)
    with platform.uow() as uow:
        holdings = list(uow.s.scalars(select(Holding.id).where(Holding.listing_id == listing_id)
                                      .order_by(Holding.id)))
        listing = uow.s.get(Listing, listing_id)
        assert listing is not None and listing.status == "repaying", listing.status
        drain = ledger.balance(uow, wallet(OwnerKind(role), applicant).code)
    if drain:  # the borrower spends the loan: repayments must come from new deposits
        move(platform, wallet(OwnerKind(role), applicant).code, "custody:cash", drain)
    return Loan(listing_id, kind, applicant, role, people, holdings,
                guarantor=security.get("guarantor_id"))  # type: ignore[arg-type]


def move(platform: Platform, debit: str, credit: str, fen: int) -> None:
    draft = EntryDraft("test_transfer").transfer(debit, credit, fen)
    in_transaction(platform.uow, lambda uow: ledger.post(uow, draft))


def pay_in(platform: Platform, code: str, fen: int) -> None:
    """Money arriving into a wallet from outside (a deposit)."""
    move(platform, "custody:cash", code, fen)


def balance(platform: Platform, code: str) -> int:
    with platform.uow() as uow:
        return ledger.balance(uow, code)


def investor_cash(platform: Platform, loan: Loan) -> list[int]:
    return [balance(platform, wallet(OwnerKind.INVESTOR, i).code) for i in loan.investors]


def schedule_shares(platform: Platform, loan: Loan) -> dict[int, list[tuple[int, int]]]:
    """holding id → [(principal, interest)] per instalment, as funded."""
    with platform.uow() as uow:
        rows = uow.s.scalars(select(HoldingInstalment).where(
            HoldingInstalment.holding_id.in_(loan.holdings))
            .order_by(HoldingInstalment.holding_id, HoldingInstalment.seq)).all()
    out: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        out.setdefault(row.holding_id, []).append((row.principal_fen, row.interest_fen))
    return out


def due_dates(platform: Platform, listing_id: int) -> list[date]:
    with platform.uow() as uow:
        return list(uow.s.scalars(select(LoanInstalment.due_date).where(
            LoanInstalment.listing_id == listing_id).order_by(LoanInstalment.seq)))


def run_close(platform: Platform, day: date | None = None,
              rules: ServicingRules | None = None) -> list[DaySummary]:
    cmd = CloseDay(platform.engine, platform.clock, rules or servicing_rules(platform),
                   INVESTING)
    return close_day(cmd, day or platform.clock.today())


def set_day(clock: FixedClock, day: date, at: time = time(10, 0)) -> None:
    clock.set(datetime.combine(day, at, tzinfo=CST))


def check_books(platform: Platform) -> None:
    """The ledger verifies, custody equals the users' wallets, and every loan's servicing
    state is the sum of its positions (and its ledger claims match them)."""
    with platform.uow() as uow:
        result = ledger.verify(uow)
        assert result.balanced, result.problems
        miscounted = counters.mismatches(uow)
        assert not miscounted, miscounted  # the maintained counters equal the sums of history
        custody = ledger.balance(uow, "custody:cash")
        wallets = uow.s.execute(select(func.coalesce(func.sum(Account.balance), 0)).where(
            Account.owner_kind.in_(["investor", "borrower", "originator", "guarantor"]),
            Account.purpose != "subrogation")).scalar()
        assert custody == wallets
        mismatched = uow.s.execute(text("""
            SELECT s.listing_id FROM loan_servicing s
            JOIN (SELECT listing_id, SUM(outstanding_principal_fen) AS o,
                         SUM(due_principal_fen) AS dp, SUM(due_interest_fen) AS di,
                         SUM(penalty_fen) AS pen
                  FROM servicing_positions GROUP BY listing_id) p
              ON p.listing_id = s.listing_id
            WHERE s.outstanding_principal_fen <> p.o OR s.due_principal_fen <> p.dp
               OR s.due_interest_fen <> p.di OR s.penalty_fen <> p.pen""")).all()
        assert not mismatched, mismatched
        # the next instalment as the loan keeps it is the instalment's own (reminders use it)
        stale = uow.s.execute(text("""
            SELECT s.listing_id FROM loan_servicing s
            LEFT JOIN loan_instalments li ON li.listing_id = s.listing_id AND li.seq = s.next_seq
            WHERE (s.next_seq IS NULL AND (s.next_principal_fen IS NOT NULL
                                           OR s.next_interest_fen IS NOT NULL))
               OR (s.next_seq IS NOT NULL AND (li.id IS NULL
                   OR s.next_principal_fen <> li.principal_fen
                   OR s.next_interest_fen <> li.interest_fen))""")).all()
        assert not stale, stale
        claims = uow.s.execute(text("""
            SELECT s.listing_id FROM loan_servicing s
            JOIN accounts ip ON ip.id = s.interest_account_id
            JOIN accounts pp ON pp.id = s.principal_account_id
            WHERE ip.balance <> s.due_interest_fen OR pp.balance <> s.outstanding_principal_fen"""
                                        )).all()
        assert not claims, claims


def walk(platform: Platform, clock: FixedClock, until: date, events: dict[date, list] | None = None,
         rules: ServicingRules | None = None) -> None:
    """Close every day from tomorrow to `until`, running the day's events first and checking
    the books after each day."""
    events = events or {}
    day = clock.today()
    while day < until:
        day += timedelta(days=1)
        set_day(clock, day)
        for event in events.get(day, []):
            event()
        run_close(platform, day, rules)
        check_books(platform)


def loan_state(platform: Platform, listing_id: int) -> LoanServicing:
    with platform.uow() as uow:
        found = uow.s.get(LoanServicing, listing_id)
        assert found is not None
        return found


def positions(platform: Platform, listing_id: int) -> list[ServicingPosition]:
    with platform.uow() as uow:
        return list(uow.s.scalars(select(ServicingPosition).where(
            ServicingPosition.listing_id == listing_id).order_by(ServicingPosition.id)))


def listing_status(platform: Platform, listing_id: int) -> str:
    with platform.uow() as uow:
        found = uow.s.get(Listing, listing_id)
        assert found is not None
        return found.status


def snapshot(engine_or_platform: object) -> dict[str, object]:
    """Everything close of business decides, by natural keys (no ids, no clock times): the
    state a crashed-and-resumed run must reproduce exactly."""
    engine = getattr(engine_or_platform, "engine", engine_or_platform)
    queries = {
        "balances": "SELECT code, balance FROM accounts ORDER BY code",
        "postings": "SELECT a.code, COUNT(*), SUM(p.amount) FROM postings p "
                    "JOIN accounts a ON a.id = p.account_id GROUP BY a.code ORDER BY a.code",
        "entries": "SELECT kind, business_date, COUNT(*) FROM journal_entries "
                   "GROUP BY kind, business_date ORDER BY kind, business_date",
        "listings": "SELECT id, status FROM listings ORDER BY id",
        "instalments": "SELECT listing_id, seq, due_date, principal_fen, interest_fen, status "
                       "FROM loan_instalments ORDER BY listing_id, seq",
        "holding_instalments": "SELECT holding_id, seq, due_date, principal_fen, interest_fen, "
                               "status FROM holding_instalments ORDER BY holding_id, seq",
        "loans": "SELECT listing_id, status, outstanding_principal_fen, due_principal_fen, "
                 "due_interest_fen, penalty_fen, accrued_interest_fen, next_seq, "
                 "oldest_due_date, days_past_due, bucket, penalty_through, accelerated_on, "
                 "default_stage FROM loan_servicing ORDER BY listing_id",
        "positions": "SELECT listing_id, creditor_kind, creditor_id, outstanding_principal_fen, "
                     "due_principal_fen, due_interest_fen, penalty_fen, received_principal_fen, "
                     "received_interest_fen, received_penalty_fen, days_past_due, bucket, status "
                     "FROM servicing_positions ORDER BY listing_id, creditor_kind, creditor_id",
        "repayments": "SELECT key, business_date, source, amount_fen, penalty_fen, interest_fen, "
                      "principal_fen FROM repayments ORDER BY key",
        "notices": "SELECT key, status FROM collection_notices ORDER BY key",
        "runs": "SELECT business_date, status FROM close_day_runs ORDER BY business_date",
    }
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return {name: [tuple(row) for row in conn.execute(text(sql))]
                for name, sql in queries.items()}


class Events(dict[date, list[Callable[[], None]]]):
    """What to do on given days, before that day's close: `events.on(day, action)`, then pass
    `events` to `walk`."""

    def on(self, day: date, action: Callable[[], None]) -> None:
        self.setdefault(day, []).append(action)


def api_loan(client: TestClient, platform: Platform, kind: str = "credit"
             ) -> tuple[Loan, dict[str, str], list[dict[str, str]]]:
    """A funded loan whose borrower and investors can log in: (loan, borrower, investors)."""
    applicant, borrower = register(client, "originator" if kind == "transfer" else "borrower")
    people, heads = [], []
    for ticket in (3_300, 3_300, 3_400):
        person, headers = register(client, "investor")
        deposit(platform, person, ticket)
        in_transaction(platform.uow, lambda uow, p=person: suitability.assess(uow, p, AGGRESSIVE))
        people.append(person)
        heads.append(headers)
    loan = funded_loan(platform, kind, applicant=applicant, people=people)
    return loan, borrower, heads


def close(client: TestClient, operator: dict[str, str], day: object) -> dict:
    response = client.post("/api/v1/operator/close-day", json={"business_date": str(day)},
                           headers=operator)
    assert response.status_code == 200, response.text
    return response.json()


def steps_done_for(platform: Platform) -> int:
    """How many close-of-business chunks have committed so far (any date)."""
    with platform.reader() as uow:
        return int(uow.s.scalar(select(func.count()).select_from(CloseDayStep)) or 0)
