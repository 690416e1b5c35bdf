"""Close of business killed again and again — between chunks, right before and right after a
commit, between two listings' funding windows, before the day is marked done — each time
resumed by a new `biaodi close-day` process, ends in exactly the state of an uninterrupted run
on an identical copy, with the books balanced after every kill."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.engine import make_engine
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.bootstrap import Platform
from biaodi.services.ledger import posting as ledger
from conftest import TEST_KEY
from fault_support import Crashes, budget, child_env, copies, rng, run_cli
from servicing_support import (
    due_dates,
    funded_loan,
    guarantor,
    pay_in,
    run_close,
    servicing_rules,
    snapshot,
    walk,
)

pytestmark = pytest.mark.fault

#: (point, highest hit to choose): where close of business is killed, and how far in.
POINTS = (("close_day.chunk", 6), ("uow.after_commit", 10), ("uow.before_commit", 10),
          ("close_day.finish", 1))


def balanced(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with UnitOfWork(engine) as uow:
            check = ledger.verify(uow)
        return [] if check.balanced else list(check.problems)
    finally:
        engine.dispose()


def test_close_of_business_killed_at_random_points_ends_as_an_uninterrupted_run(
        platform: Platform, clock: FixedClock, backend: str, tmp_path: Path) -> None:
    random = rng("close_day", backend)
    crashes = Crashes("close_day", backend)
    loans = [funded_loan(platform, kind, guarantor_id=guarantor(platform)
                         if kind == "guarantee" else None)
             for kind in ("credit", "collateral", "guarantee", "transfer", "credit", "guarantee")]
    for loan in loans[:3]:  # half of them pay, half fall behind
        pay_in(platform, loan.payer, 400_000)
    dues = due_dates(platform, loans[0].listing_id)
    run_close(platform)
    walk(platform, clock, dues[0] - timedelta(days=2), rules=servicing_rules(platform))
    clock.advance(days=6)  # six days to close: due date, arrears, compensation
    url = platform.engine.url.render_as_string(hide_password=False)
    platform.engine.dispose()
    argv = ["close-day", "--date", clock.today().isoformat(), "--json"]

    def env(target: str, fault: str = "") -> dict[str, str]:
        return child_env(target, TEST_KEY, clock.now().isoformat(), fault,
                         BIAODI_SERVICING_CHUNK_SIZE="1")

    started = time.monotonic()
    with copies(url, backend, tmp_path, ("straight", "crashed")) as (straight, crashed):
        done = run_cli(argv, env(straight), tmp_path / "straight.log")
        assert done.code == 0, done.log
        wanted = budget("close_day", postgres=backend == "postgres")
        finished = None
        for _ in range(wanted * 3):
            name, most = random.choice(POINTS)
            fault = f"{name}:{random.randint(1, most)}"
            outcome = run_cli(argv, env(crashed, fault), tmp_path / "crashed.log")
            if not outcome.killed:
                assert outcome.code == 0, f"{fault}: {outcome.log} {crashes.report()}"
                finished = outcome
                break
            crashes.add(fault)
            problems = balanced(crashed)
            assert not problems, f"unbalanced after a kill at {fault}: {problems} " \
                                 f"{crashes.report()}"
            if len(crashes.kills) >= wanted:
                break
        if finished is None:
            finished = run_cli(argv, env(crashed), tmp_path / "crashed.log")
            assert finished.code == 0, finished.log
        days = json.loads(finished.log[finished.log.index("{"):])["days"]
        assert days[-1]["business_date"] == clock.today().isoformat()

        ends = [make_engine(straight), make_engine(crashed)]
        try:
            expected, got = snapshot(ends[0]), snapshot(ends[1])
            assert got == expected, crashes.report()
            assert any(row[-1] != "scheduled" for row in got["instalments"])  # type: ignore[index]
            with ends[1].connect() as conn:
                attempts = conn.execute(text("SELECT SUM(attempts) FROM close_day_runs")).scalar()
            assert int(attempts or 0) > len(days), crashes.report()  # the kills did resume
        finally:
            for engine in ends:
                engine.dispose()
        assert not balanced(crashed), crashes.report()
    assert len(crashes.kills) >= min(wanted, 5), crashes.report()
    print(crashes.report(), f"in {time.monotonic() - started:.1f} s:", sorted(crashes.kills))
