"""Reward crowdfunding on SQLite and PostgreSQL: a project that fails refunds everyone; one that
succeeds pays the fee, releases 70 % and then, once rewards are delivered, the held 30 %."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.fund_tables import CrowdPledge, CrowdProject, CrowdTier
from biaodi.bootstrap import Platform
from biaodi.domain.crowdfunding.rules import CrowdfundingRules
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.crowdfunding import projects as cf
from biaodi.services.shared.tx import in_transaction
from investing_support import assert_books_balanced, balances, investor, user
from servicing_support import set_day

RULES = CrowdfundingRules()
START = date(2026, 12, 1)


def _live_project(platform: Platform, goal_yuan: int, days: int = 5) -> tuple[int, int, int]:
    owner = user(platform, "borrower")
    cmd = cf.CreateProject(owner, "便携咖啡机", "一台能装进口袋的咖啡机", Money.yuan(goal_yuan),
                           days, [cf.TierInput("早鸟", Money.yuan(300), 2, date(2027, 2, 1)),
                                  cf.TierInput("标准", Money.yuan(500), 100, date(2027, 3, 1))])

    def make(uow):  # type: ignore[no-untyped-def]
        project = cf.create(uow, cmd, RULES)
        cf.review(uow, project.id, approve=True, note="ok", rules=RULES)
        return project.id, owner

    project_id, owner = in_transaction(platform.uow, make)
    with platform.reader() as uow:
        early = min(t.id for t in uow.s.scalars(
            select(CrowdTier).where(CrowdTier.project_id == project_id)))
    return project_id, owner, early


def _close(platform: Platform, clock: FixedClock, day: date) -> dict[str, int]:
    set_day(clock, day, time(23, 0))
    done = {}
    for step in cf.day_steps(RULES):
        done[step.name] = in_transaction(platform.uow, lambda uow, s=step: s.run(uow, day))
    return done


def _available(platform: Platform, *people: int) -> list[int]:
    codes = [wallet(OwnerKind.INVESTOR, p).code for p in people]
    found = balances(platform, *codes)
    return [found[c] for c in codes]


def test_a_project_short_of_its_goal_fails_and_refunds_every_backer(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, START)
    project_id, _owner, early = _live_project(platform, goal_yuan=10_000, days=3)
    a, b, c = (investor(platform, 2_000) for _ in range(3))
    in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, a, tier_id=early))
    in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, b, tier_id=early))
    with pytest.raises(Conflict, match="sold out"):
        in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, c, tier_id=early))
    in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, c,
                                                     amount=Money.parse("88.80")))
    assert _available(platform, a, b, c) == [170_000, 170_000, 191_120]
    assert balances(platform, f"crowdfunding:{project_id}:backers")[
        f"crowdfunding:{project_id}:backers"] == 68_880
    assert_books_balanced(platform)  # lending custody still equals the lending wallets

    assert _close(platform, clock, START + timedelta(days=1))["crowdfunding_settle"] == 0
    assert _close(platform, clock, START + timedelta(days=2))["crowdfunding_settle"] == 1
    assert _available(platform, a, b, c) == [200_000, 200_000, 200_000]
    assert balances(platform, "crowdfunding:escrow_cash", f"crowdfunding:{project_id}:backers"
                    ) == {"crowdfunding:escrow_cash": 0, f"crowdfunding:{project_id}:backers": 0}
    with platform.reader() as uow:
        project = uow.s.get(CrowdProject, project_id)
        assert project is not None and project.status == "failed"
        assert {p.status for p in uow.s.scalars(select(CrowdPledge))} == {"refunded"}
    with pytest.raises(Conflict, match="not taking support"):
        in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, a, tier_id=early))
    assert_books_balanced(platform)


def test_a_project_that_succeeds_releases_70_percent_then_30_after_delivery(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, START)
    project_id, owner, early = _live_project(platform, goal_yuan=1_000, days=2)
    a, b = investor(platform, 2_000), investor(platform, 2_000)
    first = in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, a, tier_id=early))
    in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, b,
                                                     amount=Money.yuan(800)))
    raised = Money.yuan(1_100).fen
    fee, first_release = 3_300, 74_690  # 3 % of ¥1,100; 70 % of the ¥1,067 left
    held = raised - fee - first_release

    assert _close(platform, clock, START + timedelta(days=1))["crowdfunding_settle"] == 1
    escrow = "crowdfunding:escrow_cash"
    assert balances(platform, escrow, "crowdfunding:fee_income",
                    f"crowdfunding:{project_id}:owner_payable") == {
        escrow: raised - fee, "crowdfunding:fee_income": fee,
        f"crowdfunding:{project_id}:owner_payable": raised - fee}

    assert _close(platform, clock, START + timedelta(days=2))["crowdfunding_release"] == 1
    assert balances(platform, escrow)[escrow] == held  # 70 % paid out, 30 % held
    in_transaction(platform.uow, lambda uow: cf.ship(uow, first.id, owner, "SF1234567890"))
    shipped = START + timedelta(days=2)
    assert _close(platform, clock, shipped + timedelta(days=14))["crowdfunding_release"] == 0
    assert balances(platform, escrow)[escrow] == held  # not yet 15 days without a complaint
    done = _close(platform, clock, shipped + timedelta(days=15))
    assert done["crowdfunding_deliveries"] == 1 and done["crowdfunding_release"] == 1
    assert balances(platform, escrow, f"crowdfunding:{project_id}:owner_payable") == {
        escrow: 0, f"crowdfunding:{project_id}:owner_payable": 0}
    with platform.reader() as uow:
        project = uow.s.get(CrowdProject, project_id)
        assert project is not None
        assert (project.status, project.fee_fen, project.first_release_fen, project.held_fen) \
            == ("succeeded", fee, first_release, held)
        assert project.held_released_on == shipped + timedelta(days=15)
    assert_books_balanced(platform)


def test_a_complaint_holds_the_30_percent_and_days_are_the_rule_packs(
        platform: Platform, clock: FixedClock) -> None:
    set_day(clock, START)
    with pytest.raises(InvalidInput, match=r"crowdfunding\.duration"):
        in_transaction(platform.uow, lambda uow: cf.create(uow, cf.CreateProject(
            user(platform, "borrower"), "x", "", Money.yuan(1), 61, []), RULES))
    project_id, owner, early = _live_project(platform, goal_yuan=300, days=1)
    backer = investor(platform, 1_000)
    pledge = in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, backer,
                                                              tier_id=early))
    _close(platform, clock, START)
    _close(platform, clock, START + timedelta(days=1))
    in_transaction(platform.uow, lambda uow: cf.ship(uow, pledge.id, owner, "YT0001"))
    in_transaction(platform.uow, lambda uow: cf.complain(uow, pledge.id, backer, "坏了"))
    assert _close(platform, clock, START + timedelta(days=30))["crowdfunding_release"] == 0
    in_transaction(platform.uow, lambda uow: cf.confirm_delivery(uow, pledge.id, backer))
    assert _close(platform, clock, START + timedelta(days=31))["crowdfunding_release"] == 1
    assert_books_balanced(platform)
