"""Trial principal (体验金): notional principal that earns real interest for a few days, paid
in cash from the marketing account at maturity (`days.settle_trials`) and voided by a
withdrawal during the trial. One trial per real-name identity, per device and per mobile
(abuse limits: the table's unique digests back up the checks here)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import Date, select, text

from biaodi.adapters.db import audit
from biaodi.adapters.db.incentive_tables import TrialPrincipal
from biaodi.adapters.db.tables import User, UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.incentives.coupons import CouponKind, simple_interest
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.incentives.campaigns import (
    campaign,
    check_budget,
    check_running,
    template,
    terms_of,
)


def device_digest(device_id: str) -> str:
    return hashlib.sha256(f"biaodi-device:{device_id}".encode()).hexdigest()


def claim_trial(uow: UnitOfWork, user_id: int, template_id: int, device_id: str) -> int:
    """Start a trial of the template for the investor on this device; the trial's id."""
    if not device_id or len(device_id) > 128:
        raise InvalidInput("a device id of 1 to 128 characters is required",
                           field="device_id")
    tpl = template(uow, template_id, lock=True)
    if tpl.kind != CouponKind.TRIAL:
        raise InvalidInput(f"template {template_id} is not trial principal",
                           field="template_id", code="not_a_trial")
    terms = terms_of(tpl)
    owner = campaign(uow, tpl.campaign_id)
    today = uow.clock.today()
    check_running(owner, today)
    if not uow.s.execute(select(UserRole.user_id).where(
            UserRole.user_id == user_id, UserRole.role == "investor")).first():
        raise NotFound(f"user {user_id} is not an investor", field="user_id")
    if tpl.total_count is not None and tpl.issued_count >= tpl.total_count:
        raise Conflict(f"template {tpl.id}'s {tpl.total_count} trials are all taken",
                       field="template_id", code="coupon_total_count")
    person = uow.s.execute(select(User.id_number_digest, User.mobile_digest)
                           .where(User.id == user_id)).one()
    device = device_digest(device_id)
    for column, value, what in (
            (TrialPrincipal.identity_digest, person.id_number_digest, "identity"),
            (TrialPrincipal.device_digest, device, "device"),
            (TrialPrincipal.mobile_digest, person.mobile_digest, "mobile")):
        if uow.s.execute(select(TrialPrincipal.id).where(column == value)).first():
            raise Conflict(f"trial principal is one per real-name identity, device and "
                           f"mobile: this {what} has had one", field="device_id"
                           if what == "device" else "user_id", code=f"trial_once_per_{what}")
    assert terms.amount is not None and terms.rate_ppm is not None and terms.days is not None
    interest = simple_interest(terms.amount, terms.rate_ppm, terms.days)
    check_budget(uow, owner, interest.fen)
    row = TrialPrincipal(
        template_id=tpl.id, campaign_id=owner.id, user_id=user_id,
        principal_fen=terms.amount.fen, rate_ppm=terms.rate_ppm, starts_on=today,
        matures_on=today + timedelta(days=terms.days), status="running",
        interest_fen=interest.fen, identity_digest=person.id_number_digest,
        device_digest=device, mobile_digest=person.mobile_digest, created_at=uow.clock.now())
    uow.s.add(row)
    tpl.issued_count += 1
    uow.s.flush()
    audit.note(uow, "incentive.trial_started", subjects=[("user", user_id)],
               changes={"trial_id": row.id, "campaign_id": owner.id,
                        "principal_fen": terms.amount.fen, "interest_fen": interest.fen,
                        "matures_on": row.matures_on.isoformat()})
    return row.id


_MINE = text("""
    SELECT p.id, p.principal_fen, p.rate_ppm, p.starts_on, p.matures_on, p.status,
           p.interest_fen, p.settled_on, c.name AS campaign
    FROM trial_principals p JOIN incentive_campaigns c ON c.id = p.campaign_id
    WHERE p.user_id = :user ORDER BY p.id DESC""").columns(
    starts_on=Date, matures_on=Date, settled_on=Date)


def trials_of(uow: UnitOfWork, user_id: int) -> list[dict[str, Any]]:
    return [{"id": r.id, "campaign": r.campaign, "principal": str(Money(r.principal_fen)),
             "rate_ppm": r.rate_ppm, "starts_on": str(r.starts_on),
             "matures_on": str(r.matures_on), "status": r.status,
             "interest": str(Money(r.interest_fen)),
             "settled_on": str(r.settled_on) if r.settled_on else None}
            for r in uow.s.execute(_MINE, {"user": user_id})]
