"""Reconciliation killed — with its discrepancies recorded but not committed, right before and
right after its commit — and run again by a new `biaodi reconcile` process, against a real
sandbox gateway whose statement lists payments the platform never heard of (their callbacks
held back): after every kill the books balance and no exception is recorded twice, and the end
state equals an uninterrupted run's on a copy, one open exception per payment."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.engine import make_engine
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.gateway.client import gateway_from_settings
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.payments import orders
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from fault_support import Crashes, budget, child_env, copies, free_port, rng, run_cli, start_cli
from investing_support import user
from payment_support import SandboxControl

pytestmark = pytest.mark.fault

ORDERS = 6
POINTS = ("reconcile.recorded:1", "uow.before_commit:1", "uow.after_commit:1")
STATE = ("SELECT key, kind, status, resolution, txn_id, gateway_fen, ledger_fen "
         "FROM payment_exceptions ORDER BY key")


def state(url: str) -> tuple[list[tuple[object, ...]], bool]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(text(STATE))]
        with UnitOfWork(engine) as uow:
            balanced = ledger.verify(uow).balanced
        return rows, balanced
    finally:
        engine.dispose()


def test_reconciliation_killed_and_rerun_records_each_discrepancy_once(
        platform: Platform, clock: FixedClock, backend: str, tmp_path: Path) -> None:
    random = rng("reconcile", backend)
    crashes = Crashes("reconcile", backend)
    port = free_port()
    sandbox = start_cli(["gateway-sandbox", "--port", str(port)],
                        child_env("sqlite://", TEST_KEY, clock.now().isoformat()),
                        tmp_path / "sandbox.log")
    gateway_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(gateway_url + "/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert sandbox.is_alive() and time.monotonic() < deadline, "no sandbox"
            time.sleep(0.05)
        control = SandboxControl(gateway_url)
        control.new_merchant(clock.now())
        settings = platform.settings.model_copy(update={
            "gateway_url": gateway_url, "gateway_merchant_id": control.merchant_id,
            "gateway_secret": control.secret})
        gateway = gateway_from_settings(settings, clock)
        people = [user(platform, "investor") for _ in range(ORDERS)]
        numbers = []
        for n, person in enumerate(people):
            view = in_transaction(platform.uow, lambda uow, p=person, k=n: orders.start_deposit(
                uow, orders.StartPayment(p, Money.yuan(100 + k), "third_party")))
            orders.submit(platform.uow, gateway, view.order_no,
                          notify_url="http://127.0.0.1:9/api/v1/payments/callbacks")
            control.approve(view.order_no, deliver="hold")  # paid; the platform never told
            numbers.append(view.order_no)
        url = platform.engine.url.render_as_string(hide_password=False)
        platform.engine.dispose()
        day = clock.today()
        argv = ["reconcile", "--date", day.isoformat()]
        extra = {"BIAODI_GATEWAY_URL": gateway_url,
                 "BIAODI_GATEWAY_MERCHANT_ID": control.merchant_id,
                 "BIAODI_GATEWAY_SECRET": control.secret}

        def env(target: str, fault: str = "") -> dict[str, str]:
            return child_env(target, TEST_KEY, clock.now().isoformat(), fault, **extra)

        wanted = budget("reconcile", postgres=backend == "postgres")
        started = time.monotonic()
        with copies(url, backend, tmp_path, ("straight", "crashed")) as (straight, crashed):
            done = run_cli(argv, env(straight), tmp_path / "straight.log")
            assert done.code == 1, done.log  # open exceptions: the held payments
            for _ in range(wanted):
                fault = random.choice(POINTS)
                outcome = run_cli(argv, env(crashed, fault), tmp_path / "crashed.log")
                assert outcome.killed, (fault, outcome.log, crashes.report())
                crashes.add(fault)
                rows, balanced = state(crashed)
                assert balanced, crashes.report()
                assert len({r[0] for r in rows}) == len(rows)
            again = run_cli(argv, env(crashed), tmp_path / "crashed.log")
            assert again.code == 1, again.log
            expected, got = state(straight), state(crashed)
            assert got == expected, crashes.report()
            assert len(got[0]) == ORDERS and {r[2] for r in got[0]} == {"open"}
        elapsed = time.monotonic() - started
        control.close()
    finally:
        sandbox.kill()
        sandbox.join(10)
    assert len(crashes.kills) == wanted
    print(crashes.report(), f"in {elapsed:.1f} s:", sorted(crashes.kills))
