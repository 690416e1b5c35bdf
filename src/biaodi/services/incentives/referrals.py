"""Referral rewards and points with levels, rule-driven (`IncentiveRules`): a referrer is paid
once the person they brought has invested enough; points come with every 100 yuan invested
and for referrals, and their total names the investor's level."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.db import audit
from biaodi.adapters.db.incentive_tables import PointsEntry, Referral
from biaodi.adapters.db.tables import User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.incentives.coupons import level_of
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.services.incentives.rules import IncentiveRules


def record_referral(uow: UnitOfWork, referee_id: int, referrer_username: str,
                    rules: IncentiveRules) -> int:
    """The signed-in user (`referee_id`) names who referred them, within the window after
    signing up, once."""
    referrer = uow.s.execute(select(User.id).where(
        User.username == referrer_username.strip())).scalar()
    if referrer is None:
        raise NotFound(f"no user {referrer_username!r}", field="referrer")
    if referrer == referee_id:
        raise InvalidInput("you cannot refer yourself", field="referrer", code="referral_self")
    joined = uow.s.execute(select(User.created_at).where(User.id == referee_id)).scalar_one()
    if (uow.clock.now().date() - joined.date()).days > rules.referral_window_days:
        raise Conflict(f"a referrer is named within {rules.referral_window_days} days of "
                       "signing up", field="referrer", code="referral_window")
    if uow.s.execute(select(Referral.id).where(Referral.referee_id == referee_id)).first():
        raise Conflict("you have named your referrer already", field="referrer",
                       code="referral_exists")
    row = Referral(referrer_id=referrer, referee_id=referee_id, created_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "incentive.referral", subjects=[("user", referee_id), ("user", referrer)],
               changes={"referral_id": row.id})
    return row.id


def points_of(uow: UnitOfWork, user_id: int, rules: IncentiveRules) -> dict[str, Any]:
    total = int(uow.s.execute(select(func.coalesce(func.sum(PointsEntry.points), 0))
                              .where(PointsEntry.user_id == user_id)).scalar() or 0)
    level = level_of(total, rules.levels)
    higher = [lvl for lvl in rules.levels if lvl.min_points > total]
    following = min(higher, key=lambda lvl: lvl.min_points) if higher else None
    referred = int(uow.s.execute(select(func.count()).select_from(Referral)
                                 .where(Referral.referrer_id == user_id)).scalar() or 0)
    return {"points": total, "level": level.name,
            "next_level": following.name if following else None,
            "points_to_next": following.min_points - total if following else None,
            "referred": referred}
