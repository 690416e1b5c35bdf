"""`biaodi serve` runs the whole platform: the web server and the sandbox payment gateway as
its child, wired together, so the first deposit works; stopping it stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from biaodi.bootstrap import Platform
from conftest import TEST_KEY
from payment_support import free_port, wait_until
from test_support import register


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_starts_the_gateway_wired_and_stops_it(
        platform: Platform, db_url: str, tmp_path: Path) -> None:
    port, gateway_port = free_port(), free_port()
    env = os.environ | {"BIAODI_DATABASE_URL": db_url, "BIAODI_SECRET_KEY": TEST_KEY}
    for name in ("BIAODI_GATEWAY_URL", "BIAODI_GATEWAY_SECRET", "BIAODI_PUBLIC_BASE_URL"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "biaodi.cli.main", "serve", "--port", str(port),
             "--gateway-port", str(gateway_port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    url, gateway = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{gateway_port}"
    try:
        wait_until(lambda: proc.poll() is None and _up(url), timeout=60, what="biaodi serve")
        banner = log.read_text()
        assert f"Biaodi 标的 at {url}" in banner
        assert f"sandbox payment gateway at {gateway}" in banner
        with httpx.Client(base_url=url, timeout=30) as http:
            _, headers = register(http, "investor")  # type: ignore[arg-type]
            made = http.post("/api/v1/payments/deposits", json={"amount": "10.00"},
                             headers=headers | {"Idempotency-Key": "first-deposit"})
            assert made.status_code == 201, made.text  # was 502: no gateway running
            pay_url = made.json()["pay_url"]
            assert pay_url.startswith(gateway + "/pay/")
            paid = httpx.post(pay_url, data={"action": "pay"}, follow_redirects=True)
            assert "the platform answered 200 accepted" in paid.text
            wallet = http.get("/api/v1/me/wallet", headers=headers).json()
            assert wallet["wallets"]["investor"]["available"] == "10.00"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    wait_until(lambda: not _up(gateway), timeout=10, what="the gateway to stop with serve")
