"""抢标 benchmark: investors rushing one listing (and 20 listings) through the HTTP API.

    .venv/bin/python benchmarks/rush.py [--investors 200] [--server postgresql://…/test]

Creates its own PostgreSQL database on the server, starts `biaodi serve` on it as a separate
process, registers and funds the investors, publishes listings, then has every investor
invest concurrently. Reports investments per second and p50/p99 latency, and — in the same
run, as the physical reference — the rate of a bare conditional UPDATE of one hot row from
the same number of connections. Checks that nothing was oversold and that the ledger
verifies. A benchmark, not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))

from factories import identity  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, server_url: str, investors: int, workers: int):
        self.server = make_url(server_url).set(drivername="postgresql+psycopg")
        self.name = f"biaodi_bench_{uuid.uuid4().hex[:8]}"
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        self.n = investors
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "BIAODI_DATABASE_URL": self.url,
            "BIAODI_SECRET_KEY": "vQy0lq1d0Ni0Xc0c5y6o1mXr1qE2JzGqT6a3d9v0f8Y=",
            # the benchmark signs in every investor from one address on purpose
            "BIAODI_RATE_LIMITS_ENABLED": "false",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    # --- set-up ---------------------------------------------------------------------------
    def __enter__(self) -> Bench:
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        subprocess.run(
            [BIN / "biaodi", "db", "upgrade"], env=self.env, check=True, capture_output=True
        )
        self.proc = subprocess.Popen(
            [BIN / "biaodi", "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                if httpx.get(f"{self.base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()

    def register(self, client: httpx.Client, roles: list[str]) -> tuple[int, dict[str, str]]:
        body = identity() | {"roles": roles}
        user = client.post("/api/v1/users", json=body).json()
        token = client.post(
            "/api/v1/auth/token", data={"username": body["username"], "password": body["password"]}
        ).json()
        return user["id"], {"Authorization": f"Bearer {token['access_token']}"}

    def operator(self) -> dict[str, str]:
        data = identity()
        subprocess.run(
            [
                BIN / "biaodi",
                "users",
                "create-operator",
                "--username",
                data["username"],
                "--real-name",
                "运营",
                "--id-number",
                data["id_number"],
                "--mobile",
                data["mobile"],
                "--password",
                data["password"],
            ],
            env=self.env,
            check=True,
            capture_output=True,
        )
        token = httpx.post(
            f"{self.base}/api/v1/auth/token",
            data={"username": data["username"], "password": data["password"]},
        ).json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    def investors(self) -> list[dict[str, str]]:
        answers = {
            k: 3
            for k in ("age", "income", "experience", "horizon", "loss_tolerance", "share_of_assets")
        }
        operator = self.operator()
        heads: list[dict[str, str]] = []
        with httpx.Client(base_url=self.base, timeout=60) as client:
            for i in range(self.n):
                user_id, headers = self.register(client, ["investor"])
                client.post(
                    "/api/v1/me/risk-assessment", json={"answers": answers}, headers=headers
                )
                client.post(
                    "/api/v1/operator/bonuses",
                    json={"user_id": user_id, "amount": "100000", "reason": "benchmark funding"},
                    headers=operator | {"Idempotency-Key": f"fund-{i}"},
                )
                heads.append(headers)
        self.op = operator
        return heads

    def listing(self, client: httpx.Client, amount: int) -> int:
        borrower_id, borrower = self.register(client, ["borrower"])
        client.put(
            f"/api/v1/operator/borrowers/{borrower_id}/credit-limit",
            json={"limit": "200000", "reason": "benchmark"},
            headers=self.op,
        )
        listing = client.post(
            "/api/v1/listings",
            headers=borrower,
            json={
                "kind": "credit",
                "title": "rush benchmark",
                "amount": str(amount),
                "annual_rate": "10",
                "term": 12,
                "term_unit": "month",
                "repayment_method": "equal_installment",
            },
        ).json()
        client.post(f"/api/v1/listings/{listing['id']}/submit", headers=borrower)
        client.post(f"/api/v1/listings/{listing['id']}/approve", json={}, headers=self.op)
        client.post(f"/api/v1/listings/{listing['id']}/publish", json={}, headers=self.op)
        return int(listing["id"])

    # --- measurements ---------------------------------------------------------------------
    def rush(self, heads: list[dict[str, str]], listing_ids: list[int]) -> dict[str, object]:
        latencies: list[float] = []
        codes: dict[int, int] = {}
        lock = threading.Lock()
        start = threading.Barrier(len(heads))

        def one(i: int) -> None:
            listing_id = listing_ids[i % len(listing_ids)]
            with httpx.Client(base_url=self.base, timeout=120) as client:
                start.wait()
                t0 = time.perf_counter()
                r = client.post(
                    f"/api/v1/listings/{listing_id}/investments",
                    json={"amount": "100.00"},
                    headers=heads[i] | {"Idempotency-Key": f"rush-{uuid.uuid4()}"},
                )
                elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1

        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(heads)) as pool:
            list(pool.map(one, range(len(heads))))
        wall = time.perf_counter() - t0
        return {
            "requests": len(heads),
            "wall_s": round(wall, 3),
            "requests_per_s": round(len(heads) / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "status": codes,
        }

    def bare_hot_row(self, connections: int, per_connection: int = 50) -> dict[str, object]:
        dsn = self.server.set(drivername="postgresql").set(database=self.name)
        conninfo = dsn.render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CREATE TABLE hot (id int primary key, remaining bigint)")
            conn.execute("INSERT INTO hot VALUES (1, %s)", (connections * per_connection * 100,))
        start = threading.Barrier(connections)

        def hammer(_: int) -> None:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                start.wait()
                for _ in range(per_connection):
                    conn.execute(
                        "UPDATE hot SET remaining = remaining - 100 "
                        "WHERE id = 1 AND remaining >= 100 RETURNING remaining"
                    )

        t0 = time.perf_counter()
        with ThreadPoolExecutor(connections) as pool:
            list(pool.map(hammer, range(connections)))
        wall = time.perf_counter() - t0
        total = connections * per_connection
        return {"updates": total, "wall_s": round(wall, 3), "updates_per_s": round(total / wall, 1)}

    def oversold(self, listing_ids: list[int]) -> list[str]:
        problems = []
        engine = create_engine(self.url.replace("postgresql+psycopg", "postgresql+psycopg"))
        with engine.connect() as conn:
            for listing_id in listing_ids:
                amount, remaining, sold = conn.execute(
                    text(
                        "SELECT l.amount_fen, l.remaining_fen, COALESCE(SUM(i.amount_fen), 0) "
                        "FROM listings l LEFT JOIN investments i ON i.listing_id = l.id "
                        "AND i.status IN ('frozen', 'settled') WHERE l.id = :id "
                        "GROUP BY l.amount_fen, l.remaining_fen"
                    ),
                    {"id": listing_id},
                ).one()
                if sold + remaining != amount or remaining < 0:
                    problems.append(
                        f"listing {listing_id}: sold {sold} + remaining {remaining} != {amount}"
                    )
        engine.dispose()
        return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--server",
        default=os.environ.get(
            "BIAODI_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    with Bench(args.server, args.investors, args.workers) as bench:
        t0 = time.perf_counter()
        heads = bench.investors()
        setup = time.perf_counter() - t0
        with httpx.Client(base_url=bench.base, timeout=60) as client:
            # One listing worth half the investors' tickets: half succeed, half are refused.
            one = [bench.listing(client, amount=100 * (args.investors // 2))]
            twenty = [
                bench.listing(client, amount=100 * max(1, args.investors // 40)) for _ in range(20)
            ]
        single = bench.rush(heads, one)
        spread = bench.rush(heads, twenty)
        reference = bench.bare_hot_row(args.investors if args.investors <= 90 else 90)
        verify = subprocess.run(
            [BIN / "biaodi", "ledger", "verify"], env=bench.env, capture_output=True, text=True
        )
        report = {
            "investors": args.investors,
            "server_workers": args.workers,
            "setup_s": round(setup, 1),
            "one_listing": single,
            "twenty_listings": spread,
            "bare_hot_row_update": reference,
            "api_vs_bare_ratio_one_listing": round(
                single["requests_per_s"] / reference["updates_per_s"], 3
            ),  # type: ignore[operator]
            "oversold": bench.oversold(one + twenty),
            "ledger_verify": verify.stdout.strip() or verify.stderr.strip(),
        }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
