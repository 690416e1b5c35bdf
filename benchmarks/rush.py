"""抢标 benchmark: investors investing back to back through the HTTP API on PostgreSQL.

    .venv/bin/python benchmarks/rush.py [--investors 60] [--per-investor 20] [--repeats 3]
                                        [--workers 2] [--server postgresql://…/test]
                                        [--loop auto|asyncio|uvloop] [--http auto|h11|httptools]
                                        [--batch-max 64]

Creates its own PostgreSQL database on the server, starts `biaodi serve --no-access-log` on it
as a separate process, registers and funds the investors, then, `--repeats` times: every
investor (its HTTP client and connection made before the clock starts) sends `--per-investor`
investments of 100.00 back to back into one hot listing; the same again across successive
20,000.00 listings filled back to back (each fill disbursed while the others keep investing);
and, as the physical reference in the same run, the bare hot-row `UPDATE … RETURNING` + one
`INSERT` per request through psycopg from as many connections, opened before timing.
Reports req/s, p50/p99 for each, the CPU each tier spent per request (the load generator,
the API server with its workers, PostgreSQL), the ratio API / bare with its spread, oversell
(must be none) and `biaodi ledger verify`. A benchmark, not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
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


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _pids(match: Callable[[str, list[str]], bool]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as comm:
                name = comm.read().strip()
            with open(f"/proc/{entry}/stat") as stat:
                parent = stat.read().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        if match(name, [parent]):
            found.append(int(entry))
    return found


class CpuMeter:
    """CPU seconds spent by each tier while a measurement runs: this process (the load
    generator), the API server with its workers, and PostgreSQL (every `postgres` process on
    this machine — other databases' work counts too, so run on a quiet server)."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    def _tiers(self) -> dict[str, float]:
        server = 0.0
        if self.server_pid is not None:
            family = {self.server_pid}
            family |= set(_pids(lambda name, parents: int(parents[0]) in family))
            server = sum(_cpu_seconds(pid) for pid in family)
        return {"client": time.process_time(), "api_server": server,
                "postgresql": sum(_cpu_seconds(pid)
                                  for pid in _pids(lambda name, _: name == "postgres"))}

    def __enter__(self) -> CpuMeter:
        self.before = self._tiers()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self._tiers()
        self.used = {tier: after[tier] - self.before[tier] for tier in after}

    def per_request(self, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request, by tier."""
        return {tier: round(1000 * seconds / requests, 2) for tier, seconds in self.used.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, server_url: str, investors: int, workers: int,
                 stack: tuple[str, str] = ("auto", "auto"), batch_max: int = 64):
        self.server = make_url(server_url).set(drivername="postgresql+psycopg")
        self.name = f"biaodi_bench_{uuid.uuid4().hex[:8]}"
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        self.n = investors
        self.workers = workers
        self.loop, self.http = stack  # uvicorn's event loop and HTTP parser
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "BIAODI_DATABASE_URL": self.url,
            "BIAODI_SECRET_KEY": "vQy0lq1d0Ni0Xc0c5y6o1mXr1qE2JzGqT6a3d9v0f8Y=",
            # the benchmark signs in every investor from one address on purpose
            "BIAODI_RATE_LIMITS_ENABLED": "false",
            # group commit: the most queued investments in one listing sent as one statement
            "BIAODI_INVEST_BATCH_MAX": str(batch_max),
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
            [BIN / "biaodi", "serve", "--port", str(self.port), "--workers", str(self.workers),
             "--no-gateway", "--no-relay", "--no-access-log", "--loop", self.loop,
             "--http", self.http],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(600):  # a loaded machine takes a while to start the workers
            if self.proc.poll() is not None:
                raise SystemExit(f"biaodi serve exited with {self.proc.returncode}")
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
                "--role",
                "operator,risk_override",
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
        # no risk decision in a benchmark: the operator overrides, with a reason, as the rules
        # allow (docs/COMPLIANCE.md)
        approved = client.post(f"/api/v1/listings/{listing['id']}/approve",
                               json={"override_reason": "benchmark listing"}, headers=self.op)
        published = client.post(f"/api/v1/listings/{listing['id']}/publish", json={},
                                headers=self.op)
        if published.status_code != 200:
            raise SystemExit(f"listing not published: {approved.text} {published.text}")
        return int(listing["id"])

    # --- measurements ---------------------------------------------------------------------
    def rush(self, heads: list[dict[str, str]], listing_ids: list[int],
             per_investor: int) -> dict[str, object]:
        """Every investor sends `per_investor` investments of 100.00 back to back, each into
        the first of `listing_ids` still open (moving on when told `listing_full`). Clients
        and their connections are made (and used once) before the clock starts."""
        latencies: list[float] = []
        codes: dict[int, int] = {}
        lock = threading.Lock()
        start = threading.Barrier(len(heads) + 1)
        clients = [httpx.Client(base_url=self.base, timeout=120) for _ in heads]
        for client in clients:
            client.get("/healthz")  # the connection is open before timing

        def one(i: int) -> None:
            client, mine, seen = clients[i], [], {}
            at = 0
            start.wait()
            for n in range(per_investor):
                t0 = time.perf_counter()
                r = client.post(
                    f"/api/v1/listings/{listing_ids[at]}/investments",
                    json={"amount": "100.00"},
                    headers=heads[i] | {"Idempotency-Key": f"rush-{i}-{n}-{uuid.uuid4()}"},
                )
                mine.append(time.perf_counter() - t0)
                seen[r.status_code] = seen.get(r.status_code, 0) + 1
                if r.status_code == 409 and at + 1 < len(listing_ids):
                    at += 1
            with lock:
                latencies.extend(mine)
                for code, count in seen.items():
                    codes[code] = codes.get(code, 0) + count

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(heads))]
        for t in threads:
            t.start()
        profiler = self.profile()
        with CpuMeter(self.proc.pid if self.proc else None) as cpu:
            start.wait()
            t0 = time.perf_counter()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
            profiler.wait(60)
        for client in clients:
            client.close()
        total = len(latencies)
        return {
            "requests": total,
            "wall_s": round(wall, 3),
            "requests_per_s": round(total / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "status": codes,
            "cpu_ms_per_request": cpu.per_request(total),
        }

    def profile(self) -> subprocess.Popen[bytes] | None:
        """With BIAODI_BENCH_PROFILE=<file>, sample the server (and its workers) with py-spy
        during the first rush: raw folded stacks in <file> (`py-spy record --format raw`)."""
        target = os.environ.get("BIAODI_BENCH_PROFILE")
        if not target or self.proc is None or getattr(self, "_profiled", False):
            return None
        self._profiled = True
        return subprocess.Popen(
            [BIN / "py-spy", "record", "--pid", str(self.proc.pid), "--subprocesses",
             "--nonblocking", "--format", "raw", "--rate", "200", "-o", target],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def bare_hot_row(self, connections: int, per_connection: int) -> dict[str, object]:
        """The physical reference: per request the hot row's conditional UPDATE … RETURNING and
        one INSERT, in autocommit through psycopg, from `connections` connections opened before
        timing — what an investment cannot do with less."""
        dsn = self.server.set(drivername="postgresql").set(database=self.name)
        conninfo = dsn.render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS hot; DROP TABLE IF EXISTS hot_taken")
            conn.execute("CREATE TABLE hot (id int primary key, remaining bigint)")
            conn.execute("CREATE TABLE hot_taken (id bigserial primary key, who int, "
                         "amount bigint)")
            conn.execute("INSERT INTO hot VALUES (1, %s)", (connections * per_connection * 100,))
        conns = [psycopg.connect(conninfo, autocommit=True) for _ in range(connections)]
        start = threading.Barrier(connections + 1)
        latencies: list[float] = []
        lock = threading.Lock()

        def hammer(i: int) -> None:
            conn, mine = conns[i], []
            start.wait()
            for _ in range(per_connection):
                t0 = time.perf_counter()
                conn.execute(
                    "WITH t AS (UPDATE hot SET remaining = remaining - 100 "
                    "WHERE id = 1 AND remaining >= 100 RETURNING remaining) "
                    "INSERT INTO hot_taken (who, amount) SELECT %s, 100 FROM t", (i,))
                mine.append(time.perf_counter() - t0)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(connections)]
        for t in threads:
            t.start()
        with CpuMeter(None) as cpu:
            start.wait()
            t0 = time.perf_counter()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        for conn in conns:
            conn.close()
        total = connections * per_connection
        return {"requests": total, "wall_s": round(wall, 3),
                "requests_per_s": round(total / wall, 1),
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                "cpu_ms_per_request": cpu.per_request(total)}

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


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=60, help="concurrent investors")
    parser.add_argument("--per-investor", type=int, default=20,
                        help="investments each investor sends back to back")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"],
                        help="the server's event loop (biaodi serve --loop)")
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"],
                        help="the server's HTTP parser (biaodi serve --http)")
    parser.add_argument("--batch-max", type=int, default=64,
                        help="group commit: the most queued investments of one listing a "
                        "worker sends as one statement (1: each alone)")
    parser.add_argument(
        "--server",
        default=os.environ.get(
            "BIAODI_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    per = args.per_investor
    with Bench(args.server, args.investors, args.workers, (args.loop, args.http),
               args.batch_max) as bench:
        t0 = time.perf_counter()
        heads = bench.investors()
        setup = time.perf_counter() - t0
        runs, fills, bares, checked = [], [], [], []
        with httpx.Client(base_url=bench.base, timeout=60) as client:
            for _ in range(args.repeats):
                # One hot listing every ticket fits in; then successive 20,000.00 listings
                # filled back to back (the ones left over stay published).
                hot = [bench.listing(client, amount=100 * args.investors * per)]
                successive = [bench.listing(client, amount=20_000)
                              for _ in range(args.investors * per * 100 // 20_000 + 1)]
                runs.append(bench.rush(heads, hot, per))
                fills.append(bench.rush(heads, successive, per))
                bares.append(bench.bare_hot_row(args.investors, per))
                checked += hot + successive
        verify = subprocess.run(
            [BIN / "biaodi", "ledger", "verify"], env=bench.env, capture_output=True, text=True
        )
        ratios = [r["requests_per_s"] / b["requests_per_s"]
                  for r, b in zip(runs, bares, strict=True)]
        report = {
            "investors": args.investors,
            "per_investor": per,
            "server_workers": args.workers,
            "server_loop_http": [args.loop, args.http],
            "batch_max": args.batch_max,
            "load_average": os.getloadavg(),
            "setup_s": round(setup, 1),
            "one_hot_listing": runs,
            "successive_20000_listings": fills,
            "bare_update_plus_insert": bares,
            "ratio_api_vs_bare": spread(ratios),
            "ratio_successive_fills_vs_bare": spread(
                [f["requests_per_s"] / b["requests_per_s"]
                 for f, b in zip(fills, bares, strict=True)]),
            "oversold": bench.oversold(checked),
            "ledger_verify": verify.stdout.strip() or verify.stderr.strip(),
        }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
