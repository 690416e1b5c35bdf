"""Operator console building blocks shared by the page tests: a signed-in user of any role,
a listing waiting for review, a form posted with its own CSRF token."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings.lifecycle import CreateListing
from biaodi.services.listings.security import AssetInput, SecurityInput
from biaodi.services.shared.tx import in_transaction
from factories import identity
from risk_support import application, apply, env, register_borrower
from web_support import CSRF, post_form

STAFF = {"operator", "risk_officer", "auditor", "risk_override"}


def sign_in(client: TestClient, platform: Platform, *roles: str) -> int:
    """A user with `roles` (staff roles too), signed in through /login."""
    client.cookies.clear()
    data = identity()
    create = users.create_staff if STAFF.intersection(roles) else users.register
    view = in_transaction(platform.uow, lambda uow: create(
        uow, users.Register(**data, roles=roles), platform.cipher))
    response = post_form(client, "/login", {"username": data["username"],
                                            "password": data["password"], "next": "/"})
    assert response.status_code == 303, response.text
    return view.id


def submitted(platform: Platform, *, decided: bool = True, house: bool = False) -> int:
    """A borrower's listing waiting for review: with an approved risk decision (and a rate in
    its band) or with none; a pledged house or none."""
    borrower, person = register_borrower(platform)
    rate = Decimal("0.10")
    if decided:
        decision = apply(platform, borrower, application(person), env(platform))
        assert decision["outcome"] == "approved", decision
        rate = Decimal(decision["rate_band"]["min"]) / 100
    security = SecurityInput()
    kind = "credit"
    if house:
        kind = "collateral"
        security = SecurityInput(assets=(AssetInput(
            "house", Money.yuan(100_000), platform.clock.today() - timedelta(days=3),
            "同信估价", "两居室"),))
    cmd = CreateListing(kind, "经营周转借款", Money.yuan(20_000), rate, 12, "month",
                        "equal_installment", security=security)
    rules = platform.listing_rules

    def make(uow):  # type: ignore[no-untyped-def]
        if not decided:
            listings.set_credit_limit(uow, borrower, Money.yuan(50_000), actor_id=None,
                                      reason="test", rules=rules)
        listing = listings.create_listing(uow, cmd, applicant_id=borrower, rules=rules)
        listings.submit(uow, listing.id, actor_id=borrower, rules=rules)
        return listing.id

    return in_transaction(platform.uow, make)


def act(client: TestClient, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Post to `path` with the token its own form carries (a form rendered without its
    token fails here); where the page shows no form (a reader), the sign-out form's."""
    html = client.get(path.split("?")[0]).text
    forms = re.findall(rf'<form method="post" action="{re.escape(path)}"[^>]*>(.*?)</form>',
                       html, re.S)
    tokens = [CSRF.search(form) for form in forms] or [CSRF.search(html)]
    assert all(tokens), path
    token = tokens[0].group(1)  # type: ignore[union-attr]
    return client.post(path, data=data | {"csrf_token": token}, follow_redirects=False)


