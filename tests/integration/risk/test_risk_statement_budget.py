"""Statement budget of one risk decision through the API (a count, never a timing): the
bearer-token check, then the decision's transaction — one read of everything the checks need
(applicant and role, blacklist, shared phones/cards/devices, outstanding on Biaodi), the
application, the decision, an approval's credit limit, and the audit record.
`statements_support` says what is counted."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from factories import identity
from risk_support import application_body
from statements_support import statement_counter
from test_support import login

#: The caller (token, user and roles: one statement); SQLite's BEGIN IMMEDIATE (counted:
#: sent through a cursor); the evidence read; the application and decision INSERTs; the
#: audit record (PostgreSQL: one statement; SQLite: head, record, subjects). An approval adds
#: the credit-limit upsert (the borrower role is already known from the evidence read).
#: Before: 11 and 12 on SQLite (the evidence in four reads, the role read again for the limit).
DECISION = {"postgres": {"approved": 6, "refused": 5},
            "sqlite": {"approved": 9, "refused": 8}}


@pytest.mark.parametrize("outcome", ["approved", "refused"])
def test_one_risk_decision_sends_a_fixed_handful_of_statements(
        platform: Platform, backend: str, outcome: str) -> None:
    with TestClient(create_app(platform)) as client:
        person = identity()
        assert client.post("/api/v1/users", json=person | {"roles": ["borrower"]}
                           ).status_code == 201
        headers = login(client, person["username"])
        body = application_body(person)
        if outcome == "refused":  # an age that disagrees with the ID number, a heavy DTI
            body |= {"declared_age": body["declared_age"] + 1, "monthly_debt_payments": "15000"}
        warm = client.post("/api/v1/risk/applications", json=body, headers=headers)
        assert warm.status_code == 201, warm.text  # first decision: model registration
        with statement_counter(platform.engine, platform.read_engine) as seen:
            response = client.post("/api/v1/risk/applications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == outcome
    assert seen.count <= DECISION[backend][outcome], f"{seen.count} statements:\n{seen}"
