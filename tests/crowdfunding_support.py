"""A crowdfunding project whose held 30 % a complaint holds, for the settlement tests."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.fund_tables import CrowdPledge, CrowdTier
from biaodi.bootstrap import Platform
from biaodi.domain.crowdfunding.rules import CrowdfundingRules
from biaodi.domain.shared.money import Money
from biaodi.services.crowdfunding import projects as cf
from biaodi.services.shared.tx import in_transaction
from investing_support import balances, investor, user
from servicing_support import set_day

RULES = CrowdfundingRules()
START = date(2026, 12, 1)
ESCROW = "crowdfunding:escrow_cash"
RAISED, FEE, FIRST = 110_000, 3_300, 74_690  # ¥1,100 raised: 3 % fee, 70 % of the rest
HELD = RAISED - FEE - FIRST  # 32,010 fen held for delivery


def close_crowdfunding(platform: Platform, clock: FixedClock, day: date) -> dict[str, int]:
    set_day(clock, day, time(23, 0))
    return {step.name: in_transaction(platform.uow, lambda uow, s=step: s.run(uow, day))
            for step in cf.day_steps(RULES)}


def complained_project(platform: Platform, clock: FixedClock
                        ) -> tuple[int, int, CrowdPledge, CrowdPledge]:
    """¥1,100 raised from two ¥300 rewards and ¥500 of no-reward support; both rewards shipped,
    the first backer complains, the 70 % paid out."""
    set_day(clock, START)
    owner = user(platform, "borrower")
    cmd = cf.CreateProject(owner, "折叠自行车", "", Money.yuan(1_000), 1,
                           [cf.TierInput("早鸟", Money.yuan(300), 10, date(2027, 2, 1))])

    def make(uow):  # type: ignore[no-untyped-def]
        project = cf.create(uow, cmd, RULES)
        cf.review(uow, project.id, approve=True, note="ok", rules=RULES)
        return project.id

    project_id = in_transaction(platform.uow, make)
    with platform.reader() as uow:
        tier_id = uow.s.scalars(select(CrowdTier.id).where(
            CrowdTier.project_id == project_id)).one()
    a, b, c = (investor(platform, 1_000) for _ in range(3))
    pa = in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, a, tier_id=tier_id))
    pb = in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, b, tier_id=tier_id))
    in_transaction(platform.uow, lambda uow: cf.back(uow, project_id, c, amount=Money.yuan(500)))
    close_crowdfunding(platform, clock, START)  # settled: succeeded
    close_crowdfunding(platform, clock, START + timedelta(days=1))  # the 70 % paid
    for pledge in (pa, pb):
        in_transaction(platform.uow, lambda uow, p=pledge: cf.ship(uow, p.id, owner, "SF0001"))
    in_transaction(platform.uow, lambda uow: cf.complain(uow, pa.id, a, "车架有裂纹"))
    assert balances(platform, ESCROW)[ESCROW] == HELD
    return project_id, a, pa, pb
