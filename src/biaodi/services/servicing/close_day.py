"""Close of business (日终): an ordered list of named steps for one business date.

Each step works through listing ids in chunks; every chunk is one transaction that also
records (business date, step, chunk) in `close_day_steps`. A run killed at any point resumes
where it stopped (uncommitted work rolls back, committed chunks are skipped), and each step is
idempotent per loan and date besides, so running a closed day again changes nothing. Missed
days are closed one by one, in order, before the one asked for. A date after the clock's
today is refused: tests and simulations move the clock, never the business date alone. One
run at a time: a second caller while one runs is told so (409 close_day_running), it never
runs the same steps beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from biaodi.adapters import faults
from biaodi.adapters.clock import Clock
from biaodi.adapters.db import locks
from biaodi.adapters.db.servicing_tables import CloseDayRun, CloseDayStep, LoanServicing, Repayment
from biaodi.adapters.db.tables import Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.services.investing import funding
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.servicing.collect import Collection, collect, true_up
from biaodi.services.servicing.collections import queue_notices
from biaodi.services.servicing.defaults import handle_defaults
from biaodi.services.servicing.delinquency import accrue_penalty, list_past_m3, refresh
from biaodi.services.servicing.due import accrue_interest, mark_due
from biaodi.services.servicing.fees import collect_fees
from biaodi.services.servicing.onboarding import onboard
from biaodi.services.servicing.rules import ServicingRules
from biaodi.services.servicing.settle import settle
from biaodi.services.shared import audit
from biaodi.services.shared.sqlkit import BusinessClock, tune
from biaodi.services.shared.tx import in_transaction

ChunkFn = Callable[[UnitOfWork, date, int, int, ServicingRules], int]


def _collect(uow: UnitOfWork, day: date, lo: int, hi: int, rules: ServicingRules) -> int:
    made = collect(uow, day, lo, hi, Collection(
        source="auto_debit", kind="repayment", key=f"auto:{day}:", per_loan=True,
        batch=f"auto:{day}:{lo}"))
    true_up(uow, day, lo, hi)  # interest that fell due today and was not paid: now a claim
    return made


def _fees(uow: UnitOfWork, day: date, lo: int, hi: int, rules: ServicingRules) -> int:
    """Fees owed, from what the payers hold once the holders were paid."""
    return collect_fees(uow, day, lo, hi, batch=f"fees:{day}:{lo}")


def _end_offers(uow: UnitOfWork, day: date, lo: int, hi: int, rules: ServicingRules) -> int:
    """Secondary-market offers of loans that changed today end (see `ServicingRules`)."""
    if rules.end_offers_of_changed_loans is None:
        return 0
    return rules.end_offers_of_changed_loans(uow, day, lo, hi)


@dataclass(frozen=True)
class Step:
    name: str
    run: ChunkFn


#: The steps, in order. `close_funding` runs first, listing by listing (see `_close_funding`).
STEPS: tuple[Step, ...] = (
    Step("onboard", lambda uow, d, lo, hi, r: onboard(uow, d, lo, hi, r)),
    Step("mark_due", lambda uow, d, lo, hi, r: mark_due(uow, d, lo, hi, f"due:{d}:{lo}")),
    Step("accrue_interest", lambda uow, d, lo, hi, r: accrue_interest(uow, d, lo, hi)),
    Step("collect", _collect),
    Step("fees", _fees),
    Step("delinquency", lambda uow, d, lo, hi, r: refresh(uow, d, lo, hi)),
    Step("secondary", _end_offers),
    Step("blacklist", lambda uow, d, lo, hi, r: list_past_m3(uow, d, lo, hi, r.list_defaulter)),
    Step("penalty", lambda uow, d, lo, hi, r: accrue_penalty(uow, d, lo, hi)),
    Step("defaults", handle_defaults),
    Step("settle", lambda uow, d, lo, hi, r: settle(uow, d, lo, hi)),
    Step("notices", lambda uow, d, lo, hi, r: queue_notices(uow, d, lo, hi, r.reminder_days)),
)
STEP_NAMES = ("close_funding", *(s.name for s in STEPS))

DayFn = Callable[[UnitOfWork, date], int]


@dataclass(frozen=True)
class DayStep:
    """A step of another capability that runs once per business date after the loan steps
    (a fund subscription confirmed, a crowdfunding project settled, a trial ended), in its own
    transaction, recorded like a chunk (`close_day_steps`, chunk 0) so that a resumed run skips
    it once done. `run` returns the number of rows it changed. The steps are wired in
    `bootstrap.Platform.day_steps`, so servicing never imports the capabilities above it."""

    name: str
    run: DayFn
    #: Work with the outside world (orders to a fund company), run first with no transaction
    #: open; the rows it reports count as the step's own.
    outside: Callable[[date], int] | None = None

#: progress(step, chunks done, chunks in the step, rows in the chunk)
Progress = Callable[[str, int, int, int], None]


@dataclass
class DaySummary:
    business_date: date
    status: str
    resumed: bool
    steps: dict[str, int] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"business_date": self.business_date.isoformat(), "status": self.status,
                "resumed": self.resumed, "steps": self.steps, **self.figures}


@dataclass(frozen=True)
class CloseDay:
    engine: Engine
    clock: Clock
    rules: ServicingRules
    investing: InvestingRules
    progress: Progress | None = None
    day_steps: tuple[DayStep, ...] = ()


def days_to_close(uow: UnitOfWork, day: date) -> list[date]:
    """`day` and the days missed before it, oldest first; a day already closed comes back
    alone (closing it again is a no-op that reports the stored summary)."""
    runs = dict(uow.s.execute(select(CloseDayRun.business_date, CloseDayRun.status))
                .all())
    if runs.get(day) == "done":
        return [day]
    done = [d for d, status in runs.items() if status == "done"]
    pending = sorted(d for d, status in runs.items() if status != "done")
    start = pending[0] if pending else (max(done) + timedelta(days=1) if done else day)
    if start > day:
        raise Conflict(f"{day} was never closed and comes before {start}, the next day to close",
                       code="before_last_close", field="business_date")
    return [start + timedelta(days=n) for n in range((day - start).days + 1)]


def close_day(cmd: CloseDay, day: date) -> list[DaySummary]:
    """Close `day` (and any missed days before it). The business date never passes the
    clock's: a date after today is refused before anything changes (a simulation moves the
    clock instead). Its audit records name the actor "system" (and the request that started
    it, if any)."""
    today = cmd.clock.today()
    if day > today:
        raise InvalidInput(f"business_date {day.isoformat()} is after today, {today.isoformat()}:"
                           " close of business runs for today or earlier", field="business_date",
                           code="business_date_in_future")
    with locks.held(cmd.engine, "close-day") as mine, \
            audit.acting("system", request_id=audit.current().request_id):
        if not mine:
            raise Conflict("close of business is already running in another process: wait "
                           "for it to finish, then run again to see its summary",
                           code="close_day_running", field="business_date")
        with UnitOfWork(cmd.engine, cmd.clock) as uow:
            dates = days_to_close(uow, day)
        return [_close_one(cmd, d) for d in dates]


def _uow(cmd: CloseDay, day: date) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(cmd.engine, BusinessClock(cmd.clock, day))


def _start(cmd: CloseDay, day: date) -> tuple[CloseDayRun, bool]:
    def start(uow: UnitOfWork) -> tuple[CloseDayRun, bool]:
        run = uow.s.get(CloseDayRun, day, with_for_update=True)
        if run is not None:
            if run.status == "running":
                run.attempts += 1
            return run, run.status == "running"
        lo, hi = uow.s.execute(select(func.min(Listing.id), func.max(Listing.id))).one()
        run = CloseDayRun(business_date=day, status="running", first_listing_id=lo or 1,
                          last_listing_id=hi or 0, chunk_size=cmd.rules.chunk_size,
                          started_at=uow.clock.now(), attempts=1, summary={})
        uow.s.add(run)
        return run, False

    return in_transaction(_uow(cmd, day), start)


def _chunks(run: CloseDayRun) -> list[tuple[int, int]]:
    lo, hi, size = run.first_listing_id, run.last_listing_id, run.chunk_size
    return [(start, min(start + size - 1, hi)) for start in range(lo, hi + 1, size)]


def _close_one(cmd: CloseDay, day: date) -> DaySummary:
    run, resumed = _start(cmd, day)
    if run.status == "done":
        return DaySummary(day, "done", False, dict(run.summary.get("steps", {})),
                          {k: v for k, v in run.summary.items() if k != "steps"})
    units = _uow(cmd, day)
    with units() as uow:
        rules = cmd.rules.with_products(uow)
        finished = {(s.step, s.chunk) for s in uow.s.scalars(
            select(CloseDayStep).where(CloseDayStep.business_date == day))}
    if ("close_funding", 0) not in finished:
        _close_funding(cmd, day, units)
    chunks = _chunks(run)
    for step in STEPS:
        for index, (lo, hi) in enumerate(chunks):
            if (step.name, index) in finished:
                continue
            in_transaction(units, lambda uow, s=step, i=index, a=lo, b=hi:
                           _chunk(uow, s, day, i, a, b, rules))
            faults.point("close_day.chunk")
            if cmd.progress:
                cmd.progress(step.name, index + 1, len(chunks), hi - lo + 1)
    for day_step in cmd.day_steps:
        if (day_step.name, 0) not in finished:
            sent = day_step.outside(day) if day_step.outside else 0
            in_transaction(units, lambda uow, s=day_step, n=sent: _day_step(uow, s, day, n))
            faults.point("close_day.chunk")
            if cmd.progress:
                cmd.progress(day_step.name, 1, 1, 0)
    faults.point("close_day.finish")
    names = (*STEP_NAMES, *(s.name for s in cmd.day_steps))
    return in_transaction(units, lambda uow: _finish(uow, day, resumed, names))


def _chunk(uow: UnitOfWork, step: Step, day: date, index: int, lo: int, hi: int,
           rules: ServicingRules) -> int:
    started = time.perf_counter()
    tune(uow, exclusive=True)
    done = step.run(uow, day, lo, hi, rules)
    if done:  # one event per step and chunk of listings, never one per row
        audit.note(uow, f"close_day.{step.name}", changes={
            "business_date": day, "chunk": index, "listing_ids": [lo, hi], "rows": done})
    uow.s.add(CloseDayStep(business_date=day, step=step.name, chunk=index, rows=done,
                           elapsed_ms=int((time.perf_counter() - started) * 1000),
                           finished_at=uow.clock.now()))
    uow.s.flush()
    if rules.chunk_pause_ms:
        time.sleep(rules.chunk_pause_ms / 1000)  # testing aid: a crash test kills us here
    return done


def _close_funding(cmd: CloseDay, day: date, units: Callable[[], UnitOfWork]) -> None:
    """Listings whose funding window ended: funded or failed (per listing: they are few)."""
    with units() as uow:
        expiring = funding.due_for_closing(uow, day)
    for listing_id in expiring:
        in_transaction(units, lambda uow, i=listing_id: funding.close_funding_window(
            uow, i, cmd.investing))
        faults.point("close_day.funding")

    def record(uow: UnitOfWork) -> None:
        uow.s.add(CloseDayStep(business_date=day, step="close_funding", chunk=0,
                               rows=len(expiring), elapsed_ms=0, finished_at=uow.clock.now()))

    in_transaction(units, record)


def _day_step(uow: UnitOfWork, step: DayStep, day: date, outside: int = 0) -> int:
    started = time.perf_counter()
    done = step.run(uow, day) + outside
    if done:
        audit.note(uow, f"close_day.{step.name}", changes={"business_date": day, "rows": done})
    uow.s.add(CloseDayStep(business_date=day, step=step.name, chunk=0, rows=done,
                           elapsed_ms=int((time.perf_counter() - started) * 1000),
                           finished_at=uow.clock.now()))
    return done


def _finish(uow: UnitOfWork, day: date, resumed: bool,
            names: tuple[str, ...] = STEP_NAMES) -> DaySummary:
    run = uow.s.get(CloseDayRun, day, with_for_update=True)
    assert run is not None
    steps: dict[str, int] = dict.fromkeys(names, 0)
    step_ms: dict[str, int] = dict.fromkeys(names, 0)
    for name, total, ms in uow.s.execute(
            select(CloseDayStep.step, func.sum(CloseDayStep.rows),
                   func.sum(CloseDayStep.elapsed_ms))
            .where(CloseDayStep.business_date == day).group_by(CloseDayStep.step)):
        steps[name], step_ms[name] = int(total or 0), int(ms or 0)
    paid = uow.s.execute(select(func.count(Repayment.id),
                                func.coalesce(func.sum(Repayment.amount_fen), 0))
                         .where(Repayment.business_date == day,
                                Repayment.source == "auto_debit")).one()
    buckets = dict(uow.s.execute(select(LoanServicing.bucket, func.count())
                                 .where(LoanServicing.status != "closed")
                                 .group_by(LoanServicing.bucket)).all())
    figures = {"auto_debits": int(paid[0]), "auto_debited_fen": int(paid[1]),
               "loans_by_bucket": {k: int(v) for k, v in sorted(buckets.items())},
               "chunks": len(_chunks(run)), "attempts": run.attempts, "step_ms": step_ms}
    run.status, run.finished_at = "done", uow.clock.now()
    run.summary = {"steps": steps, **figures}
    return DaySummary(day, "done", resumed, steps, figures)
