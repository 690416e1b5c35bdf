"""Secondary-market rush: buyers racing for one sale (债权转让抢购), in process.

    .venv/bin/python benchmarks/secondary_rush.py [--buyers 200] [--backend both]
        [--server postgresql://postgres@127.0.0.1:5432/test]

Builds a funded loan, lets one holder offer a 10,000.00 holding, then has every buyer try to
buy 100.00 of it at once through the purchase use case with idempotency keys (each purchase
one transaction: the sale's hot row, the seller's split, the buyer's holding and position, one
journal entry). Reports purchases per second and p50/p99 latency, and — in the same run, as
the physical reference — the rate of a bare conditional UPDATE of one hot row from the same
number of threads. Checks that nothing was oversold, that every instalment still adds up and
that the ledger verifies. A benchmark, not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from biaodi.adapters.clock import FixedClock  # noqa: E402
from biaodi.adapters.db.engine import make_engine, normalise_url  # noqa: E402
from biaodi.adapters.db.secondary_tables import SecondarySale  # noqa: E402
from biaodi.bootstrap import (  # noqa: E402
    Platform,
    build_platform,
    migrate_database,
)
from biaodi.config import Settings  # noqa: E402
from biaodi.domain.shared.money import Money  # noqa: E402
from biaodi.services.ledger import posting as ledger  # noqa: E402
from biaodi.services.secondary import purchases, sales  # noqa: E402
from biaodi.services.shared.idempotency import Answer, run_idempotent  # noqa: E402

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def fast_hashing() -> None:
    """Registration set-up, not the thing measured: small Argon2 parameters."""
    from argon2 import PasswordHasher

    from biaodi.adapters import crypto

    crypto._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def build(url: str, clock: FixedClock) -> Platform:
    # PostgreSQL: at most 60 connections (pool 20 + overflow 40; the server allows 100)
    engine = make_engine(url, pool_size=20) if url.startswith("postgresql") else make_engine(url)
    migrate_database(engine)
    settings = Settings(database_url=url, secret_key="vQy0lq1d0Ni0Xc0c5y6o1mXr1qE2JzGqT6a3d9v0f8Y=",
                        secret_key_file=Path(tempfile.gettempdir()) / "biaodi-bench-secret")
    return build_platform(settings, clock=clock, engine=engine)


def race(platform: Platform, clock: FixedClock, buyers: int) -> dict[str, Any]:
    from investing_support import many_investors
    from servicing_support import funded_loan, set_day

    loan = funded_loan(platform, "credit", rate="0.09", term=12, tickets=(10_000, 10_000))
    market = replace(platform.secondary_rules,
                     sale=replace(platform.secondary_rules.sale, holding_period_days=0))
    set_day(clock, START.date() + timedelta(days=10))
    sale = run_offer(platform, market, loan.holdings[0], loan.investors[0])
    racers = many_investors(platform, buyers, yuan=1_000)
    gate = threading.Barrier(buyers)
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(buyer: int) -> None:
        cmd = purchases.Buy(sale, buyer, Money.yuan(100))
        gate.wait()
        started = time.perf_counter()
        answer = run_idempotent(
            platform.uow, scope=f"user:{buyer}:bench", key=uuid.uuid4().hex,
            payload={"principal": "100"},
            fn=lambda uow: Answer(201, {"id": purchases.buy(uow, cmd, market).purchase_id}))
        elapsed = time.perf_counter() - started
        result = "bought" if answer.status_code == 201 else answer.body["error"]["code"]
        with lock:
            outcomes[result] += 1
            latencies.append(elapsed)

    threads = [threading.Thread(target=one, args=(b,)) for b in racers]
    begun = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - begun
    with platform.uow() as uow:
        left = uow.s.get(SecondarySale, sale)
        verified = ledger.verify(uow)
        negative = uow.s.execute(text(
            "SELECT COUNT(*) FROM accounts WHERE non_negative AND balance < 0")).scalar()
        shares_ok = uow.s.execute(text("""
            SELECT COUNT(*) FROM loan_instalments li WHERE li.listing_id = :l AND
              li.principal_fen <> (SELECT SUM(hi.principal_fen) FROM holding_instalments hi
                                   JOIN holdings h ON h.id = hi.holding_id
                                   WHERE h.listing_id = :l AND hi.seq = li.seq)"""),
            {"l": loan.listing_id}).scalar() == 0
    latencies.sort()
    bought = outcomes["bought"]
    return {"buyers": buyers, "outcomes": dict(outcomes), "wall_s": round(wall, 2),
            "purchases_per_s": round(bought / wall, 1),
            "attempts_per_s": round(buyers / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "sale_remaining": left.remaining_fen if left else None,
            "instalments_add_up": shares_ok,
            "negative_balances": negative, "ledger_balanced": verified.balanced}


def run_offer(platform: Platform, market: Any, holding: int, seller: int) -> int:
    from biaodi.services.shared.tx import in_transaction

    cmd = sales.Offer(holding, seller, Decimal(0))
    return in_transaction(platform.uow, lambda uow: sales.offer(uow, cmd, market)).id


def bare_update(platform: Platform, threads: int, rounds: int = 20) -> float:
    """Conditional UPDATEs of one hot row from `threads` threads: the physical reference."""
    with platform.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_hot (id INTEGER PRIMARY KEY, "
                          "remaining BIGINT)"))
        conn.execute(text("DELETE FROM bench_hot"))
        conn.execute(text("INSERT INTO bench_hot VALUES (1, :n)"), {"n": threads * rounds})
    gate = threading.Barrier(threads)

    def work() -> None:
        gate.wait()
        for _ in range(rounds):
            with platform.engine.begin() as conn:
                conn.execute(text("UPDATE bench_hot SET remaining = remaining - 1 "
                                  "WHERE id = 1 AND remaining >= 1"))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    begun = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return round(threads * rounds / (time.perf_counter() - begun), 1)


def run(backend: str, buyers: int, server: str) -> dict[str, Any]:
    clock = FixedClock(START)
    if backend == "postgres":
        admin_url = make_url(normalise_url(server))
        name = f"biaodi_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    else:
        folder = tempfile.mkdtemp(prefix="biaodi-bench-")
        url = f"sqlite:///{folder}/bench.db"
    platform = build(url, clock)
    try:
        result = race(platform, clock, buyers)
        result["bare_update_per_s"] = bare_update(platform, min(buyers, 32))
        result["ratio_to_bare_update"] = round(result["attempts_per_s"]
                                               / result["bare_update_per_s"], 3)
        return result
    finally:
        platform.close()
        if backend == "postgres":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--backend", choices=("postgres", "sqlite", "both"), default="both")
    parser.add_argument("--server", default=os.environ.get(
        "BIAODI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    fast_hashing()
    backends = ("postgres", "sqlite") if args.backend == "both" else (args.backend,)
    print(json.dumps({b: run(b, args.buyers, args.server) for b in backends}, indent=2))


if __name__ == "__main__":
    main()
