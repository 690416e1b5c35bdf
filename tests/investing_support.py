"""Building blocks for investing tests, through the services (fast, both databases)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.listings import ListingTerms
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.investing import auto_invest, counters, suitability
from biaodi.services.investing import invest as investing
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings.lifecycle import CreateListing, ListingRules
from biaodi.services.listings.security import ClaimInput, SecurityInput
from biaodi.services.shared.tx import in_transaction
from factories import identity
from test_support import OVERRIDE_REASON

AGGRESSIVE = {"age": 3, "income": 3, "experience": 3, "horizon": 3, "loss_tolerance": 3,
              "share_of_assets": 3}
CONSERVATIVE = {"age": 0, "income": 0, "experience": 0, "horizon": 0, "loss_tolerance": 0,
                "share_of_assets": 0}


def user(platform: Platform, *roles: str) -> int:
    cmd = users.Register(**identity(), roles=roles)
    create = users.create_staff if "operator" in roles else users.register
    return in_transaction(platform.uow, lambda uow: create(uow, cmd, platform.cipher)).id


def signed_in_investor(platform: Platform, yuan: int = 100_000, answers: dict | None = None,
                       roles: tuple[str, ...] = ("investor",)) -> tuple[int, str]:
    """A registered user with a deposit and an assessment (when an investor), and a bearer
    token: (id, token)."""
    data = identity()

    def create(uow):  # type: ignore[no-untyped-def]
        view = users.register(uow, users.Register(**data, roles=roles), platform.cipher)
        if "investor" in roles:
            if yuan:
                ledger.post(uow, EntryDraft("deposit").transfer(
                    "custody:cash", wallet(OwnerKind.INVESTOR, view.id).code,
                    Money.yuan(yuan).fen))
            if answers is not None:
                suitability.assess(uow, view.id, answers)
        token, _ = users.login(uow, data["username"], "passw0rd-ok", timedelta(hours=1),
                               platform.cipher)
        return view.id, token

    return in_transaction(platform.uow, create)


def deposit(platform: Platform, user_id: int, yuan: int, role: str = "investor") -> None:
    code = wallet(OwnerKind(role), user_id).code
    draft = EntryDraft("deposit").transfer("custody:cash", code, Money.yuan(yuan).fen)
    in_transaction(platform.uow, lambda uow: ledger.post(uow, draft))


def investor(platform: Platform, yuan: int = 100_000, answers: dict | None = None) -> int:
    investor_id = user(platform, "investor")
    if yuan:
        deposit(platform, investor_id, yuan)
    in_transaction(platform.uow, lambda uow: suitability.assess(
        uow, investor_id, answers or AGGRESSIVE))
    return investor_id


def published_listing(platform: Platform, rules: InvestingRules, *, kind: str = "credit",
                      amount: int = 10_000, rate: str = "0.10", term: int = 12,
                      term_unit: str = "month", method: str = "equal_installment",
                      borrower: int | None = None, **security: object) -> int:
    operator = user(platform, "operator", "risk_override")
    applicant_role = "originator" if kind == "transfer" else "borrower"
    borrower = borrower or user(platform, applicant_role)
    if kind == "credit":
        in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
            uow, borrower, Money.yuan(200_000), actor_id=operator, reason="test"))
    if kind == "transfer":
        deposit(platform, borrower, amount, role="originator")
        draft = EntryDraft("reserve").transfer(f"originator:{borrower}:available",
                                               f"originator:{borrower}:buyback_reserve",
                                               Money.yuan(amount).fen // 10)
        in_transaction(platform.uow, lambda uow: ledger.post(uow, draft))
        security.setdefault("claim", ClaimInput(Money.yuan(amount * 2), Decimal("0.12"),
                                                claim_maturity(platform, term, term_unit)))
    cmd = CreateListing(kind=kind, title=f"{kind} test listing", amount=Money.yuan(amount),
                        annual_rate=Decimal(rate), term=term, term_unit=term_unit,
                        repayment_method=method, security=SecurityInput(**security))
    listing_rules: ListingRules = rules.listing
    listing_id = in_transaction(platform.uow, lambda uow: listings.create_listing(
        uow, cmd, applicant_id=borrower, rules=listing_rules)).id
    in_transaction(platform.uow, lambda uow: listings.submit(
        uow, listing_id, actor_id=borrower, rules=listing_rules))
    approve(platform, listing_id, operator, listing_rules)
    in_transaction(platform.uow, lambda uow: auto_invest.publish(
        uow, listing_id, actor_id=operator, reason="", rules=rules))
    return listing_id


def claim_maturity(platform: Platform, term: int, term_unit: str = "month") -> date:
    """The maturity of a claim sold whole by a listing of `term` published today: the
    listing runs for the claim's remaining term (no term splitting under cn-2016)."""
    terms = ListingTerms(Money.yuan(100), Decimal("0.1"), term, term_unit, "bullet")
    return terms.maturity(platform.clock.today())


def approve(platform: Platform, listing_id: int, operator: int, rules: ListingRules,
            override_reason: str | None = OVERRIDE_REASON) -> None:
    """Approve as `operator` (who holds risk_override for the set-up's override). Through the
    platform's rules an applicant without a valid risk decision needs that override; with
    rules built by hand, or a valid decision, the override is not used."""
    in_transaction(platform.uow, lambda uow: listings.approve(
        uow, listing_id, actor_id=operator, reason="ok", rules=rules,
        override_reason=override_reason))


def invest(platform: Platform, rules: InvestingRules, listing_id: int, investor_id: int,
           yuan: int | str) -> investing.Invested:
    cmd = investing.Invest(listing_id, investor_id, Money.yuan(yuan))
    return in_transaction(platform.uow, lambda uow: investing.invest(uow, cmd, rules))


def many_investors(platform: Platform, count: int, yuan: int = 10_000) -> list[int]:
    """`count` funded, aggressive-level investors, created in one transaction."""

    def create(uow):  # type: ignore[no-untyped-def]
        ids = []
        for _ in range(count):
            view = users.register(uow, users.Register(**identity(), roles=("investor",)),
                                  platform.cipher)
            ledger.post(uow, EntryDraft("deposit").transfer(
                "custody:cash", wallet(OwnerKind.INVESTOR, view.id).code, Money.yuan(yuan).fen))
            suitability.assess(uow, view.id, AGGRESSIVE)
            ids.append(view.id)
        return ids

    return in_transaction(platform.uow, create)


def balances(platform: Platform, *codes: str) -> dict[str, int]:
    with platform.uow() as uow:
        return ledger.balances(uow, list(codes))


def assert_books_balanced(platform: Platform) -> None:
    with platform.uow() as uow:
        result = ledger.verify(uow)
        custody = ledger.balance(uow, "custody:cash")
        wallets = uow.s.execute(select(func.sum(ledger.Account.balance)).where(
            ledger.Account.owner_kind.in_(["investor", "borrower", "originator", "guarantor"])
        )).scalar()
        miscounted = counters.mismatches(uow)
    assert result.balanced, result.problems
    assert not miscounted, miscounted  # the maintained counters equal the sums of history
    assert custody == wallets  # custody holds exactly the users' money, nothing else
