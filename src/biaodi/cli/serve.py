"""`biaodi serve`: the platform's web server and, unless told otherwise, the sandbox payment
gateway next to it as a child process, wired to each other and stopped together."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import httpx
import typer

from biaodi.cli.common import console, fail, platform
from biaodi.config import Settings, biaodi_home
from biaodi.services.demo import seed as demo

#: The sandbox listens this far above the platform's port unless --gateway-port says otherwise.
GATEWAY_PORT_OFFSET = 100
LOOPS = ("auto", "asyncio", "uvloop")
PARSERS = ("auto", "h11", "httptools")


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    gateway: bool = typer.Option(
        True, "--gateway/--no-gateway",
        help="Also run the sandbox payment gateway (`biaodi gateway-sandbox`) as a child "
             "process, wired to this platform. --no-gateway: use the gateway that "
             "BIAODI_GATEWAY_URL names (a real one)."),
    gateway_port: int | None = typer.Option(
        None, help=f"Port of the sandbox gateway (default: --port + {GATEWAY_PORT_OFFSET})."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
    workers: int = typer.Option(
        1, min=1, help="Worker processes (PostgreSQL only; docs/BENCHMARKS.md has the measured "
                       "best for a 2-core machine)."),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log",
        help="Log every request (off for benchmarks: it costs a share of each request)."),
    relay: bool = typer.Option(
        True, "--relay/--no-relay",
        help="Also run the notification relay (`biaodi notify relay --loop`: e-mail over "
             "BIAODI_SMTP_*, SMS to the sandbox) and the cash wallet's fund-order relay "
             "(`biaodi wallet relay --loop`) as child processes, unless "
             "BIAODI_NOTIFY_RELAY_INTERVAL_SECONDS / BIAODI_FUND_RELAY_INTERVAL_SECONDS is 0."),
    loop: str = typer.Option(
        "auto", help="Event loop: auto (uvloop where installed: the `fast` extra), "
                     "asyncio or uvloop."),
    http: str = typer.Option(
        "auto", help="HTTP/1.1 parser: auto (httptools where installed: the `fast` "
                     "extra), h11 or httptools."),
) -> None:
    """Start the platform's web server (web pages, API under /api/v1, its reference at /docs,
    OpenAPI at /openapi.json) and the sandbox payment gateway next to it; Ctrl-C stops both."""
    import uvicorn

    if loop not in LOOPS or http not in PARSERS:
        fail(f"--loop is one of {', '.join(LOOPS)}; --http one of {', '.join(PARSERS)}")
    p = platform()  # a missing or unmigrated database ends here, with one line
    try:
        with p.reader() as uow:
            seeded = demo.has_demo_users(uow)
        database = p.engine.url.render_as_string(hide_password=True)
    finally:
        p.close()
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{local}:{port}"
    _require_free(host, port, "--port")
    # A SIGTERM before uvicorn takes over the signals still runs the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    runs = _gateway(host, local, port, gateway_port) if gateway else _no_gateway()
    settings = Settings()
    if settings.fund_sandbox_state is None:  # one sandbox fund for the server and its relay
        os.environ["BIAODI_FUND_SANDBOX_STATE"] = str(biaodi_home() / "fund-sandbox.json")
    relays = _relay(["notify", "relay", "--loop"]) if (
        relay and settings.notify_relay_interval_seconds > 0) else nullcontext()
    fund_relays = _relay(["wallet", "relay", "--loop"]) if (
        relay and settings.fund_relay_interval_seconds > 0) else nullcontext()
    with runs as gateway_url, relays, fund_relays:
        console.print(f"Biaodi 标的 at {url}  (API reference {url}/docs)", highlight=False)
        if gateway:
            console.print(f"sandbox payment gateway at {gateway_url}: deposits are paid or "
                          "declined on its page (pay_url); --no-gateway for a real gateway",
                          highlight=False)
        else:
            console.print(f"payment gateway: {gateway_url} (BIAODI_GATEWAY_URL)", highlight=False)
        console.print(f"database {database}", highlight=False)
        if seeded:
            logins = ", ".join(f"{who} {name}" for who, name in demo.DEMO_LOGINS.items())
            console.print(f"demo logins (password {demo.PASSWORD}): {logins}", highlight=False)
        uvicorn.run("biaodi.api.asgi:app", host=host, port=port, reload=reload,
                    workers=workers, log_level="warning" if workers > 1 else "info",
                    access_log=access_log, loop=loop, http=http)


@contextmanager
def _no_gateway() -> Iterator[str]:
    yield Settings().gateway_url


@contextmanager
def _gateway(host: str, local: str, port: int, gateway_port: int | None) -> Iterator[str]:
    """Start `biaodi gateway-sandbox` and point this process's settings (and so the server's)
    at it: its URL, a shared secret for this run (unless BIAODI_GATEWAY_SECRET is set), and
    this platform's URL for its callbacks (unless BIAODI_PUBLIC_BASE_URL is set)."""
    gport = gateway_port or port + GATEWAY_PORT_OFFSET
    _require_free(host, gport, "--gateway-port")
    gateway_url = f"http://{local}:{gport}"
    os.environ["BIAODI_GATEWAY_URL"] = gateway_url
    os.environ.setdefault("BIAODI_GATEWAY_SECRET", secrets.token_hex(16))
    os.environ.setdefault("BIAODI_PUBLIC_BASE_URL", f"http://{local}:{port}")
    child = subprocess.Popen(
        [sys.executable, "-m", "biaodi.cli.main", "gateway-sandbox", "--host", host,
         "--port", str(gport)],
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    try:
        _wait_ready(child, gateway_url)
        yield gateway_url
    finally:
        _stop(child)


@contextmanager
def _relay(command: list[str]) -> Iterator[None]:
    """A relay (notifications, cash-wallet fund orders) as a child process, stopped with the
    server."""
    child = subprocess.Popen(
        [sys.executable, "-m", "biaodi.cli.main", *command],
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    try:
        yield
    finally:
        _stop(child)


def _require_free(host: str, port: int, flag: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError:
            fail(f"port {port} on {host} is in use: choose another with {flag}", 2)


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies, however it dies (Linux)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _wait_ready(child: subprocess.Popen[bytes], url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            fail(f"the sandbox gateway exited with code {child.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    fail(f"the sandbox gateway did not answer at {url} within {timeout_s:.0f} s")


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
