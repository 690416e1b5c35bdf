"""Kill points: armed by BIAODI_FAULT_POINT, a process dies by SIGKILL at exactly the chosen
hit of the chosen point and not before; unset, nothing happens; a misspelt point is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from biaodi.adapters import faults

LOOP = ("from biaodi.adapters import faults\n"
        "for i in range(5):\n"
        "    faults.point('uow.after_commit')\n"
        "    faults.point('close_day.chunk')\n"
        "    print(i, flush=True)\n")


def run(spec: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != faults.ENV}
    if spec is not None:
        env[faults.ENV] = spec
    return subprocess.run([sys.executable, "-c", LOOP], env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_nth_hit_of_an_armed_point_kills_the_process() -> None:
    killed = run("close_day.chunk:3")
    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout.split() == ["0", "1"]  # died at the third hit, before printing 2


def test_the_earliest_of_several_armed_points_kills() -> None:
    killed = run("close_day.chunk:4, uow.after_commit:2")
    assert (killed.returncode, killed.stdout.split()) == (-signal.SIGKILL, ["0"])


def test_unarmed_or_never_reached_points_do_nothing() -> None:
    for spec in (None, "", "close_day.chunk:6", "callback.booked"):
        done = run(spec)
        assert (done.returncode, done.stdout.split()) == (0, ["0", "1", "2", "3", "4"])


@pytest.mark.parametrize("spec, message", [
    ("uow.commit:1", "unknown kill point 'uow.commit'"),
    ("close_day.chunk:0", "must be 1 or more"),
])
def test_a_wrong_setting_is_refused_naming_it(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        faults.parse(spec)
    assert faults.parse("close_day.chunk:3,callback.booked") == {
        "close_day.chunk": 3, "callback.booked": 1}
