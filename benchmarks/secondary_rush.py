"""Secondary-market rush: buyers racing for one sale (债权转让抢购), in process.

    .venv/bin/python benchmarks/secondary_rush.py [--buyers 200] [--workers 16] [--rounds 3]
        [--backend postgres|sqlite|both] [--server postgresql://postgres@127.0.0.1:5432/test]

Each round builds a funded 12-month loan, lets one holder offer a 10,000.00 holding and has
`--buyers` buyers each try to buy 100.00 of it — so half of them find it sold out — through
the purchase use case with idempotency keys as the API calls it (`run_keyed`,
`purchases.buy_answering`: each purchase one transaction — the sale's hot row, the seller's
split, the buyer's holding and position, one journal entry, the answer), from `--workers`
threads. Everything a client needs exists before the clock starts: the buyers,
their commands, the threads (waiting at a barrier) and the database connections (opened and
returned to the pool). Reported per round: attempts and purchases per second, p50/p99
latency of an attempt.

In the same round, as the physical reference: the same number of threads, each with its own
driver connection (psycopg on PostgreSQL, sqlite3 on SQLite) opened before the clock starts,
doing a bare transaction of the same shape — a conditional UPDATE of one hot row, an INSERT,
COMMIT — as many times as there were attempts; its rate and p50/p99, and the ratio of the
purchases' attempt rate to it.

After each round: oversold must be 0 (remaining + what the purchases took = what was
offered, remaining ≥ 0, every instalment still the sum of its holdings' shares, no negative
balance) and `ledger verify` must pass. Also counted: the statements one purchase sends (one
more buyer on a second sale, outside the timing). A benchmark, not a test: it asserts nothing
about time.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
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

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from biaodi.adapters.clock import FixedClock  # noqa: E402
from biaodi.adapters.db.engine import make_engine, normalise_url  # noqa: E402
from biaodi.bootstrap import Platform, build_platform, migrate_database  # noqa: E402
from biaodi.config import Settings  # noqa: E402
from biaodi.domain.shared.money import Money  # noqa: E402
from biaodi.services.ledger import posting as ledger  # noqa: E402
from biaodi.services.secondary import purchases, sales  # noqa: E402
from biaodi.services.shared.idempotency import Answer, run_keyed  # noqa: E402
from biaodi.services.shared.tx import in_transaction  # noqa: E402

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def fast_hashing() -> None:
    """Registration set-up, not the thing measured: small Argon2 parameters."""
    from argon2 import PasswordHasher

    from biaodi.adapters import crypto

    crypto._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timing(latencies: list[float], count: int, wall: float) -> dict[str, float]:
    return {"per_s": round(count / wall, 1), "p50_ms": round(percentile(latencies, 0.5) * 1e3, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1e3, 1), "wall_s": round(wall, 2)}


def build(url: str, clock: FixedClock, workers: int) -> Platform:
    # PostgreSQL: a pool at least as large as the workers, so none waits for a connection
    engine = (make_engine(url, pool_size=max(20, workers)) if url.startswith("postgresql")
              else make_engine(url))
    migrate_database(engine)
    settings = Settings(database_url=url, secret_key="vQy0lq1d0Ni0Xc0c5y6o1mXr1qE2JzGqT6a3d9v0f8Y=",
                        secret_key_file=Path(tempfile.gettempdir()) / "biaodi-bench-secret",
                        rate_limits_enabled=False)
    return build_platform(settings, clock=clock, engine=engine)


def warm_pool(platform: Platform, workers: int) -> None:
    """Open `workers` driver connections at once (no transaction) and give them back: the
    pool keeps them."""
    held = [platform.engine.raw_connection() for _ in range(workers)]
    for conn in held:
        conn.close()


def race(platform: Platform, clock: FixedClock, buyers: int, workers: int) -> dict[str, Any]:
    from investing_support import many_investors
    from servicing_support import funded_loan, set_day

    loan = funded_loan(platform, "credit", rate="0.09", term=12, tickets=(10_000, 10_000))
    market = replace(platform.secondary_rules,
                     sale=replace(platform.secondary_rules.sale, holding_period_days=0))
    set_day(clock, START.date() + timedelta(days=10))
    sale = run_offer(platform, market, loan.holdings[0], loan.investors[0])
    racers = many_investors(platform, buyers + 1, yuan=1_000)
    counted = count_one(platform, market, loan.holdings[1], loan.investors[1], racers.pop())
    commands = [purchases.Buy(sale, buyer, Money.yuan(100)) for buyer in racers]
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    todo = list(reversed(commands))

    def view(made: purchases.Bought) -> Answer:
        return Answer(201, {"id": made.purchase_id})

    def attempt(cmd: purchases.Buy) -> str:
        answer = run_keyed(
            platform.uow, scope=f"user:{cmd.buyer_id}:bench", key=uuid.uuid4().hex,
            payload={"principal": "100"},
            fn=lambda uow, keyed: purchases.buy_answering(uow, cmd, market, keyed, view))
        return "bought" if answer.status_code == 201 else answer.body["error"]["code"]

    def work() -> None:
        gate.wait()
        while True:
            with lock:
                if not todo:
                    return
                cmd = todo.pop()
            started = time.perf_counter()
            result = attempt(cmd)
            elapsed = time.perf_counter() - started
            with lock:
                outcomes[result] += 1
                latencies.append(elapsed)

    warm_pool(platform, workers)
    gate = threading.Barrier(workers + 1)
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    gate.wait()
    begun = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - begun
    checks = check(platform, loan.listing_id, sale)
    return {"attempted": len(commands), "outcomes": dict(outcomes),
            "attempts": timing(latencies, len(commands), wall),
            "purchases_per_s": round(outcomes["bought"] / wall, 1),
            "statements_per_purchase": counted, **checks}


def check(platform: Platform, listing_id: int, sale: int) -> dict[str, Any]:
    with platform.uow() as uow:
        offered, remaining = uow.s.execute(text(
            "SELECT principal_fen, remaining_fen FROM secondary_sales WHERE id = :s"),
            {"s": sale}).one()
        taken = uow.s.execute(text(
            "SELECT COALESCE(SUM(principal_fen), 0) FROM secondary_purchases WHERE sale_id = :s"),
            {"s": sale}).scalar()
        negative = uow.s.execute(text(
            "SELECT COUNT(*) FROM accounts WHERE non_negative AND balance < 0")).scalar()
        split = uow.s.execute(text("""
            SELECT COUNT(*) FROM loan_instalments li WHERE li.listing_id = :l AND
              li.principal_fen <> (SELECT SUM(hi.principal_fen) FROM holding_instalments hi
                                   JOIN holdings h ON h.id = hi.holding_id
                                   WHERE h.listing_id = :l AND hi.seq = li.seq)"""),
            {"l": listing_id}).scalar()
        verified = ledger.verify(uow)
    oversold = max(0, int(taken) + int(remaining) - int(offered)) + max(0, -int(remaining))
    return {"oversold_fen": oversold, "sale_remaining_fen": int(remaining),
            "instalments_add_up": split == 0, "negative_balances": int(negative),
            "ledger_verify": "balanced" if verified.balanced else verified.problems[:3]}


def count_one(platform: Platform, market: Any, holding: int, seller: int, buyer: int) -> int:
    from statements_support import statement_counter

    sale = run_offer(platform, market, holding, seller)
    cmd = purchases.Buy(sale, buyer, Money.yuan(100))
    with statement_counter(platform.engine) as seen:
        in_transaction(platform.uow, lambda uow: purchases.buy(uow, cmd, market))
    return seen.count


def run_offer(platform: Platform, market: Any, holding: int, seller: int) -> int:
    cmd = sales.Offer(holding, seller, Decimal(0))
    return in_transaction(platform.uow, lambda uow: sales.offer(uow, cmd, market)).id


def reference(url: str, workers: int, operations: int) -> dict[str, float]:
    """The bare transaction of a purchase's shape — a conditional UPDATE of one hot row, an
    INSERT, COMMIT — from `workers` driver connections opened before the clock starts."""
    pg = url.startswith("postgresql")
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False) \
        if pg else make_url(url).database

    def connect() -> Any:
        if pg:
            return psycopg.connect(dsn)
        conn = sqlite3.connect(dsn, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    with connect() as setup:
        setup.execute("DROP TABLE IF EXISTS bench_hot")
        setup.execute("DROP TABLE IF EXISTS bench_log")
        setup.execute("CREATE TABLE bench_hot (id INTEGER PRIMARY KEY, remaining BIGINT)")
        setup.execute("CREATE TABLE bench_log (worker INTEGER, remaining BIGINT)")
        setup.execute(f"INSERT INTO bench_hot VALUES (1, {operations})")
        if pg:
            setup.commit()
    conns = [connect() for _ in range(workers)]
    latencies: list[float] = []
    lock = threading.Lock()
    left = [operations]
    ph = "%s" if pg else "?"

    def work(n: int, conn: Any) -> None:
        gate.wait()
        mine: list[float] = []
        while True:
            with lock:
                if not left[0]:
                    break
                left[0] -= 1
            started = time.perf_counter()
            if not pg:
                conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("UPDATE bench_hot SET remaining = remaining - 1 WHERE id = 1 "
                               "AND remaining >= 1 RETURNING remaining").fetchone()
            conn.execute(f"INSERT INTO bench_log VALUES ({ph}, {ph})", (n, row[0]))
            conn.commit() if pg else conn.execute("COMMIT")
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    gate = threading.Barrier(workers + 1)
    threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(conns)]
    for t in threads:
        t.start()
    gate.wait()
    begun = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - begun
    for conn in conns:
        conn.close()
    return timing(latencies, operations, wall)


def run(backend: str, buyers: int, workers: int, rounds: int, server: str) -> dict[str, Any]:
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
    platform = build(url, clock, workers)
    try:
        results = []
        for _ in range(rounds):
            result = race(platform, clock, buyers, workers)
            result["reference"] = reference(url, workers, buyers)
            result["ratio_to_reference"] = round(
                result["attempts"]["per_s"] / result["reference"]["per_s"], 3)
            results.append(result)
        summary = {key: spread([r[key] for r in results]) for key in
                   ("purchases_per_s", "ratio_to_reference")}
        summary["attempts_per_s"] = spread([r["attempts"]["per_s"] for r in results])
        summary["attempt_p50_ms"] = spread([r["attempts"]["p50_ms"] for r in results])
        summary["attempt_p99_ms"] = spread([r["attempts"]["p99_ms"] for r in results])
        summary["reference_per_s"] = spread([r["reference"]["per_s"] for r in results])
        return {"workers": workers, "buyers": buyers, "summary": summary, "rounds": results}
    finally:
        platform.close()
        if backend == "postgres":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=("postgres", "sqlite", "both"), default="postgres")
    parser.add_argument("--server", default=os.environ.get(
        "BIAODI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    fast_hashing()
    backends = ("postgres", "sqlite") if args.backend == "both" else (args.backend,)
    print(json.dumps({b: run(b, args.buyers, args.workers, args.rounds, args.server)
                      for b in backends}, indent=2))


if __name__ == "__main__":
    main()
