"""Two closes of business at once: the second is told a run is in progress (409
close_day_running) instead of running the same steps beside the first and crashing on a
duplicate step (both databases)."""

from __future__ import annotations

import threading

import pytest

from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict
from servicing_support import funded_loan, run_close, servicing_rules, steps_done_for


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
