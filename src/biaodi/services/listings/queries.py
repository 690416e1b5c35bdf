"""Reading listings: the investor's browse (filter, sort, paginate) and a listing's detail
with its schedule preview, security, risk labels and history."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import exists, func, select

from biaodi.adapters.db.tables import (
    GuarantorProfile,
    Listing,
    ListingTransition,
    PledgedAssetRow,
    User,
    UserRole,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.listings import policy_for
from biaodi.domain.listings.fees import fee_schedule
from biaodi.domain.listings.policy import NotPublishable, listing_risk_level, percent
from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.shared.errors import BiaodiError, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.listings import borrowing
from biaodi.services.listings.lifecycle import (
    ListingRules,
    decision_problem,
    load_security,
    terms_of,
)
from biaodi.services.listings.security import OUTSTANDING, store_for
from biaodi.services.shared.rates import percent_text, ppm_to_rate, rate_to_ppm

#: What investors may see; drafts and applications under review stay private.
PUBLIC_STATUSES = ("published", "funded", "failed", "repaying", "overdue", "settled",
                   "defaulted", "recovered", "written_off")
SORTS = {
    "rate": Listing.annual_rate_ppm,
    "amount": Listing.amount_fen,
    "remaining": Listing.remaining_fen,
    "term": Listing.term,
    "published_at": Listing.published_at,
}
MAX_PAGE_SIZE = 100
#: Fields of security objects that identify a person or a vehicle: masked in public views.
PRIVATE_FIELDS = {"plate_number", "registration_certificate_no", "reference", "operator_id"}


@dataclass(frozen=True)
class ListingFilter:
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("published",)
    min_rate: Decimal | None = None
    max_rate: Decimal | None = None
    term_unit: str | None = None
    min_term: int | None = None
    max_term: int | None = None
    grades: tuple[str, ...] = ()
    collateral_class: str | None = None
    min_remaining: Money | None = None
    applicant_id: int | None = None
    sort: str = "-published_at"
    page: int = 1
    page_size: int = 20


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    filters: dict[str, Any] = field(default_factory=dict)


def _conditions(f: ListingFilter) -> list[Any]:
    where: list[Any] = [Listing.status.in_(f.statuses)]
    if f.kinds:
        for kind in f.kinds:
            policy_for(kind)  # refuses unknown kinds naming the field
        where.append(Listing.kind.in_(f.kinds))
    if f.min_rate is not None:
        where.append(Listing.annual_rate_ppm >= rate_to_ppm(f.min_rate, field="min_rate"))
    if f.max_rate is not None:
        where.append(Listing.annual_rate_ppm <= rate_to_ppm(f.max_rate, field="max_rate"))
    if f.term_unit is not None:
        if f.term_unit not in ("month", "day"):
            raise InvalidInput("term_unit must be month or day", field="term_unit")
        where.append(Listing.term_unit == f.term_unit)
    if f.min_term is not None:
        where.append(Listing.term >= f.min_term)
    if f.max_term is not None:
        where.append(Listing.term <= f.max_term)
    if f.grades:
        where.append(Listing.grade.in_(f.grades))
    if f.collateral_class is not None:
        where.append(exists().where(PledgedAssetRow.listing_id == Listing.id,
                                    PledgedAssetRow.asset_class == f.collateral_class))
    if f.min_remaining is not None:
        where.append(Listing.remaining_fen >= f.min_remaining.fen)
    if f.applicant_id is not None:
        where.append(Listing.applicant_id == f.applicant_id)
    return where


def browse(uow: UnitOfWork, f: ListingFilter, rules: ListingRules) -> Page:
    if f.page < 1:
        raise InvalidInput("page starts at 1", field="page")
    if not 1 <= f.page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be from 1 to {MAX_PAGE_SIZE}", field="page_size")
    column = SORTS.get(f.sort.lstrip("-"))
    if column is None:
        allowed = ", ".join(f"{s}, -{s}" for s in SORTS)
        raise InvalidInput(f"sort must be one of {allowed}", field="sort")
    where = _conditions(f)
    total = uow.s.execute(select(func.count()).select_from(Listing).where(*where)).scalar()
    order = column.desc() if f.sort.startswith("-") else column.asc()
    rows = uow.s.scalars(
        select(Listing).where(*where).order_by(order, Listing.id.desc())
        .offset((f.page - 1) * f.page_size).limit(f.page_size)
    ).all()
    classes = _collateral_classes(uow, [r.id for r in rows])
    briefs = _security_briefs(uow, list(rows))
    items = [summary(r, classes.get(r.id, []), briefs.get(r.id, {})) for r in rows]
    return Page(items=items, total=int(total or 0), page=f.page, page_size=f.page_size)


def _collateral_classes(uow: UnitOfWork, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    for listing_id, asset_class in uow.s.execute(
        select(PledgedAssetRow.listing_id, PledgedAssetRow.asset_class)
        .where(PledgedAssetRow.listing_id.in_(ids)).distinct()
    ):
        found.setdefault(listing_id, []).append(asset_class)
    return {k: sorted(v) for k, v in found.items()}


def _security_briefs(uow: UnitOfWork, rows: list[Listing]) -> dict[int, dict[str, Any]]:
    """What each type's security store tells browse about a page of its listings (a 流转标's
    buy-back coverage), one call per type on the page."""
    by_type: dict[type, list[Listing]] = {}
    for row in rows:
        by_type.setdefault(policy_for(row.kind).security_type, []).append(row)
    found: dict[int, dict[str, Any]] = {}
    for security_type, group in by_type.items():
        brief = store_for(security_type).brief
        if brief is not None:
            found.update(brief(uow, group))
    return found


def summary(listing: Listing, collateral_classes: list[str],
            security_brief: dict[str, Any] | None = None) -> dict[str, Any]:
    policy = policy_for(listing.kind)
    funded = listing.funded_fen  # once funded (a part-sold 流转标 closes at what was sold)
    if funded is None:
        funded = listing.amount_fen - listing.remaining_fen if listing.published_at else 0
    return {
        "id": listing.id,
        "kind": listing.kind,
        "kind_name": {"zh": policy.name_zh, "en": policy.name_en},
        "title": listing.title,
        "status": listing.status,
        "amount": str(Money(listing.amount_fen)),
        "remaining": str(Money(listing.remaining_fen)),
        "funded_percent": f"{Decimal(funded * 100) / listing.amount_fen:.2f}",
        "annual_rate": percent_text(listing.annual_rate_ppm),
        "all_in_cost": (percent_text(listing.all_in_cost_ppm)
                        if listing.all_in_cost_ppm is not None else None),
        "term": listing.term,
        "term_unit": listing.term_unit,
        "repayment_method": listing.repayment_method,
        "grade": listing.grade,
        # Suitability risk R1–R5: the type's and security's base level raised by the grade.
        "risk_level": listing_risk_level(listing.risk_level, listing.grade),
        "base_risk_level": listing.risk_level,
        "collateral_classes": collateral_classes,
        # Type-specific facts about the security, e.g. {"buyback_coverage": "12.5%"}.
        "security_brief": {k: _public(v) for k, v in (security_brief or {}).items()},
        "applicant_id": listing.applicant_id,
        "published_at": listing.published_at.isoformat() if listing.published_at else None,
        "funding_deadline": (listing.funding_deadline.isoformat()
                             if listing.funding_deadline else None),
    }


def _public(value: Any, key: str = "") -> Any:
    if key in PRIVATE_FIELDS and value:
        text = str(value)
        return text[:2] + "*" * max(len(text) - 3, 1) + text[-1:]
    if isinstance(value, Money):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _public(getattr(value, f.name), f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return percent(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_public(v) for v in value]
    return value


def detail(uow: UnitOfWork, listing_id: int, rules: ListingRules, *,
           viewer_id: int | None = None, staff: bool = False) -> dict[str, Any]:
    listing = uow.s.get(Listing, listing_id)
    visible = listing is not None and (
        listing.status in PUBLIC_STATUSES or staff or listing.applicant_id == viewer_id)
    if listing is None or not visible:
        raise NotFound(f"no listing {listing_id}", field="listing_id")
    policy = policy_for(listing.kind)
    security = load_security(uow, listing)
    ctx = rules.context(uow.clock.today())
    terms = terms_of(listing)
    start = (listing.published_at.date() if listing.published_at else uow.clock.today())
    schedule = build_schedule(terms.amount, terms.annual_rate, terms.term, terms.term_unit,
                              terms.repayment_method, start)
    fees = fee_schedule(schedule, terms.amount, ppm_to_rate(listing.service_fee_ppm),
                        ppm_to_rate(listing.guarantee_fee_ppm), terms.term, terms.term_unit,
                        terms.repayment_method)
    funding = policy.funding_rules(ctx.config)
    history = uow.s.scalars(select(ListingTransition).where(
        ListingTransition.listing_id == listing_id).order_by(ListingTransition.id)).all()
    asset_ids = uow.s.execute(select(PledgedAssetRow.id).where(
        PledgedAssetRow.listing_id == listing_id).order_by(PledgedAssetRow.id)).scalars().all()
    security_view = _public(security)
    if asset_ids:
        for asset, asset_id in zip(security_view["assets"], asset_ids, strict=True):
            asset["id"] = asset_id
    classes = sorted({a["asset_class"] for a in security_view.get("assets", [])})
    brief = store_for(policy.security_type).brief
    facts = brief(uow, [listing]).get(listing.id, {}) if brief is not None else {}
    return summary(listing, classes, facts) | {
        "description": listing.description,
        "security": {"type": policy.security_type.__name__, **security_view},
        "default_action": policy.default_action.value,
        "risk_labels": [_public(label) for label in
                        policy.risk_labels(terms, security, ctx.profile)],
        "counts_in_integrity_metrics": policy.counts_in_integrity_metrics,
        "funding": {
            "min_ticket": str(funding.min_ticket), "step": str(funding.step),
            "partial_allowed": funding.partial_allowed,
            # None where subscriptions settle at once: the listing closes at what was sold.
            "partial_threshold": (None if funding.settles_on_subscription
                                  else percent(funding.partial_threshold)),
            "settles_on_subscription": funding.settles_on_subscription,
            "window_days": funding.window_days, "interest_start": funding.interest_start.value,
        },
        "fees": {
            "service_fee_rate": percent_text(listing.service_fee_ppm),
            "guarantee_fee_rate": percent_text(listing.guarantee_fee_ppm),
            "charged": "with each instalment, on the principal still owed",
            "all_in_cost": (percent_text(listing.all_in_cost_ppm)
                            if listing.all_in_cost_ppm is not None else None),
        },
        "schedule_preview": [
            {"seq": r.seq, "due_date": r.due_date.isoformat(), "principal": str(r.principal),
             "interest": str(r.interest), "service_fee": str(f.service),
             "guarantee_fee": str(f.guarantee), "payment": str(r.payment),
             "payment_with_fees": str(r.payment + f.total), "balance": str(r.balance)}
            for r, f in zip(schedule, fees, strict=True)
        ],
        "schedule_totals": {
            "principal": str(sum((r.principal for r in schedule), Money(0))),
            "interest": str(sum((r.interest for r in schedule), Money(0))),
            "fees": str(sum((f.total for f in fees), Money(0))),
            "payment": str(sum((r.payment for r in schedule), Money(0))),
            "payment_with_fees": str(sum((r.payment + f.total for r, f in
                                          zip(schedule, fees, strict=True)), Money(0))),
        },
        "history": [
            {"from": h.from_status or None, "to": h.to_status, "actor_id": h.actor_id,
             "reason": h.reason, "at": h.at.isoformat()} for h in history
        ],
    }


def funding_progress(uow: UnitOfWork, listing_id: int) -> dict[str, Any]:
    """A public listing's funding as it stands: the few fields a page polls while others
    invest (one row read, no schedule)."""
    listing = uow.s.get(Listing, listing_id)
    if listing is None or listing.status not in PUBLIC_STATUSES:
        raise NotFound(f"no listing {listing_id}", field="listing_id")
    item = summary(listing, [])
    return {key: item[key] for key in ("id", "status", "amount", "remaining", "funded_percent")}


def review(uow: UnitOfWork, listing_id: int, rules: ListingRules) -> dict[str, Any]:
    """What an operator reviews: the listing as staff see it, the applicant's latest risk
    decision with what (if anything) stands in the way of approving on it, and the
    conditions of the listing's type not yet met for publishing."""
    found = detail(uow, listing_id, rules, staff=True)
    listing = uow.s.get(Listing, listing_id)
    assert listing is not None
    decision, problem = None, None
    needs_decision = rules.risk_decision is not None and borrowing.has_borrower(listing)
    if needs_decision:
        assert rules.risk_decision is not None
        decision = rules.risk_decision(uow, listing.applicant_id)
        found_problem = decision_problem(uow, decision, rules)
        if found_problem is not None:
            problem = {"code": found_problem[0], "message": found_problem[1]}
    gaps: list[dict[str, str]] = []
    if listing.status in ("submitted", "approved"):
        policy = policy_for(listing.kind)
        try:
            policy.check_publishable(terms_of(listing), load_security(uow, listing),
                                     rules.context(uow.clock.today()))
        except NotPublishable as exc:
            gaps = [{"field": g.field, "message": g.message} for g in exc.gaps]
        except BiaodiError as exc:
            gaps = [{"field": exc.field or "", "message": exc.message}]
    return found | {"needs_risk_decision": needs_decision,
                    "risk_decision": dict(decision) if decision is not None else None,
                    "risk_problem": problem, "publish_gaps": gaps}


def guarantor_book(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every user with the guarantor role: its terms on file (or none yet), the capacity it
    uses — the amounts of the listings it guarantees that are outstanding, the figure the
    capacity check at publishing counts — what is left, and the listings it backs."""
    people = uow.s.execute(
        select(User.id, User.username, User.real_name, GuarantorProfile)
        .join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == "guarantor"))
        .outerjoin(GuarantorProfile, GuarantorProfile.user_id == User.id)
        .order_by(User.id)).all()
    backed: dict[int, list[dict[str, Any]]] = {}
    for listing in uow.s.scalars(select(Listing).where(
            Listing.guarantor_id.in_([p[0] for p in people])).order_by(Listing.id.desc())):
        backed.setdefault(listing.guarantor_id or 0, []).append({
            "id": listing.id, "title": listing.title, "status": listing.status,
            "amount": Money(listing.amount_fen),
            "counts": listing.status in OUTSTANDING})
    book = []
    for user_id, username, real_name, profile in people:
        listings = backed.get(user_id, [])
        used = sum(item["amount"].fen for item in listings if item["counts"])
        capacity = profile.capacity_fen if profile is not None else 0
        book.append({
            "user_id": user_id, "username": username, "real_name": real_name,
            "has_terms": profile is not None,
            "name": profile.name if profile is not None else "",
            "capacity": Money(capacity), "used": Money(used),
            "remaining": Money(max(capacity - used, 0)),
            "over": used > capacity,
            "fee_rate": percent_text(profile.fee_rate_ppm) if profile is not None else "",
            "compensation_days": profile.compensation_days if profile is not None else None,
            "updated_at": profile.updated_at if profile is not None else None,
            "listings": listings,
        })
    return book
