"""Reward crowdfunding use cases: a project with reward tiers goes through review, raises
money while live and is settled by close of business at its deadline, all or nothing.

Money never mixes with lending: backing moves the backer's wallet money out of lending custody
into the crowdfunding escrow (investor:N:available ↓ / custody:cash ↓; crowdfunding:escrow_cash
↑ / crowdfunding:P:backers ↑). A failed project refunds every pledge the same way back. A
successful one owes its backers nothing more: the platform's fee goes to platform cash, and the
owner is paid from escrow — 70 % after settlement (within 3 days), 30 % once every reward is
confirmed delivered. A complaint holds the 30 % until the backer confirms or an operator
settles it (`settle_complaints`: released to the owner, or the complaining backers refunded
their share of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update

from biaodi.adapters.db import audit
from biaodi.adapters.db.fund_tables import CrowdPledge, CrowdProject, CrowdTier
from biaodi.adapters.db.tables import UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.crowdfunding.rules import CrowdfundingRules, succeeded
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, crowdfunding_account, wallet
from biaodi.domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.servicing.close_day import DayStep

ESCROW = crowdfunding_account("escrow_cash")
FEE_INCOME = crowdfunding_account("fee_income")


@dataclass(frozen=True)
class TierInput:
    title: str
    price: Money
    quota: int
    ship_date: date


@dataclass(frozen=True)
class CreateProject:
    owner_id: int
    title: str
    description: str
    goal: Money
    days: int
    tiers: Sequence[TierInput]


def _project(uow: UnitOfWork, project_id: int, *, lock: bool = False) -> CrowdProject:
    project = uow.s.get(CrowdProject, project_id, with_for_update=lock or None)
    if project is None:
        raise NotFound(f"no crowdfunding project {project_id}", field="project_id")
    return project


def create(uow: UnitOfWork, cmd: CreateProject, rules: CrowdfundingRules) -> CrowdProject:
    """A project submitted for review, with its tiers."""
    title = cmd.title.strip()
    if not 1 <= len(title) <= 120:
        raise InvalidInput("title must be 1 to 120 characters", field="title")
    if cmd.goal.fen <= 0:
        raise InvalidInput("goal must be positive", field="goal")
    rules.check_days(cmd.days)
    if len(cmd.tiers) > rules.max_tiers:
        raise InvalidInput(f"at most {rules.max_tiers} tiers", field="tiers")
    today = uow.clock.today()
    for n, tier in enumerate(cmd.tiers):
        if not tier.title.strip() or len(tier.title) > 120:
            raise InvalidInput("a tier's title must be 1 to 120 characters",
                               field=f"tiers[{n}].title")
        if tier.price.fen <= 0:
            raise InvalidInput("a tier's price must be positive", field=f"tiers[{n}].price")
        if not 1 <= tier.quota <= 1_000_000:
            raise InvalidInput("a tier's quota must be from 1 to 1,000,000",
                               field=f"tiers[{n}].quota")
        if tier.ship_date <= today:
            raise InvalidInput("a tier's estimated ship date must be after today",
                               field=f"tiers[{n}].ship_date")
    project = CrowdProject(owner_id=cmd.owner_id, title=title,
                           description=cmd.description.strip()[:4000], goal_fen=cmd.goal.fen,
                           raised_fen=0, days=cmd.days, status="review", review_note="",
                           fee_fen=0, first_release_fen=0, held_fen=0,
                           created_at=uow.clock.now())
    uow.s.add(project)
    uow.s.flush()
    for tier in cmd.tiers:
        uow.s.add(CrowdTier(project_id=project.id, title=tier.title.strip(),
                            price_fen=tier.price.fen, quota=tier.quota, taken=0,
                            ship_date=tier.ship_date))
    ledger.open_accounts(uow, [ESCROW, FEE_INCOME,
                               crowdfunding_account("backers", project.id),
                               crowdfunding_account("owner_payable", project.id)])
    uow.s.flush()
    return project


def review(uow: UnitOfWork, project_id: int, *, approve: bool, note: str,
           rules: CrowdfundingRules) -> CrowdProject:
    """An operator's decision: live from today until its deadline, or rejected."""
    project = _project(uow, project_id, lock=True)
    if project.status != "review":
        raise Conflict(f"project {project_id} is {project.status}, not in review",
                       field="project_id", code="not_in_review")
    project.review_note = note.strip()[:400]
    if approve:
        today = uow.clock.today()
        project.status, project.live_from = "live", today
        project.deadline = rules.deadline(today, project.days)
    else:
        if not project.review_note:
            raise InvalidInput("a rejection needs a reason", field="note")
        project.status = "rejected"
    return project


def back(uow: UnitOfWork, project_id: int, backer_id: int, *, tier_id: int | None = None,
         amount: Money | None = None) -> CrowdPledge:
    """Support a live project: a reward tier at its price (within its quota), or an amount
    of no-reward support."""
    project = _project(uow, project_id, lock=True)
    today = uow.clock.today()
    if project.status != "live" or project.deadline is None or today > project.deadline:
        raise Conflict(f"project {project_id} is not taking support ({project.status})",
                       field="project_id", code="project_not_live")
    if backer_id == project.owner_id:
        raise Forbidden("an owner cannot back their own project", field="project_id")
    if uow.s.execute(select(UserRole.user_id).where(
            UserRole.user_id == backer_id, UserRole.role == "investor")).first() is None:
        raise Forbidden("backing is paid from an investor wallet", field="backer_id")
    if tier_id is not None:
        if amount is not None:
            raise InvalidInput("a reward tier has its own price: give a tier or an amount",
                               field="amount")
        tier = uow.s.get(CrowdTier, tier_id)
        if tier is None or tier.project_id != project_id:
            raise NotFound(f"project {project_id} has no tier {tier_id}", field="tier_id")
        taken = uow.s.execute(update(CrowdTier).where(
            CrowdTier.id == tier_id, CrowdTier.taken < CrowdTier.quota)
            .values(taken=CrowdTier.taken + 1).returning(CrowdTier.taken)).scalar()
        if taken is None:
            raise Conflict(f"tier {tier_id} is sold out ({tier.quota} taken)", field="tier_id",
                           code="tier_sold_out")
        fen, delivery = tier.price_fen, "awaiting"
    else:
        if amount is None or amount.fen <= 0:
            raise InvalidInput("no-reward support needs a positive amount", field="amount")
        fen, delivery = amount.fen, "none"
    investor = wallet(OwnerKind.INVESTOR, backer_id).code
    ledger.post(uow, EntryDraft("crowdfunding_pledge", memo=f"project {project_id}")
                .transfer(investor, "custody:cash", fen)
                .transfer(ESCROW.code, crowdfunding_account("backers", project_id).code, fen))
    project.raised_fen += fen
    pledge = CrowdPledge(project_id=project_id, backer_id=backer_id, tier_id=tier_id,
                         amount_fen=fen, status="pledged", delivery=delivery,
                         created_at=uow.clock.now())
    uow.s.add(pledge)
    uow.s.flush()
    return pledge


# --- close of business ----------------------------------------------------------------------
def settle_due(uow: UnitOfWork, day: date, rules: CrowdfundingRules) -> int:
    """Settle every live project whose deadline is `day` or earlier: all or nothing."""
    due = uow.s.scalars(select(CrowdProject).where(
        CrowdProject.status == "live", CrowdProject.deadline <= day)
        .order_by(CrowdProject.id).with_for_update()).all()
    for project in due:
        if succeeded(Money(project.raised_fen), Money(project.goal_fen)):
            _succeed(uow, project, day, rules)
        else:
            _fail(uow, project, day)
    return len(due)


def _fail(uow: UnitOfWork, project: CrowdProject, day: date) -> None:
    backers = crowdfunding_account("backers", project.id).code
    pledges = uow.s.scalars(select(CrowdPledge).where(
        CrowdPledge.project_id == project.id, CrowdPledge.status == "pledged")
        .order_by(CrowdPledge.id)).all()
    for pledge in pledges:
        investor = wallet(OwnerKind.INVESTOR, pledge.backer_id).code
        ledger.post(uow, EntryDraft("crowdfunding_refund", memo=f"project {project.id} failed")
                    .transfer(backers, ESCROW.code, pledge.amount_fen)
                    .transfer("custody:cash", investor, pledge.amount_fen))
        pledge.status = "refunded"
        if pledge.delivery == "awaiting":
            pledge.delivery = "none"
    project.status, project.settled_on = "failed", day


def _succeed(uow: UnitOfWork, project: CrowdProject, day: date, rules: CrowdfundingRules
             ) -> None:
    split = rules.split(Money(project.raised_fen))
    draft = (EntryDraft("crowdfunding_settlement", memo=f"project {project.id} succeeded")
             .debit(crowdfunding_account("backers", project.id).code, project.raised_fen)
             .credit(crowdfunding_account("owner_payable", project.id).code,
                     project.raised_fen - split.fee.fen))
    if split.fee.fen:
        draft.credit(FEE_INCOME.code, split.fee.fen).transfer("platform:cash", ESCROW.code,
                                                            split.fee.fen)
    ledger.post(uow, draft)
    uow.s.execute(update(CrowdPledge).where(CrowdPledge.project_id == project.id,
                                            CrowdPledge.status == "pledged")
                  .values(status="settled"))
    project.status, project.settled_on = "succeeded", day
    project.fee_fen, project.first_release_fen = split.fee.fen, split.first_release.fen
    project.held_fen = split.held.fen
    project.first_release_due = day + timedelta(days=rules.release_within_days)


def _pay_owner(uow: UnitOfWork, project: CrowdProject, fen: int, what: str) -> None:
    if fen:
        ledger.post(uow, EntryDraft("crowdfunding_release", memo=f"project {project.id}: {what}")
                    .transfer(crowdfunding_account("owner_payable", project.id).code,
                              ESCROW.code, fen))


def auto_confirm(uow: UnitOfWork, day: date, rules: CrowdfundingRules) -> int:
    """Shipped rewards without a complaint are confirmed `auto_confirm_days` after shipping."""
    cutoff = day - timedelta(days=rules.auto_confirm_days)
    return int(uow.s.execute(update(CrowdPledge).where(
        CrowdPledge.delivery == "shipped", CrowdPledge.shipped_on <= cutoff)
        .values(delivery="confirmed", confirmed_on=day)).rowcount or 0)


def release_due(uow: UnitOfWork, day: date) -> int:
    """Pay owners: the first 70 % at the first close of business after success (within the
    3 days), the held 30 % once no reward of the project is still undelivered."""
    released = 0
    first = uow.s.scalars(select(CrowdProject).where(
        CrowdProject.status == "succeeded", CrowdProject.first_released_on.is_(None),
        CrowdProject.settled_on < day).order_by(CrowdProject.id).with_for_update()).all()
    for project in first:
        _pay_owner(uow, project, project.first_release_fen, "first release (70 %)")
        project.first_released_on = day
        released += 1
    waiting = select(func.count()).where(
        CrowdPledge.project_id == CrowdProject.id, CrowdPledge.status == "settled",
        CrowdPledge.delivery.in_(["awaiting", "shipped", "complained"])).scalar_subquery()
    held = uow.s.scalars(select(CrowdProject).where(
        CrowdProject.status == "succeeded", CrowdProject.first_released_on.is_not(None),
        CrowdProject.held_released_on.is_(None), waiting == 0)
        .order_by(CrowdProject.id).with_for_update()).all()
    for project in held:
        _pay_owner(uow, project, project.held_fen, "held 30 % after delivery")
        project.held_released_on = day
        released += 1
    return released


def day_steps(rules: CrowdfundingRules) -> list[DayStep]:
    return [DayStep("crowdfunding_settle", lambda uow, day: settle_due(uow, day, rules)),
            DayStep("crowdfunding_deliveries", lambda uow, day: auto_confirm(uow, day, rules)),
            DayStep("crowdfunding_release", release_due)]


# --- delivery -------------------------------------------------------------------------------
def _pledge(uow: UnitOfWork, pledge_id: int) -> CrowdPledge:
    pledge = uow.s.get(CrowdPledge, pledge_id, with_for_update=True)
    if pledge is None:
        raise NotFound(f"no pledge {pledge_id}", field="pledge_id")
    return pledge


def ship(uow: UnitOfWork, pledge_id: int, owner_id: int, tracking_no: str) -> CrowdPledge:
    """The owner ships a backer's reward of a successful project."""
    pledge = _pledge(uow, pledge_id)
    project = _project(uow, pledge.project_id)
    if project.owner_id != owner_id:
        raise Forbidden("only the project's owner ships its rewards", field="pledge_id")
    if pledge.status != "settled" or pledge.delivery != "awaiting":
        raise Conflict(f"pledge {pledge_id} has no reward waiting to ship ({pledge.delivery})",
                       field="pledge_id", code="nothing_to_ship")
    tracking = tracking_no.strip()
    if not 1 <= len(tracking) <= 64:
        raise InvalidInput("tracking_no must be 1 to 64 characters", field="tracking_no")
    pledge.delivery, pledge.tracking_no = "shipped", tracking
    pledge.shipped_on = uow.clock.today()
    return pledge


def confirm_delivery(uow: UnitOfWork, pledge_id: int, backer_id: int) -> CrowdPledge:
    pledge = _own_shipped(uow, pledge_id, backer_id, allow_complained=True)
    pledge.delivery, pledge.confirmed_on = "confirmed", uow.clock.today()
    return pledge


def complain(uow: UnitOfWork, pledge_id: int, backer_id: int, text: str) -> CrowdPledge:
    """A complaint stops the automatic confirmation (and so the held 30 %) until the backer
    confirms delivery."""
    pledge = _own_shipped(uow, pledge_id, backer_id, allow_complained=False)
    words = text.strip()
    if not 1 <= len(words) <= 400:
        raise InvalidInput("a complaint must be 1 to 400 characters", field="complaint")
    pledge.delivery, pledge.complaint = "complained", words
    return pledge


def _own_shipped(uow: UnitOfWork, pledge_id: int, backer_id: int, *,
                 allow_complained: bool) -> CrowdPledge:
    pledge = _pledge(uow, pledge_id)
    if pledge.backer_id != backer_id:
        raise Forbidden("only the backer answers for their reward", field="pledge_id")
    allowed = {"shipped", "complained"} if allow_complained else {"shipped"}
    if pledge.delivery not in allowed:
        raise Conflict(f"pledge {pledge_id}'s reward is {pledge.delivery}, not shipped",
                       field="pledge_id", code="not_shipped")
    return pledge


# --- complaints on the held 30 %: an operator's settlement ----------------------------------
SETTLEMENTS = ("release", "refund")


@dataclass(frozen=True)
class SettleComplaints:
    project_id: int
    operator_id: int
    #: release: the held 30 % to the owner; refund: each complaining backer gets back the held
    #: share of their pledge (held × pledge / raised, rounded down), the rest to the owner.
    outcome: str
    reason: str


def refund_shares(held_fen: int, raised_fen: int, pledges: Sequence[tuple[int, int]]
                  ) -> dict[int, int]:
    """Each complaining pledge's part of the held amount, pro rata to its size (whole fen,
    rounded down: the fen left over stay with the owner)."""
    return {pledge_id: held_fen * amount // raised_fen for pledge_id, amount in pledges}


def settle_complaints(uow: UnitOfWork, cmd: SettleComplaints) -> CrowdProject:
    """Settle the complaints that hold a successful project's 30 %: release it to the owner,
    or refund the complaining backers from it. Only when complaints are all that still holds it
    (every other reward delivered), once, recorded with the operator and the reason."""
    if cmd.outcome not in SETTLEMENTS:
        raise InvalidInput("outcome is release or refund", field="outcome")
    reason = cmd.reason.strip()
    if not 1 <= len(reason) <= 400:
        raise InvalidInput("a settlement needs a reason of 1 to 400 characters", field="reason")
    project = _project(uow, cmd.project_id, lock=True)
    if project.status != "succeeded" or project.held_released_on is not None:
        raise Conflict(f"project {project.id} holds no money back (it is {project.status})",
                       field="project_id", code="nothing_held")
    pledges = uow.s.scalars(select(CrowdPledge).where(
        CrowdPledge.project_id == project.id, CrowdPledge.status == "settled")
        .order_by(CrowdPledge.id).with_for_update()).all()
    complained = [p for p in pledges if p.delivery == "complained"]
    if not complained:
        raise Conflict(f"project {project.id} has no complaint to settle", field="project_id",
                       code="no_complaint")
    if any(p.delivery in ("awaiting", "shipped") for p in pledges):
        raise Conflict(f"project {project.id} still has rewards on their way; settle when only"
                       " complaints hold the 30 %", field="project_id", code="deliveries_pending")
    refunded = 0
    if cmd.outcome == "refund":
        shares = refund_shares(project.held_fen, project.raised_fen,
                               [(p.id, p.amount_fen) for p in complained])
        payable = crowdfunding_account("owner_payable", project.id).code
        for pledge in complained:
            fen = shares[pledge.id]
            if fen:
                investor = wallet(OwnerKind.INVESTOR, pledge.backer_id).code
                ledger.post(uow, EntryDraft("crowdfunding_complaint_refund",
                                            memo=f"project {project.id}: complaint refund")
                            .transfer(payable, ESCROW.code, fen)
                            .transfer("custody:cash", investor, fen))
            pledge.refunded_fen = fen
            refunded += fen
    _pay_owner(uow, project, project.held_fen - refunded,
               "held 30 % released by complaint settlement")
    for pledge in complained:
        pledge.delivery = "resolved"
    project.held_released_on = uow.clock.today()
    project.settlement, project.settled_by, project.settlement_reason = (
        "released" if cmd.outcome == "release" else "refunded", cmd.operator_id, reason)
    audit.note(uow, "crowdfunding.complaints_settled", changes={
        "project_id": project.id, "outcome": cmd.outcome, "refunded_fen": refunded,
        "released_fen": project.held_fen - refunded, "pledges": [p.id for p in complained],
        "operator_id": cmd.operator_id, "reason": reason})
    return project
