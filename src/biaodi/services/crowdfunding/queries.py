"""What the crowdfunding pages and API show: projects, their tiers and progress, a user's
pledges and projects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from biaodi.adapters.db.fund_tables import CrowdPledge, CrowdProject, CrowdTier
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.crowdfunding.rules import RULES
from biaodi.domain.shared.errors import NotFound
from biaodi.domain.shared.money import Money

PUBLIC = ("live", "succeeded", "failed")


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def project_view(project: CrowdProject, tiers: list[CrowdTier]) -> dict[str, Any]:
    progress = min(100, project.raised_fen * 100 // project.goal_fen)
    return {
        "id": project.id, "owner_id": project.owner_id, "title": project.title,
        "description": project.description, "goal": str(Money(project.goal_fen)),
        "raised": str(Money(project.raised_fen)), "progress_percent": progress,
        "days": project.days, "status": project.status, "live_from": _day(project.live_from),
        "deadline": _day(project.deadline), "settled_on": _day(project.settled_on),
        "fee": str(Money(project.fee_fen)),
        "first_release": str(Money(project.first_release_fen)),
        "first_released_on": _day(project.first_released_on),
        "held": str(Money(project.held_fen)),
        "held_released_on": _day(project.held_released_on),
        "settlement": project.settlement, "settlement_reason": project.settlement_reason,
        "tiers": [{"id": t.id, "title": t.title, "price": str(Money(t.price_fen)),
                   "quota": t.quota, "taken": t.taken, "left": t.quota - t.taken,
                   "ship_date": t.ship_date.isoformat()} for t in tiers],
        "rules": [{"rule_id": r.rule_id, "zh": r.summary_zh, "en": r.summary_en}
                  for r in RULES],
    }


def _tiers(uow: UnitOfWork, project_id: int) -> list[CrowdTier]:
    return list(uow.s.scalars(select(CrowdTier).where(CrowdTier.project_id == project_id)
                              .order_by(CrowdTier.price_fen, CrowdTier.id)))


def projects(uow: UnitOfWork, *, limit: int = 50) -> list[dict[str, Any]]:
    """Public projects, live first, newest first."""
    rows = uow.s.scalars(select(CrowdProject).where(CrowdProject.status.in_(PUBLIC))
                         .order_by((CrowdProject.status != "live"), CrowdProject.id.desc())
                         .limit(limit)).all()
    return [project_view(p, []) for p in rows]


def project(uow: UnitOfWork, project_id: int, viewer_id: int | None = None,
            staff: bool = False) -> dict[str, Any]:
    """One project; one still in review (or rejected) only for its owner and staff."""
    row = uow.s.get(CrowdProject, project_id)
    if row is None or (row.status not in PUBLIC and not staff and row.owner_id != viewer_id):
        raise NotFound(f"no crowdfunding project {project_id}", field="project_id")
    return project_view(row, _tiers(uow, project_id))


def in_review(uow: UnitOfWork) -> list[dict[str, Any]]:
    rows = uow.s.scalars(select(CrowdProject).where(CrowdProject.status == "review")
                         .order_by(CrowdProject.id)).all()
    return [project_view(p, _tiers(uow, p.id)) for p in rows]


def with_complaints(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Successful projects whose held 30 % a complaint holds, with their complaints and whether
    other rewards are still on their way (settlement waits for those)."""
    holding = uow.s.scalars(select(CrowdProject).where(
        CrowdProject.status == "succeeded", CrowdProject.held_released_on.is_(None),
        CrowdProject.id.in_(select(CrowdPledge.project_id).where(
            CrowdPledge.delivery == "complained"))).order_by(CrowdProject.id).limit(100)).all()
    found = []
    for project in holding:
        pledges = uow.s.scalars(select(CrowdPledge).where(
            CrowdPledge.project_id == project.id, CrowdPledge.status == "settled")
            .order_by(CrowdPledge.id)).all()
        found.append(project_view(project, []) | {
            "complaints": [pledge_view(p, project.title) for p in pledges
                           if p.delivery == "complained"],
            "on_their_way": sum(p.delivery in ("awaiting", "shipped") for p in pledges)})
    return found


def pledge_view(pledge: CrowdPledge, title: str) -> dict[str, Any]:
    return {"id": pledge.id, "project_id": pledge.project_id, "project": title,
            "tier_id": pledge.tier_id, "amount": str(Money(pledge.amount_fen)),
            "status": pledge.status, "delivery": pledge.delivery,
            "tracking_no": pledge.tracking_no, "shipped_on": _day(pledge.shipped_on),
            "confirmed_on": _day(pledge.confirmed_on), "complaint": pledge.complaint,
            "refunded": str(Money(pledge.refunded_fen))}


def mine(uow: UnitOfWork, user_id: int) -> dict[str, Any]:
    """A user's pledges, and the projects they own with their backers' deliveries."""
    pledges = uow.s.execute(select(CrowdPledge, CrowdProject.title).join(
        CrowdProject, CrowdProject.id == CrowdPledge.project_id).where(
        CrowdPledge.backer_id == user_id).order_by(CrowdPledge.id.desc()).limit(200)).all()
    owned = uow.s.scalars(select(CrowdProject).where(CrowdProject.owner_id == user_id)
                          .order_by(CrowdProject.id.desc()).limit(50)).all()
    backers: dict[int, list[dict[str, Any]]] = {p.id: [] for p in owned}
    if owned:
        for pledge in uow.s.scalars(select(CrowdPledge).where(
                CrowdPledge.project_id.in_(list(backers))).order_by(CrowdPledge.id)):
            backers[pledge.project_id].append(pledge_view(pledge, ""))
    return {"pledges": [pledge_view(p, title) for p, title in pledges],
            "projects": [project_view(p, []) | {"backers": backers[p.id]} for p in owned]}
