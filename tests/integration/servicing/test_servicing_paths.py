"""Each listing type walked through on-time, early (whole and part) and late repayment, one
close of business a day, on SQLite and PostgreSQL: every investor's cash is checked to the
fen against amounts computed independently (the funded schedule, the domain's largest-
remainder split, the penalty formula), and the books verify after every day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.servicing_tables import ScheduleRevision
from biaodi.adapters.db.tables import LoanInstalment
from biaodi.bootstrap import Platform
from biaodi.domain.listings.cost import Cost
from biaodi.domain.servicing.accrual import accrued
from biaodi.domain.servicing.penalty import capped_daily_ppm, daily_penalty
from biaodi.domain.shared.money import Money, allocate_largest_remainder
from biaodi.services.servicing import repayments
from biaodi.services.shared.tx import in_transaction
from servicing_support import (
    TICKETS,
    Events,
    Loan,
    balance,
    due_dates,
    funded_loan,
    guarantor,
    investor_cash,
    listing_status,
    loan_state,
    pay_in,
    positions,
    run_close,
    schedule_shares,
    servicing_rules,
    walk,
)

KINDS = ("credit", "collateral", "guarantee", "transfer")
PATHS = ("on_time", "early_full", "early_part", "late")
LATE_BY = 8  # days: penalty for days 4–7 past due (3 days of grace)


def scheduled(platform: Platform, loan: Loan) -> tuple[list[int], list[tuple[int, int]]]:
    """Per holding, everything the schedule pays; and the loan's (principal, interest)."""
    shares = schedule_shares(platform, loan)
    per_holding = [sum(p + i for p, i in shares[h]) for h in loan.holdings]
    loan_rows = [(sum(shares[h][k][0] for h in loan.holdings),
                  sum(shares[h][k][1] for h in loan.holdings))
                 for k in range(len(shares[loan.holdings[0]]))]
    return per_holding, loan_rows


def fees(platform: Platform, loan: Loan) -> list[int]:
    """The service and guarantee fees the schedule charges with each instalment."""
    with platform.uow() as uow:
        return list(uow.s.scalars(select(
            LoanInstalment.service_fee_fen + LoanInstalment.guarantee_fee_fen).where(
            LoanInstalment.listing_id == loan.listing_id).order_by(LoanInstalment.seq)))


def test_on_time_early_and_late_for_every_type(platform: Platform, clock: FixedClock) -> None:
    rules = servicing_rules(platform)
    loans = {(kind, path): funded_loan(
        platform, kind, guarantor_id=guarantor(platform, days=10) if kind == "guarantee"
        else None) for kind in KINDS for path in PATHS}
    start = clock.today()
    dues = due_dates(platform, loans["credit", "on_time"].listing_id)
    assert dues == [date(2026, 12, 28), date(2027, 1, 28), date(2027, 2, 28)]
    plans = {key: scheduled(platform, loan) for key, loan in loans.items()}
    charged = {key: fees(platform, loan) for key, loan in loans.items()}
    assert any(charged["guarantee", "on_time"])  # the guarantor's yearly fee, by instalment
    funded = {key: schedule_shares(platform, loan) for key, loan in loans.items()}
    events = Events()
    on = events.on

    run_close(platform, start, rules)
    for kind in KINDS:
        # on time: the borrower deposits exactly what the schedule asks, up front
        loan = loans[kind, "on_time"]
        pay_in(platform, loan.payer, sum(p + i for p, i in plans[kind, "on_time"][1])
               + sum(charged[kind, "on_time"]))
        # early: the first instalment on time, then everything (or 3,000.00 principal) later
        for path in ("early_full", "early_part"):
            loan = loans[kind, path]
            pay_in(platform, loan.payer, sum(plans[kind, path][1][0]) + charged[kind, path][0])
        on(dues[0] + timedelta(days=10), lambda k=kind: repay_all(platform, loans[k, "early_full"]))
        mode = "shorter_term" if kind == "credit" else "lower_instalment"
        on(dues[0] + timedelta(days=10),
           lambda k=kind, m=mode: repay_part(platform, loans[k, "early_part"], 300_000, m))
        # late: nothing until 8 days after the first due date, then enough for everything
        on(dues[0] + timedelta(days=LATE_BY), lambda k=kind: pay_in(
            platform, loans[k, "late"].payer, Money.yuan(12_000).fen))
    on(dues[0] + timedelta(days=5), lambda: check_overdue(platform, loans))

    walk(platform, clock, dues[-1] + timedelta(days=1), events, rules)

    for kind in KINDS:
        on_time, total = loans[kind, "on_time"], plans[kind, "on_time"]
        assert investor_cash(platform, on_time) == total[0], kind
        assert balance(platform, on_time.payer) == 0
        assert loan_state(platform, on_time.listing_id).paid_fee_fen == sum(
            charged[kind, "on_time"])  # every fee collected with its instalment
        assert listing_status(platform, on_time.listing_id) == "settled"
        check_early_full(platform, loans[kind, "early_full"], funded[kind, "early_full"], dues)
        check_early_part(platform, loans[kind, "early_part"], plans[kind, "early_part"])
        check_late(platform, kind, loans[kind, "late"], plans[kind, "late"],
                   funded[kind, "late"])
        for path in PATHS:
            state = loan_state(platform, loans[kind, path].listing_id)
            assert state.status == "closed" and state.outstanding_principal_fen == 0, (kind, path)


def repay_all(platform: Platform, loan: Loan) -> None:
    with platform.uow() as uow:
        offer = repayments.quote(uow, loan.listing_id, platform.clock.today())
    pay_in(platform, loan.payer, offer.payoff.fen)
    made = in_transaction(platform.uow, lambda uow: repayments.repay_early(
        uow, repayments.RepayEarly(loan.listing_id, loan.applicant, "payoff"),
        servicing_rules(platform)))
    # the holders get the payoff less the fees already due, which go to their payees
    assert made.amount + made.fees == offer.payoff and made.listing_status == "settled"
    assert made.fees == offer.fees_due


def repay_part(platform: Platform, loan: Loan, principal: int, mode: str) -> None:
    with platform.uow() as uow:
        offer = repayments.quote(uow, loan.listing_id, platform.clock.today())
    assert offer.due_now.fen == 0
    pay_in(platform, loan.payer, offer.accrued_interest.fen + principal)
    made = in_transaction(platform.uow, lambda uow: repayments.repay_early(
        uow, repayments.RepayEarly(loan.listing_id, loan.applicant, "part", Money(principal),
                                   mode), servicing_rules(platform)))
    assert (made.principal.fen, made.interest.fen) == (principal, offer.accrued_interest.fen)
    assert balance(platform, loan.payer) == 0
    with platform.uow() as uow:  # then enough for the new schedule and its fees
        rest = uow.s.execute(select(func.sum(
            LoanInstalment.principal_fen + LoanInstalment.interest_fen
            + LoanInstalment.service_fee_fen + LoanInstalment.guarantee_fee_fen)).where(
            LoanInstalment.listing_id == loan.listing_id,
            LoanInstalment.status == "scheduled")).scalar()
    pay_in(platform, loan.payer, int(rest))


def check_overdue(platform: Platform, loans: dict[tuple[str, str], Loan]) -> None:
    """Five days past due, before that day's close: M1, listing overdue, per holding too."""
    for kind in KINDS:
        loan = loans[kind, "late"]
        state = loan_state(platform, loan.listing_id)
        assert (state.days_past_due, state.bucket, state.status) == (4, "M1", "overdue"), kind
        assert listing_status(platform, loan.listing_id) == "overdue"
        assert {(p.days_past_due, p.bucket) for p in positions(platform, loan.listing_id)} == \
            {(4, "M1")}
        # the 4th day past due was the first penalty day (a 流转标's overdue interest alone,
        # 16.50 a holding at 0.0054 % a day, rounds to no penalty at all)
        assert state.penalty_fen > 0 or kind == "transfer"


def check_early_full(platform: Platform, loan: Loan, funded: dict[int, list[tuple[int, int]]],
                     dues: list[date]) -> None:
    """Instalment 1 on schedule, then all principal plus instalment 2's interest accrued to
    the day of the payoff (pro rata), split by largest remainder over the holdings' shares."""
    day = dues[0] + timedelta(days=10)
    interest_2 = [funded[h][1][1] for h in loan.holdings]
    parts = allocate_largest_remainder(accrued(sum(interest_2), dues[0], dues[1], day),
                                       interest_2)
    expected = [sum(funded[h][0]) + sum(p for p, _ in funded[h][1:]) + part
                for h, part in zip(loan.holdings, parts, strict=True)]
    assert investor_cash(platform, loan) == expected
    assert balance(platform, loan.payer) == 0


def check_early_part(platform: Platform, loan: Loan, plan: tuple) -> None:
    cash = investor_cash(platform, loan)
    with platform.uow() as uow:
        revisions = uow.s.scalars(select(ScheduleRevision).where(
            ScheduleRevision.listing_id == loan.listing_id)).all()
    assert len(revisions) == 1 and revisions[0].reason.startswith("prepayment_")
    interest = [c - t * 100 for c, t in zip(cash, TICKETS, strict=True)]
    assert all(i > 0 for i in interest)  # principal came back exactly, with interest on top
    assert sum(interest) < sum(i for _, i in plan[1])  # less interest than on schedule
    positions_now = positions(platform, loan.listing_id)
    assert [p.received_principal_fen for p in positions_now] == [t * 100 for t in TICKETS]
    assert [p.received_interest_fen for p in positions_now] == interest
    assert balance(platform, loan.payer) == 0


def check_late(platform: Platform, kind: str, loan: Loan, plan: tuple,
               funded: dict[int, list[tuple[int, int]]]) -> None:
    state = loan_state(platform, loan.listing_id)
    fee = 10_000 if kind == "guarantee" else 0  # the guarantor's 1 % a year
    # 6 % (+ 1 %) all-in, no service fee on 3 months: the rest of 12 % a year is penalty room
    ppm = capped_daily_ppm(300, Cost(60_000 + fee, 0), 120_000)
    assert state.penalty_daily_ppm == ppm == (136 if fee else 164)
    penalty = [daily_penalty(sum(funded[h][0]), ppm) * (LATE_BY - 4) for h in loan.holdings]
    assert investor_cash(platform, loan) == [total + pen for total, pen in
                                             zip(plan[0], penalty, strict=True)]
    assert [p.received_penalty_fen for p in positions(platform, loan.listing_id)] == penalty
    owed = sum(p + i for p, i in plan[1]) + sum(penalty) + sum(fees(platform, loan))
    assert balance(platform, loan.payer) == Money.yuan(12_000).fen - owed
    assert listing_status(platform, loan.listing_id) == "settled"
