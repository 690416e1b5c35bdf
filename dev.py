#!/usr/bin/env python3
"""Biaodi's two set-up commands, needing nothing but python3:

python3 dev.py serve   # venv + install + migrate biaodi.db + demo data + run the platform at
                       # http://127.0.0.1:8000 and the sandbox payment gateway at :8100
                       # (extra args go to `biaodi serve`: --port, --gateway-port, --no-gateway)
python3 dev.py test    # venv + install + the whole test suite (extra args go to pytest)

The database is biaodi.db next to this file (unless BIAODI_DATABASE_URL says otherwise), so
`.venv/bin/biaodi …` finds the same one from any folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if completed.returncode:
        sys.exit(completed.returncode)


def ensure_environment(extras: str) -> None:
    """Create .venv if missing and (re)install when pyproject.toml or the extras change."""
    if not (BIN / "python").exists():
        print("creating virtual environment in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    # One stamp per set of extras, so that alternating `serve` and `test` does not reinstall.
    stamp = VENV / f".biaodi-installed-{extras.replace(',', '-')}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print(f"installing biaodi[{extras}] into .venv …", flush=True)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    stamp.write_text(wanted)


def serve(args: list[str]) -> None:
    ensure_environment("test")
    # The database and key file live next to this file, whatever folder this is run from.
    env = os.environ | {"BIAODI_HOME": os.environ.get("BIAODI_HOME", str(ROOT))}
    _run(BIN / "biaodi", "db", "upgrade", env=env)
    # A no-op once the database has users. The first start simulates two months of market
    # first (about 30 s on 2 cores, docs/SIMULATION.md), so the pages show real activity.
    _run(BIN / "biaodi", "demo", "seed", "--simulate-days", "60", env=env)
    os.execve(BIN / "biaodi", [str(BIN / "biaodi"), "serve", *args], env)


def test(args: list[str]) -> None:
    ensure_environment("test,spark")  # CI runs the Spark parity test too
    completed = subprocess.run([str(BIN / "python"), "-m", "pytest", *args], cwd=ROOT)
    sys.exit(completed.returncode)


def main() -> None:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
