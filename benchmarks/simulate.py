"""Market simulator benchmark: simulated days per second.

    .venv/bin/python benchmarks/simulate.py [--days 30] [--borrowers 300] [--investors 100]
                                            [--seed 7] [--data tests/data/credit_data_sample.csv]
                                            [--contracts] [--out result.json]

Runs `Simulator` (what `biaodi simulate` runs) on a fresh scratch SQLite database and prints
the days per second, where a day's time goes (the simulator's own phases against the platform's
close of business and the books check), and, as the reference measured in the same run, the
close of business of one quiet day on an empty book. E-contracts stay pending unless
`--contracts` (their PDFs are rendered by close of business then); `--fast-hash` hashes
the simulated users' passwords with the test suite's small Argon2 parameters. A benchmark,
not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.engine import make_engine
from biaodi.bootstrap import build_platform, migrate_database
from biaodi.config import Settings
from biaodi.services.servicing.close_day import close_day
from biaodi.services.simulation.run import SimConfig, Simulator

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def scratch(folder: Path, name: str, contracts: bool):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{folder / name}"
    engine = make_engine(url)
    migrate_database(engine)
    extra = {} if contracts else {"document_font": folder / "no-font.ttc"}
    settings = Settings(database_url=url, secret_key=Fernet.generate_key().decode(),
                        secret_key_file=folder / "unused-secret", **extra)
    return build_platform(settings, clock=FixedClock(START), engine=engine)


def main() -> None:
    logging.getLogger("biaodi.documents").setLevel(logging.ERROR)  # "contracts pending"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--borrowers", type=int, default=300)
    parser.add_argument("--investors", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=ROOT / "tests/data/credit_data_sample.csv")
    parser.add_argument("--contracts", action="store_true")
    parser.add_argument("--fast-hash", action="store_true",
                        help="hash passwords with the test suite's small Argon2 parameters "
                             "(shows the market's own cost without sign-up's hashing)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.fast_hash:
        from argon2 import PasswordHasher

        from biaodi.adapters import crypto

        crypto._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        quiet = scratch(folder, "quiet.db", args.contracts)
        began = time.perf_counter()
        close_day(quiet.close_day_command(), quiet.clock.today())
        quiet_s = time.perf_counter() - began
        quiet.close()
        target = scratch(folder, "sim.db", args.contracts)
        config = SimConfig(days=args.days, borrowers=args.borrowers, investors=args.investors,
                           seed=args.seed, data=args.data)
        sim = Simulator(target, config)
        began = time.perf_counter()
        history = sim.run()
        total = time.perf_counter() - began
        target.close()
    last = history[-1]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "load_average": os.getloadavg(),
        "config": {"days": args.days, "borrowers": args.borrowers, "investors": args.investors,
                   "seed": args.seed, "contracts": args.contracts,
                   "fast_hash": args.fast_hash},
        "seconds": round(total, 2), "days_per_second": round(args.days / total, 3),
        "seconds_per_day": round(total / args.days, 3),
        "reference_quiet_close_day_s": round(quiet_s, 3),
        "phases_s": {k: round(v, 2) for k, v in sorted(sim.timings.items(),
                                                       key=lambda kv: -kv[1])},
        "book_fen": last.book_fen, "loans_listed": last.listings, "events": sim.events,
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
