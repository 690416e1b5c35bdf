"""Helpers for page tests: the CSRF token of a rendered form, signing up and in through the
pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction
from factories import identity

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(client: TestClient, path: str = "/login") -> str:
    response = client.get(path)
    found = CSRF.search(response.text)
    assert found, response.text[:500]
    return found.group(1)


def post_form(client: TestClient, path: str, data: dict[str, str], *, token_from: str = "/login",
              follow: bool = False):  # type: ignore[no-untyped-def]
    body = data | {"csrf_token": csrf_of(client, token_from)}
    return client.post(path, data=body, follow_redirects=follow)


def sign_in_as(client: TestClient, platform: Platform, *roles: str) -> dict[str, str]:
    """Create a user with `roles` (staff roles too) and sign in through /login."""
    data = identity()
    cmd = users.Register(**data, roles=roles or ("investor",))
    create = users.create_staff if "operator" in roles else users.register
    in_transaction(platform.uow, lambda uow: create(uow, cmd, platform.cipher))
    response = post_form(client, "/login", {"username": data["username"],
                                            "password": data["password"], "next": "/"})
    assert response.status_code == 303, response.text
    return data


def assessed_investor(client: TestClient, platform: Platform, yuan: int = 0) -> int:
    """A new investor (risk-assessed: aggressive) with `yuan` in the wallet, signed in on
    `client` through /login."""
    from biaodi.services.investing import suitability
    from investing_support import AGGRESSIVE, deposit

    data = identity()
    cmd = users.Register(**data, roles=("investor",))
    user_id = in_transaction(platform.uow, lambda uow: users.register(uow, cmd,
                                                                      platform.cipher)).id
    in_transaction(platform.uow, lambda uow: suitability.assess(uow, user_id, AGGRESSIVE))
    if yuan:
        deposit(platform, user_id, yuan)
    client.cookies.clear()
    response = post_form(client, "/login", {"username": data["username"],
                                            "password": data["password"], "next": "/me"})
    assert response.status_code == 303, response.text
    return user_id
