"""The crash-safety harness (tests/fault/): the real batch commands and the real server run as
their own processes and are killed with SIGKILL, at named kill points (`biaodi.adapters.faults`,
armed through BIAODI_FAULT_POINT) or after a random delay, then run again.

A process is started from a fork server that has imported Biaodi once, so a start costs a fork
and a connection (tens of milliseconds), not the two seconds of imports `biaodi` pays at every
exec: the harness can afford dozens of kills. The fork server never opens a database
connection, so every child starts with none; a child is a whole process — its own pid, its own
connections, killed by the kernel like any other.

Every choice (which point, which hit, which delay, which order) comes from one random
generator seeded by BIAODI_FAULT_SEED (random when unset, printed at the start and in every
failure): `BIAODI_FAULT_SEED=<seed> pytest tests/fault` replays a failing run. BIAODI_FAULT_KILLS
is the number of kills the suite aims at (CI default `CI_KILLS`; nightly: 500 or more)."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import socket
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.investing import suitability
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.tx import in_transaction
from factories import identity
from investing_support import AGGRESSIVE

#: Kills a CI run aims at, summed over the scenarios (at least 50; the suite prints the count).
CI_KILLS = 64
#: How the kills are shared out: scenario → share of BIAODI_FAULT_KILLS.
SHARES = {"close_day": 0.45, "rush": 0.2, "callbacks": 0.15, "secondary": 0.1,
          "reconcile": 0.1}

_SEED: int | None = None
#: Every scenario run in this session, for the summary (tests/fault/conftest.py).
RUNS: list[Crashes] = []


def seed() -> int:
    global _SEED
    if _SEED is None:
        given = os.environ.get("BIAODI_FAULT_SEED")
        _SEED = int(given) if given else random.SystemRandom().randrange(1, 2**31)
    return _SEED


def budget(scenario: str, *, postgres: bool = False) -> int:
    """Kills for one scenario on one database (PostgreSQL, slower, gets a third)."""
    total = int(os.environ.get("BIAODI_FAULT_KILLS", CI_KILLS))
    share = max(1, round(total * SHARES[scenario]))
    return max(2, share // 3) if postgres else share


def rng(scenario: str, backend: str) -> random.Random:
    """One generator per scenario and database, so a scenario replays alone as well."""
    return random.Random(f"{seed()}:{scenario}:{backend}")


def replay(scenario: str) -> str:
    """The line every failure carries: how to run exactly this again."""
    return (f"[fault seed {seed()}: replay with BIAODI_FAULT_SEED={seed()} "
            f"BIAODI_FAULT_KILLS={os.environ.get('BIAODI_FAULT_KILLS', CI_KILLS)} "
            f"pytest tests/fault -k {scenario}]")


# --- children (run in processes forked from the fork server) -------------------------------
def _redirect(env: dict[str, str], log: str) -> None:
    if sys.platform == "linux":  # die with the fork server (and so with the test run)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.environ.clear()
    os.environ.update(env)


def _cli_child(argv: list[str], env: dict[str, str], log: str) -> None:
    _redirect(env, log)
    from biaodi.cli.main import app

    code = 0
    try:
        app(argv, prog_name="biaodi", standalone_mode=True)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # a traceback in the log and exit 1, as `biaodi` would
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _server_child(port: int, env: dict[str, str], log: str) -> None:
    _redirect(env, log)
    import uvicorn

    from biaodi.api.app import create_app

    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, ws="none", lifespan="off")
    os._exit(0)


_context: Any = None


def _processes() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["fault_support", "biaodi.cli.main", "biaodi.api.app",
                                         "uvicorn"])
    return _context


# --- the harness's side -----------------------------------------------------------------------
@dataclass
class Outcome:
    code: int
    log: str

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL


@dataclass
class Crashes:
    """What one scenario did: kills by point, for the report and the assertions."""

    scenario: str
    backend: str
    kills: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        RUNS.append(self)

    def add(self, what: str) -> None:
        self.kills.append(what)

    def report(self) -> str:
        return f"{self.scenario}[{self.backend}]: {len(self.kills)} kill(s) {replay(self.scenario)}"


def child_env(url: str, key: str, now: str, fault: str = "", **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIAODI_")}
    return env | {"BIAODI_DATABASE_URL": url, "BIAODI_SECRET_KEY": key, "BIAODI_FIXED_NOW": now,
                  "BIAODI_FAULT_POINT": fault, "BIAODI_RATE_LIMITS_ENABLED": "false"} | extra


@contextmanager
def _no_main() -> Iterator[None]:
    """Start a child without re-running this process's main module in it (multiprocessing
    would import pytest's entry point in every child: a second per kill for nothing)."""
    import types

    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _start(target: Callable[..., None], *args: Any) -> Any:
    proc = _processes().Process(target=target, args=args, daemon=False)
    with _no_main():
        proc.start()
    return proc


def start_cli(argv: list[str], env: dict[str, str], log: Path) -> Any:
    """Start `biaodi <argv>` in its own process and return at once (a long-running command)."""
    return _start(_cli_child, argv, env, str(log))


def run_cli(argv: list[str], env: dict[str, str], log: Path, timeout: float = 120) -> Outcome:
    """Run `biaodi <argv>` in its own process to the end (or to its kill)."""
    start = log.stat().st_size if log.exists() else 0
    proc = _start(_cli_child, argv, env, str(log))
    proc.join(timeout)
    if proc.exitcode is None:
        proc.kill()
        proc.join()
        raise AssertionError(f"biaodi {' '.join(argv)} hung for {timeout} s")
    with log.open(errors="replace") as f:
        f.seek(start)
        return Outcome(int(proc.exitcode), f.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The platform's web server as its own process, restartable on the same port."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log, self.port = env, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: Any = None
        self.starts = 0
        self.start_s = 0.0  # seconds spent starting, all starts together
        self.proc_env_fault = ""
        self.killed_on_start = 0  # armed starts killed while finishing an earlier kill's work

    def start(self, fault: str = "") -> None:
        env = self.env | {"BIAODI_FAULT_POINT": fault}
        self.proc_env_fault = fault
        began = time.monotonic()
        self.proc = _start(_server_child, self.port, env, str(self.log))
        self.starts += 1
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.url, timeout=0.5) as poll:
            while True:
                if not self.proc.is_alive():
                    if fault and self.proc.exitcode == -signal.SIGKILL:
                        # armed, it died finishing what an earlier kill left (a sold-out
                        # listing's completion runs as the server starts): start it unarmed
                        self.killed_on_start += 1
                        self.start()
                        return
                    raise AssertionError(f"the server exited with {self.proc.exitcode} on "
                                         f"start:\n{self.log.read_text(errors='replace')[-3000:]}")
                try:
                    if poll.get("/healthz").status_code == 200:
                        self.start_s += time.monotonic() - began
                        return
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.02)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    def exitcode(self) -> int | None:
        return None if self.proc is None else self.proc.exitcode

    def kill(self) -> None:
        if self.alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.join(30)

    def wait_dead(self, timeout: float = 30) -> None:
        self.proc.join(timeout)

    def stop(self) -> None:
        if self.alive:
            self.proc.terminate()
            self.proc.join(10)
        self.kill()


class Killer:
    """Kills a server again and again while its clients work: each incarnation is armed with
    a kill point drawn from `points` ((name, highest hit); "timer" = a kill from outside after
    a random delay); one that outlives its point for `grace_s` is killed from outside too."""

    def __init__(self, server: Server, random: random.Random, crashes: Crashes, wanted: int,
                 points: tuple[tuple[str, int], ...], grace_s: float = 3.0):
        self.server, self.random, self.crashes, self.wanted = server, random, crashes, wanted
        self.points, self.grace_s = points, grace_s
        #: Set once the kills are done: clients that finished their work ask again (the same
        #: keys, the same answers expected) until then, so the kills always find a load.
        self.done = threading.Event()

    def fault(self) -> str:
        name, most = self.random.choice(self.points)
        return "" if name == "timer" else f"{name}:{self.random.randint(1, most)}"

    def start(self) -> None:
        self.server.start(self.fault())

    def run(self, working: Callable[[], bool]) -> None:
        """Kill and restart until `wanted` kills (or no client is left); leave it running,
        unarmed, and tell the clients."""
        while working() and len(self.crashes.kills) < self.wanted:
            self.one()
        if self.server.proc_env_fault or not self.server.alive:  # the rest runs unarmed
            if self.server.alive:
                self.server.kill()
                self.crashes.add(f"timer (armed {self.server.proc_env_fault})")
            self.server.start("")
        self.done.set()

    def one(self) -> None:
        server, armed = self.server, self.server.proc_env_fault
        delay = self.random.uniform(0.05, 0.8) if not armed else self.grace_s
        deadline = time.monotonic() + delay
        while server.alive and time.monotonic() < deadline:
            time.sleep(0.01)
        if server.alive:
            server.kill()
            self.crashes.add(f"timer:{delay:.2f}s" if not armed else f"timer (armed {armed})")
        else:
            server.wait_dead()
            assert server.exitcode() == -signal.SIGKILL, \
                f"the server died otherwise: {server.exitcode()} {self.crashes.report()}"
            self.crashes.add(armed)
        server.start(self.fault() if len(self.crashes.kills) < self.wanted else "")


def run_clients(killer: Killer, clients: list[threading.Thread], crashes: Crashes) -> None:
    """Start the server and the clients, kill and restart it while any client works, and
    require every client to finish (each retries with its keys until it has its answers)."""
    killer.start()
    for client in clients:
        client.start()
    killer.run(lambda: any(c.is_alive() for c in clients))
    for client in clients:
        client.join(300)
    assert not any(c.is_alive() for c in clients), crashes.report()


def retrying(call: Callable[[], httpx.Response], *, deadline_s: float = 240) -> httpx.Response:
    """A client that keeps its idempotency key: retry while the server is down or failed
    (connection refused or cut, 5xx) until it answers for real."""
    deadline = time.monotonic() + deadline_s
    pause = 0.02
    while True:
        try:
            response = call()
            if response.status_code < 500:
                return response
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "no answer within the deadline"
        time.sleep(pause)
        pause = min(pause * 2, 0.3)


# --- people -----------------------------------------------------------------------------------
PURSE_YUAN = 50_000


def people(platform: Platform, count: int, purse_yuan: int = PURSE_YUAN
           ) -> list[tuple[int, dict[str, str]]]:
    """Investors with money, an assessment and a bearer token, made in-process (fast)."""

    def create(uow):  # type: ignore[no-untyped-def]
        made = []
        for _ in range(count):
            data = identity()
            view = users.register(uow, users.Register(**data, roles=("investor",)),
                                  platform.cipher)
            ledger.post(uow, EntryDraft("deposit").transfer(
                "custody:cash", wallet(OwnerKind.INVESTOR, view.id).code,
                Money.yuan(purse_yuan).fen))
            suitability.assess(uow, view.id, AGGRESSIVE)
            made.append((view.id, data))
        return made

    made = in_transaction(platform.uow, create)
    out = []
    for user_id, data in made:
        token, _ = in_transaction(platform.uow, lambda uow, d=data: users.login(
            uow, d["username"], d["password"], timedelta(hours=2), platform.cipher))
        out.append((user_id, {"Authorization": f"Bearer {token}"}))
    return out


# --- database copies ------------------------------------------------------------------------
@contextmanager
def copies(url: str, backend: str, tmp_path: Path, names: tuple[str, ...]) -> Iterator[list[str]]:
    """Identical copies of the database at `url` (no connection may be open to it)."""
    if backend == "sqlite":
        source = Path(make_url(url).database or "")
        with sqlite3.connect(source) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        made = []
        for name in names:
            shutil.copyfile(source, tmp_path / f"{name}.db")
            made.append(f"sqlite:///{tmp_path / name}.db")
        yield made
        return
    server = make_url(url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    dbs = [f"biaodi_fault_{uuid.uuid4().hex[:10]}" for _ in names]
    with admin.connect() as conn:
        for db in dbs:
            conn.execute(text(f'CREATE DATABASE "{db}" TEMPLATE "{server.database}"'))
    try:
        yield [server.set(database=db).render_as_string(hide_password=False) for db in dbs]
    finally:
        with admin.connect() as conn:
            for db in dbs:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()
