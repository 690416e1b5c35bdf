"""Campaigns and coupon templates (operators), issuing coupons, and what a campaign has
spent and may still cost (its outstanding exposure: face value × expected use)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, text

from biaodi.adapters.db import audit
from biaodi.adapters.db.incentive_tables import (
    CouponTemplate,
    IncentiveCampaign,
    IncentiveCoupon,
)
from biaodi.adapters.db.tables import UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.incentives.coupons import PPM, CouponKind, TemplateTerms, expires_on
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.domain.shared.money import Money

#: Coupon statuses that may still cost money (an issued one if used; a boost as it accrues).
OPEN = ("issued", "accruing")


@dataclass(frozen=True)
class NewCampaign:
    name: str
    rule_text: str
    budget: Money
    starts_on: date
    ends_on: date


def create_campaign(uow: UnitOfWork, cmd: NewCampaign, *, actor_id: int | None) -> int:
    name, rule_text = cmd.name.strip(), cmd.rule_text.strip()
    if not name:
        raise InvalidInput("a campaign needs a name", field="name")
    if not rule_text:
        raise InvalidInput("a campaign publishes its rules: rule_text is required",
                           field="rule_text")
    if cmd.budget.fen <= 0:
        raise InvalidInput("the budget must be positive", field="budget")
    if cmd.ends_on < cmd.starts_on:
        raise InvalidInput("the campaign ends before it starts", field="ends_on")
    if uow.s.execute(select(IncentiveCampaign.id).where(IncentiveCampaign.name == name)).first():
        raise Conflict(f"a campaign named {name!r} exists", field="name",
                       code="campaign_exists")
    row = IncentiveCampaign(name=name, rule_text=rule_text, budget_fen=cmd.budget.fen,
                            spent_fen=0, starts_on=cmd.starts_on, ends_on=cmd.ends_on,
                            created_by=actor_id, created_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "incentive.campaign_created",
               changes={"campaign_id": row.id, "name": name, "budget_fen": cmd.budget.fen,
                        "ends_on": cmd.ends_on.isoformat()})
    return row.id


def campaign(uow: UnitOfWork, campaign_id: int) -> IncentiveCampaign:
    row = uow.s.get(IncentiveCampaign, campaign_id)
    if row is None:
        raise NotFound(f"no campaign {campaign_id}", field="campaign_id")
    return row


def create_template(uow: UnitOfWork, campaign_id: int, name: str, terms: TemplateTerms) -> int:
    campaign(uow, campaign_id)
    if not name.strip():
        raise InvalidInput("a coupon template needs a name", field="name")
    terms.validate()
    row = CouponTemplate(
        campaign_id=campaign_id, kind=terms.kind.value, name=name.strip(),
        amount_fen=terms.amount.fen if terms.amount else None, rate_ppm=terms.rate_ppm,
        days=terms.days, validity_days=terms.validity_days, min_invest_fen=terms.min_invest.fen,
        max_invest_fen=terms.max_invest.fen if terms.max_invest else None,
        listing_kinds=list(terms.listing_kinds), terms=list(terms.terms),
        total_count=terms.total_count, per_user_count=terms.per_user_count, issued_count=0,
        stackable=terms.stackable, auto_invest=terms.auto_invest,
        expected_use_ppm=terms.expected_use_ppm, created_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "incentive.template_created",
               changes={"campaign_id": campaign_id, "template_id": row.id,
                        "kind": terms.kind.value})
    return row.id


def terms_of(row: CouponTemplate) -> TemplateTerms:
    return TemplateTerms(
        kind=CouponKind(row.kind), amount=Money(row.amount_fen) if row.amount_fen else None,
        rate_ppm=row.rate_ppm, days=row.days, validity_days=row.validity_days,
        min_invest=Money(row.min_invest_fen),
        max_invest=Money(row.max_invest_fen) if row.max_invest_fen is not None else None,
        listing_kinds=tuple(row.listing_kinds or ()), terms=tuple(row.terms or ()),
        total_count=row.total_count, per_user_count=row.per_user_count,
        stackable=row.stackable, auto_invest=row.auto_invest,
        expected_use_ppm=row.expected_use_ppm)


def template(uow: UnitOfWork, template_id: int, *, lock: bool = False) -> CouponTemplate:
    query = select(CouponTemplate).where(CouponTemplate.id == template_id)
    row = uow.s.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"no coupon template {template_id}", field="template_id")
    return row


_COMMITTED = text("""
    SELECT COALESCE((SELECT SUM(face_fen - paid_fen) FROM incentive_coupons
                     WHERE campaign_id = :c AND status IN ('issued', 'accruing')), 0)
         + COALESCE((SELECT SUM(interest_fen) FROM trial_principals
                     WHERE campaign_id = :c AND status = 'running'), 0)""")


def check_budget(uow: UnitOfWork, row: IncentiveCampaign, more_fen: int) -> None:
    """Refuse what could take the campaign over its budget: paid + still open + `more_fen`."""
    committed = int(uow.s.execute(_COMMITTED, {"c": row.id}).scalar() or 0)
    if row.spent_fen + committed + more_fen > row.budget_fen:
        left = Money(row.budget_fen - row.spent_fen - committed)
        raise Conflict(f"campaign {row.name!r} has {left} yuan of its "
                       f"{Money(row.budget_fen)} yuan budget left; this needs "
                       f"{Money(more_fen)}", field="count", code="campaign_budget")


def check_running(row: IncentiveCampaign, today: date) -> None:
    if today < row.starts_on:
        raise Conflict(f"campaign {row.name!r} starts on {row.starts_on}",
                       field="campaign_id", code="campaign_not_started")
    if today > row.ends_on:
        raise Conflict(f"campaign {row.name!r} ended on {row.ends_on}",
                       field="campaign_id", code="campaign_ended")


def issue(uow: UnitOfWork, template_id: int, user_ids: list[int], *,
          actor_id: int | None) -> list[int]:
    """Issue one coupon of the template to each user; the coupons' ids. Refused whole if
    any user is not an investor, has had the per-user count, or the template's total count or
    the campaign's budget or end date would be passed."""
    if not user_ids:
        raise InvalidInput("name at least one user", field="user_ids")
    tpl = template(uow, template_id, lock=True)  # the issued_count counter: one issuer at a time
    if tpl.kind == CouponKind.TRIAL:
        raise InvalidInput("trial principal is claimed by the investor (one per identity), "
                           "not issued", field="template_id", code="trial_not_issued")
    terms = terms_of(tpl)
    owner = campaign(uow, tpl.campaign_id)
    today = uow.clock.today()
    check_running(owner, today)
    if tpl.total_count is not None and tpl.issued_count + len(user_ids) > tpl.total_count:
        raise Conflict(f"template {tpl.id} has {tpl.total_count - tpl.issued_count} of its "
                       f"{tpl.total_count} coupons left", field="user_ids",
                       code="coupon_total_count")
    investors = set(uow.s.scalars(select(UserRole.user_id).where(
        UserRole.user_id.in_(user_ids), UserRole.role == "investor")))
    missing = [u for u in user_ids if u not in investors]
    if missing:
        raise NotFound(f"user {missing[0]} is not an investor", field="user_ids")
    held = dict(uow.s.execute(
        select(IncentiveCoupon.user_id, func.count()).where(
            IncentiveCoupon.template_id == tpl.id, IncentiveCoupon.user_id.in_(user_ids))
        .group_by(IncentiveCoupon.user_id)).all())
    for user_id in user_ids:
        held[user_id] = held.get(user_id, 0) + 1
        if held[user_id] > tpl.per_user_count:
            raise Conflict(f"user {user_id} may hold at most {tpl.per_user_count} coupon(s) "
                           f"of template {tpl.id}", field="user_ids",
                           code="coupon_per_user_count")
    face = terms.face_value().fen
    check_budget(uow, owner, face * len(user_ids))
    until = expires_on(today, tpl.validity_days)
    now = uow.clock.now()
    rows = [IncentiveCoupon(template_id=tpl.id, campaign_id=owner.id, user_id=user_id,
                            kind=tpl.kind, status="issued", face_fen=face, issued_on=today,
                            expires_on=until, paid_fen=0, accrued_micro=0, created_at=now)
            for user_id in user_ids]
    uow.s.add_all(rows)
    tpl.issued_count += len(user_ids)
    uow.s.flush()
    audit.note(uow, "incentive.coupons_issued",
               subjects=[("user", u) for u in user_ids],
               changes={"campaign_id": owner.id, "template_id": tpl.id,
                        "count": len(user_ids), "face_fen": face,
                        "expires_on": until.isoformat(), "by": actor_id})
    return [row.id for row in rows]


_EXPOSURE = text("""
    SELECT c.id, c.name, c.budget_fen, c.spent_fen, c.starts_on, c.ends_on, c.rule_text,
      COALESCE((SELECT SUM(k.face_fen * t.expected_use_ppm)
                FROM incentive_coupons k JOIN coupon_templates t ON t.id = k.template_id
                WHERE k.campaign_id = c.id AND k.status = 'issued'
                  AND k.expires_on >= :today), 0) AS expected_micro,
      COALESCE((SELECT SUM(k.face_fen) FROM incentive_coupons k
                WHERE k.campaign_id = c.id AND k.status = 'issued'
                  AND k.expires_on >= :today), 0) AS unused_face,
      COALESCE((SELECT SUM(k.face_fen - k.paid_fen) FROM incentive_coupons k
                WHERE k.campaign_id = c.id AND k.status = 'accruing'), 0) AS accruing,
      COALESCE((SELECT SUM(p.interest_fen) FROM trial_principals p
                WHERE p.campaign_id = c.id AND p.status = 'running'), 0) AS trials,
      (SELECT COUNT(*) FROM incentive_coupons k WHERE k.campaign_id = c.id) AS issued,
      (SELECT COUNT(*) FROM incentive_coupons k WHERE k.campaign_id = c.id
         AND k.status NOT IN ('issued', 'expired', 'void')) AS used
    FROM incentive_campaigns c WHERE (CAST(:id AS BIGINT) IS NULL OR c.id = :id) ORDER BY c.id""")


def campaigns_view(uow: UnitOfWork, campaign_id: int | None = None) -> list[dict[str, Any]]:
    """Each campaign with its budget, what it paid, and its outstanding exposure: the face
    value of unused, unexpired coupons × their template's expected use, plus what accruing
    boosts and running trials may still pay."""
    out = []
    for r in uow.s.execute(_EXPOSURE, {"today": uow.clock.today(), "id": campaign_id}):
        expected = Money(int(r.expected_micro) // PPM)  # whole fen, rounded down
        exposure = expected.fen + int(r.accruing) + int(r.trials)
        out.append({
            "id": r.id, "name": r.name, "rule_text": r.rule_text,
            "budget": str(Money(r.budget_fen)), "spent": str(Money(r.spent_fen)),
            "starts_on": str(r.starts_on), "ends_on": str(r.ends_on),
            "coupons_issued": int(r.issued), "coupons_used": int(r.used),
            "unused_face_value": str(Money(int(r.unused_face))),
            "exposure": str(Money(exposure)), "exposure_fen": exposure,
        })
    return out


def templates_view(uow: UnitOfWork) -> dict[int, list[dict[str, Any]]]:
    """Every template by campaign: what it gives, its conditions, how many were issued."""
    out: dict[int, list[dict[str, Any]]] = {}
    for row in uow.s.scalars(select(CouponTemplate).order_by(CouponTemplate.id)):
        terms = terms_of(row)
        out.setdefault(row.campaign_id, []).append({
            "id": row.id, "kind": row.kind, "name": row.name,
            "amount": str(terms.amount) if terms.amount else None,
            "rate_ppm": row.rate_ppm, "days": row.days, "validity_days": row.validity_days,
            "min_investment": str(terms.min_invest),
            "max_investment": str(terms.max_invest) if terms.max_invest else None,
            "listing_kinds": list(terms.listing_kinds), "terms": list(terms.terms),
            "total_count": row.total_count, "per_user_count": row.per_user_count,
            "issued_count": row.issued_count, "stackable": row.stackable,
            "auto_invest": row.auto_invest, "face_value": str(terms.face_value()),
            "expected_use_ppm": row.expected_use_ppm})
    return out
