"""Resolving the cash wallet's breaks through the API (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction
from factories import identity
from funds_support import planted_break
from investing_support import balances
from test_support import login


def test_an_operator_takes_the_funds_figure_for_a_break(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    _holder, break_id = planted_break(platform, clock)
    staff = identity()
    in_transaction(platform.uow, lambda uow: users.create_staff(
        uow, users.Register(**staff, roles=("operator",)), platform.cipher))
    headers = login(client, staff["username"])
    [listed] = client.get("/api/v1/operator/cash-wallet/breaks", headers=headers).json()
    assert listed["id"] == break_id and listed["kind"] == "units_mismatch"
    url = f"/api/v1/operator/cash-wallet/breaks/{break_id}/resolution"
    wrong = client.post(url, json={"resolution": "ignore", "reason": "x"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "resolution"
    no_day = client.post(url, json={"resolution": "timing", "reason": "later"}, headers=headers)
    assert no_day.status_code == 422 and no_day.json()["error"]["field"] == "cleared_on"
    done = client.post(url, json={"resolution": "adjust", "reason": "fund's correction"},
                       headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["resolution"] == "adjusted" and done.json()["reason"] == "fund's correction"
    assert balances(platform, "suspense:fund")["suspense:fund"] == 500
    again = client.post(url, json={"resolution": "adjust", "reason": "again"}, headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_resolved"
    assert client.get("/api/v1/operator/cash-wallet/breaks", headers=headers).json() == []
