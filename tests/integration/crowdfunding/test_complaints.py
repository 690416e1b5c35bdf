"""An operator settles the complaints that hold a crowdfunding project's 30 %, on SQLite and
PostgreSQL: released to the owner, or the complaining backers refunded their share of it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.fund_tables import CrowdPledge, CrowdProject
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.services.crowdfunding import projects as cf
from biaodi.services.shared.tx import in_transaction
from crowdfunding_support import (
    ESCROW,
    HELD,
    RAISED,
    START,
    close_crowdfunding,
    complained_project,
)
from investing_support import assert_books_balanced, balances, user


def _settle(platform: Platform, project_id: int, outcome: str, reason: str = "checked photos"
            ) -> CrowdProject:
    operator = user(platform, "operator")
    return in_transaction(platform.uow, lambda uow: cf.settle_complaints(
        uow, cf.SettleComplaints(project_id, operator, outcome, reason)))


def _available(platform: Platform, person: int) -> int:
    code = wallet(OwnerKind.INVESTOR, person).code
    return balances(platform, code)[code]


def test_a_refund_pays_the_complaining_backer_their_share_of_the_held_30_percent(
        platform: Platform, clock: FixedClock) -> None:
    project_id, a, pa, pb = complained_project(platform, clock)
    with pytest.raises(Conflict) as early:  # b's reward is still on its way
        _settle(platform, project_id, "refund")
    assert early.value.code == "deliveries_pending"
    in_transaction(platform.uow, lambda uow: cf.confirm_delivery(uow, pb.id, pb.backer_id))
    later = close_crowdfunding(platform, clock, START + timedelta(days=40))
    assert later["crowdfunding_release"] == 0
    before = _available(platform, a)
    settled = _settle(platform, project_id, "refund", "reward arrived broken")
    share = HELD * 30_000 // RAISED  # a's ¥300 of the ¥1,100: 8,730 fen
    assert share == 8_730
    assert _available(platform, a) == before + share
    assert balances(platform, ESCROW, f"crowdfunding:{project_id}:owner_payable") == {
        ESCROW: 0, f"crowdfunding:{project_id}:owner_payable": 0}  # the rest to the owner
    assert (settled.settlement, settled.settlement_reason) == ("refunded", "reward arrived broken")
    with platform.reader() as uow:
        pledge = uow.s.get(CrowdPledge, pa.id)
        assert pledge is not None and (pledge.delivery, pledge.refunded_fen) == ("resolved", share)
    with pytest.raises(Conflict) as again:
        _settle(platform, project_id, "release")
    assert again.value.code == "nothing_held"
    assert_books_balanced(platform)


def test_a_release_pays_the_held_30_percent_to_the_owner(
        platform: Platform, clock: FixedClock) -> None:
    project_id, a, _pa, pb = complained_project(platform, clock)
    in_transaction(platform.uow, lambda uow: cf.confirm_delivery(uow, pb.id, pb.backer_id))
    with pytest.raises(InvalidInput) as no_reason:
        _settle(platform, project_id, "release", "  ")
    assert no_reason.value.field == "reason"
    before = _available(platform, a)
    settled = _settle(platform, project_id, "release", "tracking shows delivered")
    assert settled.settlement == "released" and settled.held_released_on is not None
    assert _available(platform, a) == before  # the complaining backer gets nothing back
    assert balances(platform, ESCROW)[ESCROW] == 0
    later = close_crowdfunding(platform, clock, START + timedelta(days=40))
    assert later["crowdfunding_release"] == 0
    assert_books_balanced(platform)


def test_a_project_without_a_complaint_has_nothing_to_settle(
        platform: Platform, clock: FixedClock) -> None:
    project_id, a, pa, _pb = complained_project(platform, clock)
    in_transaction(platform.uow, lambda uow: cf.confirm_delivery(uow, pa.id, a))
    with pytest.raises(Conflict) as refused:
        _settle(platform, project_id, "release")
    assert refused.value.code == "no_complaint"


def test_refund_shares_are_pro_rata_and_rounded_down() -> None:
    assert cf.refund_shares(1_000, 3_000, [(1, 1_000), (2, 2_000)]) == {1: 333, 2: 666}
