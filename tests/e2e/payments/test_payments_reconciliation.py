"""`biaodi reconcile` against the sandbox's statement: it finds each planted discrepancy
(missing in the ledger, missing at the gateway, wrong amount) and nothing else, exits non-zero
while they are open, and zero once an operator has resolved them through the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from biaodi.cli.main import app
from conftest import TEST_KEY
from payment_support import Live

Run = Callable[..., Result]
DAY = "2026-11-28"  # the business date of the test clock (10:00 in Beijing)


@pytest.fixture
def cli(live: Live, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    settings = live.platform.settings
    for name, value in {
        "DATABASE_URL": db_url, "SECRET_KEY": TEST_KEY, "GATEWAY_URL": settings.gateway_url,
        "GATEWAY_MERCHANT_ID": settings.gateway_merchant_id,
        "GATEWAY_SECRET": settings.gateway_secret, "FIXED_NOW": live.clock.now().isoformat(),
    }.items():
        monkeypatch.setenv(f"BIAODI_{name}", value)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def deposit(live: Live, amount: str, **approve: Any) -> tuple[dict[str, str], dict[str, Any]]:
    _, headers = live.register("investor")
    order = live.start("deposits", headers, amount)
    result = live.sandbox.approve(order["order_no"], **approve)
    return headers, result["order"]


def test_reconciliation_finds_exactly_the_planted_discrepancies(live: Live, cli: Run) -> None:
    a, _ = deposit(live, "100.00")  # matched
    b, lost = deposit(live, "200.00", deliver="hold")  # the callback never arrives
    c, unknown_to_gateway = deposit(live, "300.00")
    live.sandbox.plant(unknown_to_gateway["order_no"], omit=True)
    d, short = deposit(live, "400.00")
    live.sandbox.plant(short["order_no"], amount="390.00")
    payout = live.start("withdrawals", a, "50.00")  # matched payout
    live.sandbox.approve(payout["order_no"])
    declined = live.start("withdrawals", a, "20.00")  # moved no money: on neither side
    live.sandbox.decline(declined["order_no"])
    refused = live.start("deposits", a, "70.00")
    live.sandbox.decline(refused["order_no"])

    first = cli("reconcile", "--date", DAY)
    assert first.exit_code == 1, first.output
    assert "4 statement line(s), 2 matched, 3 discrepancy(ies)" in first.output
    planted = {
        ("missing_in_ledger", lost["txn_id"], "+200.00", None),
        ("missing_at_gateway", unknown_to_gateway["txn_id"], None, "+300.00"),
        ("amount_mismatch", short["txn_id"], "+390.00", "+400.00"),
    }
    operator = live.operator()

    def open_exceptions() -> list[dict[str, Any]]:
        response = live.http.get("/api/v1/operator/payments/exceptions", headers=operator)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    found = open_exceptions()
    assert {(e["kind"], e["txn_id"], e["gateway_amount"], e["ledger_amount"])
            for e in found} == planted
    for e in found:
        assert f"{e['kind']}: txn {e['txn_id']}" in first.output

    again = cli("reconcile", "--date", DAY)  # a rerun records nothing twice
    assert again.exit_code == 1
    assert len(open_exceptions()) == 3
    everything = live.http.get("/api/v1/operator/payments/exceptions", params={"status": ""},
                               headers=operator).json()
    assert len(everything) == 3

    by_kind = {e["kind"]: e for e in found}

    def resolve(kind: str, action: str, reason: str = "checked with the gateway") -> Any:
        return live.http.post(
            f"/api/v1/operator/payments/exceptions/{by_kind[kind]['id']}/resolve",
            json={"action": action, "reason": reason},
            headers=operator | {"Idempotency-Key": uuid.uuid4().hex},
        )

    wrong = resolve("missing_in_ledger", "reverse")
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "action"
    mute = resolve("missing_in_ledger", "apply", reason=" ")
    assert mute.status_code == 422 and mute.json()["error"]["field"] == "reason"

    for kind, action in (("missing_in_ledger", "apply"), ("missing_at_gateway", "reverse"),
                         ("amount_mismatch", "adjust")):
        done = resolve(kind, action)
        assert done.status_code == 200, done.text
        assert done.json()["resolution"] == action and done.json()["entry_id"]
    assert live.wallet(b)["available"] == "200.00"  # booked from the statement
    assert live.order(b, lost["order_no"])["status"] == "succeeded"
    assert live.wallet(c)["available"] == "0.00"  # reversed: the gateway never had it
    assert live.order(c, unknown_to_gateway["order_no"])["status"] == "reversed"
    assert live.wallet(d)["available"] == "390.00"  # corrected to the gateway's amount
    assert live.wallet(a) == {"available": "50.00", "frozen": "0.00"}

    clean = cli("reconcile", "--date", DAY)
    assert clean.exit_code == 0, clean.output
    assert "4 matched, 0 discrepancy(ies)" in clean.output
    assert f"{DAY} reconciled: no open exceptions" in clean.output
    assert open_exceptions() == []
    verified = cli("ledger", "verify")
    assert verified.exit_code == 0 and "ledger balanced" in verified.output


def test_reconcile_refuses_a_bad_date_and_an_unreachable_gateway(
    live: Live, cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = cli("reconcile", "--date", "28/11/2026")
    assert bad.exit_code == 2 and "--date" in bad.output
    future = cli("reconcile", "--date", "2026-11-29")
    assert future.exit_code == 3 and "has not begun" in future.output
    monkeypatch.setenv("BIAODI_GATEWAY_URL", "http://127.0.0.1:9")
    down = cli("reconcile", "--date", DAY)
    assert down.exit_code == 3 and "did not answer" in down.output
