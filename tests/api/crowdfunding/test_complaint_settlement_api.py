"""The operator's complaint settlement through the API (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.crowdfunding import projects as cf
from biaodi.services.shared.tx import in_transaction
from crowdfunding_support import ESCROW, complained_project
from factories import identity
from investing_support import balances
from test_support import login


def test_an_operator_lists_the_complaints_and_releases_the_held_money(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    project_id, _a, _pa, pb = complained_project(platform, clock)
    operator = identity()  # signed in after the weeks the project took
    in_transaction(platform.uow, lambda uow: users.create_staff(
        uow, users.Register(**operator, roles=("operator",)), platform.cipher))
    operator_headers = login(client, operator["username"])
    listed = client.get("/api/v1/operator/crowdfunding/complaints", headers=operator_headers)
    assert listed.status_code == 200
    [held] = listed.json()
    assert held["id"] == project_id and held["on_their_way"] == 1
    assert held["complaints"][0]["complaint"] == "车架有裂纹"
    url = f"/api/v1/operator/crowdfunding/projects/{project_id}/complaints/settlement"
    early = client.post(url, json={"outcome": "release", "reason": "ok"}, headers=operator_headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "deliveries_pending"
    in_transaction(platform.uow, lambda uow: cf.confirm_delivery(uow, pb.id, pb.backer_id))
    wrong = client.post(url, json={"outcome": "keep", "reason": "x"}, headers=operator_headers)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "outcome"
    done = client.post(url, json={"outcome": "release", "reason": "signed for by the backer"},
                       headers=operator_headers)
    assert done.status_code == 200, done.text
    assert done.json()["settlement"] == "released"
    assert balances(platform, ESCROW)[ESCROW] == 0
    assert client.get("/api/v1/operator/crowdfunding/complaints",
                      headers=operator_headers).json() == []
