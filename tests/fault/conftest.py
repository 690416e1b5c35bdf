"""The crash-safety harness's seed and kills, printed at the end of every run that ran it."""

from __future__ import annotations

import pytest

from fault_support import RUNS, seed


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RUNS:
        return
    total = sum(len(run.kills) for run in RUNS)
    terminalreporter.write_sep("-", f"fault harness: seed {seed()}, {total} kills")
    for run in RUNS:
        terminalreporter.write_line(f"{run.scenario}[{run.backend}]: {len(run.kills)} kill(s)")
    terminalreporter.write_line(f"replay: BIAODI_FAULT_SEED={seed()} pytest tests/fault")
