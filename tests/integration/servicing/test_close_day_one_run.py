"""Two closes of business at once: the second is told a run is in progress (409
close_day_running) instead of running the same steps beside the first and crashing on a
duplicate step (both databases)."""

from __future__ import annotations

import threading

import pytest

from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict
from servicing_support import (
    INVESTING,
    funded_loan,
    run_close,
    servicing_rules,
    steps_done_for,
)


def test_a_second_close_while_one_runs_is_refused_clearly(platform: Platform) -> None:
    funded_loan(platform, "credit")
    slow = servicing_rules(platform, chunk_size=1, chunk_pause_ms=150)
    first: list[object] = []
    worker = threading.Thread(target=lambda: first.append(run_close(platform, rules=slow)))
    worker.start()
    try:
        while worker.is_alive() and steps_done_for(platform) == 0:
            worker.join(0.02)
        assert worker.is_alive(), "the first run ended before the second could start"
        with pytest.raises(Conflict) as refused:
            run_close(platform)
        assert refused.value.code == "close_day_running"
        assert refused.value.status == 409
    finally:
        worker.join()
    [summary] = first[0]  # type: ignore[index]
    assert summary.status == "done"
    # once the first has finished, the lock is free again: closing the day again is a no-op
    [again] = run_close(platform)
    assert again.status == "done" and again.steps == summary.steps


def test_a_capabilitys_day_step_runs_once_a_date_and_is_resumed_not_repeated(
        platform: Platform) -> None:
    """A day step (wired by a capability above servicing) runs after the loan steps, once per
    business date: a second close of the same day does not run it again, and a step that
    fails leaves the day open, to run from that step on the next attempt."""
    from biaodi.services.servicing.close_day import CloseDay, DayStep, close_day

    calls: list[str] = []
    failing = [True]

    def settle_projects(uow: object, day: object) -> int:
        calls.append(f"projects {day}")
        return 2

    def confirm_units(uow: object, day: object) -> int:
        calls.append(f"units {day}")
        if failing[0]:
            raise RuntimeError("the fund company did not answer")
        return 1

    cmd = CloseDay(platform.engine, platform.clock, servicing_rules(platform), INVESTING,
                   day_steps=(DayStep("projects", settle_projects),
                              DayStep("units", confirm_units)))
    today = platform.clock.today()
    with pytest.raises(RuntimeError):
        close_day(cmd, today)
    assert calls == [f"projects {today}", f"units {today}"]
    failing[0] = False
    [summary] = close_day(cmd, today)
    assert calls[2:] == [f"units {today}"]  # projects was done: not run again
    assert summary.steps["projects"] == 2 and summary.steps["units"] == 1
    [again] = close_day(cmd, today)
    assert len(calls) == 3 and again.steps == summary.steps
