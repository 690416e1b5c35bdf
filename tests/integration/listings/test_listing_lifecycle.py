"""A listing's whole lifecycle through the services, persisted on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from biaodi.adapters.db.tables import ListingTransition
from biaodi.bootstrap import Platform
from biaodi.domain.listings.lifecycle import IllegalTransition
from biaodi.domain.shared.compliance import ComplianceViolation
from biaodi.domain.shared.errors import Forbidden, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings.lifecycle import CreateListing, ListingRules
from biaodi.services.shared.tx import in_transaction
from factories import identity

RULES = ListingRules()


def new_user(platform: Platform, *roles: str) -> int:
    cmd = users.Register(**identity(), roles=roles)
    create = users.create_staff if "operator" in roles else users.register
    return in_transaction(platform.uow, lambda uow: create(uow, cmd, platform.cipher)).id


def credit_listing(platform: Platform, borrower: int, operator: int, **changes: object) -> int:
    in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
        uow, borrower, Money.yuan(100_000), actor_id=operator, reason="payslips"))
    cmd = CreateListing(kind="credit", title="装修贷款", amount=Money.yuan(20_000),
                        annual_rate=Decimal("0.09"), term=6, term_unit="month",
                        repayment_method="equal_principal")
    cmd = CreateListing(**{**cmd.__dict__, **changes})
    return in_transaction(platform.uow, lambda uow: listings.create_listing(
        uow, cmd, applicant_id=borrower, rules=RULES)).id


def step(platform: Platform, fn, listing_id: int, **kwargs):  # type: ignore[no-untyped-def]
    return in_transaction(platform.uow, lambda uow: fn(uow, listing_id, **kwargs))


def history(platform: Platform, listing_id: int) -> list[tuple[str, str, int | None, str]]:
    with platform.uow() as uow:
        rows = uow.s.scalars(select(ListingTransition).where(
            ListingTransition.listing_id == listing_id).order_by(ListingTransition.id)).all()
        return [(r.from_status, r.to_status, r.actor_id, r.reason) for r in rows]


def test_full_lifecycle_to_settled_and_to_written_off(platform: Platform) -> None:
    borrower, operator = new_user(platform, "borrower"), new_user(platform, "operator")
    good = credit_listing(platform, borrower, operator)
    step(platform, listings.submit, good, actor_id=borrower, rules=RULES)
    step(platform, listings.approve, good, actor_id=operator, reason="ok", rules=RULES)
    step(platform, listings.publish, good, actor_id=operator, reason="", rules=RULES)
    for target, reason in (("funded", "remaining reached zero"), ("repaying", "disbursed"),
                           ("overdue", "instalment 2 unpaid"), ("repaying", "cured"),
                           ("settled", "last instalment paid")):
        step(platform, listings.advance, good, target=target, actor_id=None, reason=reason)
    assert [h[1] for h in history(platform, good)] == [
        "draft", "submitted", "approved", "published", "funded", "repaying", "overdue",
        "repaying", "settled"]
    assert history(platform, good)[2] == ("submitted", "approved", operator, "ok")
    with pytest.raises(IllegalTransition):
        step(platform, listings.advance, good, target="overdue", actor_id=None, reason="x")

    bad = credit_listing(platform, borrower, operator, title="经营周转")
    step(platform, listings.submit, bad, actor_id=borrower, rules=RULES)
    step(platform, listings.approve, bad, actor_id=operator, reason="ok", rules=RULES)
    step(platform, listings.publish, bad, actor_id=operator, reason="", rules=RULES)
    for target in ("funded", "repaying", "overdue", "defaulted", "written_off"):
        step(platform, listings.advance, bad, target=target, actor_id=operator,
             reason=f"{target} by close of business")
    assert history(platform, bad)[-1][:2] == ("defaulted", "written_off")


def test_failed_and_rejected_paths(platform: Platform) -> None:
    borrower, operator = new_user(platform, "borrower"), new_user(platform, "operator")
    unfunded = credit_listing(platform, borrower, operator)
    step(platform, listings.submit, unfunded, actor_id=borrower, rules=RULES)
    step(platform, listings.approve, unfunded, actor_id=operator, reason="", rules=RULES)
    step(platform, listings.publish, unfunded, actor_id=operator, reason="", rules=RULES)
    with pytest.raises(InvalidInput) as info:
        step(platform, listings.advance, unfunded, target="failed", actor_id=None, reason="")
    assert info.value.field == "reason"
    step(platform, listings.advance, unfunded, target="failed", actor_id=None,
         reason="funding deadline passed at 40 %")

    refused = credit_listing(platform, borrower, operator)
    with pytest.raises(Forbidden):  # someone else's listing
        step(platform, listings.submit, refused, actor_id=operator, rules=RULES)
    step(platform, listings.submit, refused, actor_id=borrower, rules=RULES)
    step(platform, listings.reject, refused, actor_id=operator, reason="purpose unclear")
    with pytest.raises(IllegalTransition) as illegal:
        step(platform, listings.publish, refused, actor_id=operator, reason="", rules=RULES)
    assert illegal.value.status == 409


def test_instant_listing_follows_the_profile(platform: Platform) -> None:
    borrower = new_user(platform, "borrower")
    cmd = CreateListing(kind="instant", title="新手秒标", amount=Money.yuan(10_000),
                        annual_rate=Decimal("0.1"), term=1, term_unit="day",
                        repayment_method="bullet")
    with pytest.raises(ComplianceViolation) as banned:
        in_transaction(platform.uow, lambda uow: listings.create_listing(
            uow, cmd, applicant_id=borrower, rules=RULES))
    assert banned.value.rule_id == "cn2016.instant_listing_ban"

    permissive = ListingRules(profile_name="permissive")
    listing = in_transaction(platform.uow, lambda uow: listings.create_listing(
        uow, cmd, applicant_id=borrower, rules=permissive))
    assert listing.risk_level == 5
    too_big = CreateListing(**{**cmd.__dict__, "amount": Money.yuan(50_001)})
    with pytest.raises(ComplianceViolation):
        in_transaction(platform.uow, lambda uow: listings.create_listing(
            uow, too_big, applicant_id=borrower, rules=permissive))
