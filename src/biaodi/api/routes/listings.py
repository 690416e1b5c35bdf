"""Listings: apply, review, record security, publish, browse and inspect."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from biaodi.api.deps import CurrentUser, Operator, OptionalUser, PlatformDep
from biaodi.api.idempotent import idempotent_response
from biaodi.api.params import (
    PERCENT_PATTERN,
    YUAN_OR_ZERO_PATTERN,
    Percent,
    RequestBody,
    Yuan,
    YuanOrZero,
    one_of,
    query_one_of,
    query_pattern,
)
from biaodi.bootstrap import Platform
from biaodi.domain.accounts.roles import STAFF_ROLES
from biaodi.domain.listings.policy import ListingKind
from biaodi.domain.listings.schedule import RepaymentMethod, TermUnit
from biaodi.domain.shared.bounds import Count, PageNo, PageSize, RowId
from biaodi.domain.shared.errors import Forbidden
from biaodi.domain.shared.money import Money
from biaodi.services.investing import auto_invest
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings import queries as listing_queries
from biaodi.services.listings import reserve
from biaodi.services.listings.security import AssetInput, ClaimInput, SecurityInput
from biaodi.services.shared.idempotency import Answer, check_key
from biaodi.services.shared.rates import parse_percent
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["listings"])


class AssetRequest(RequestBody):
    asset_class: str = Field(description="house, car, art or other")
    appraisal_value: Yuan = Field(description="appraised value in yuan, e.g. \"1500000.00\"")
    appraised_on: date
    appraiser: str
    description: str = ""
    plate_number: str | None = None
    registration_certificate_no: str | None = None


class ClaimRequest(RequestBody):
    principal: Yuan
    annual_rate: Percent = Field(description="percent a year, e.g. \"10\"")
    maturity: date


class CreateListingRequest(RequestBody):
    kind: Annotated[str, one_of(*ListingKind)] = Field(
        description="credit, collateral, guarantee, transfer or instant")
    title: str
    description: str = ""
    amount: Yuan = Field(description="yuan, at most two decimals", examples=["50000.00"])
    annual_rate: Percent = Field(description="percent a year", examples=["10.5"])
    term: Count
    term_unit: Annotated[str, one_of(*TermUnit)] = "month"
    repayment_method: Annotated[str, one_of(*RepaymentMethod)] = Field(
        description="equal_installment, equal_principal, interest_first or bullet"
    )
    assets: list[AssetRequest] = Field(default_factory=list, description="collateral only")
    guarantor_id: RowId | None = Field(default=None, description="guarantee only")
    claim: ClaimRequest | None = Field(default=None, description="transfer only")


class ReasonRequest(RequestBody):
    reason: str = ""


class ApproveRequest(ReasonRequest):
    override_reason: str | None = Field(
        default=None, description="approve although the applicant has no valid risk decision"
        " (none, or older than the configured age): needs the role risk_override; the reason"
        " is kept in the listing's history")


class OfflineStepRequest(RequestBody):
    step: str = Field(description="signed_contract, notarisation or mortgage_registration")
    done_on: date
    reference: str = Field(default="", description="certificate or contract number")


class VehicleRequest(RequestBody):
    plate_number: str
    registration_certificate_no: str


class CreditLimitRequest(RequestBody):
    limit: YuanOrZero
    reason: str


class GuarantorTermsRequest(RequestBody):
    name: str = ""
    capacity: YuanOrZero
    fee_rate: Percent = Field(description="percent a year on the principal")
    compensation_days: Count = 3


class AmountRequest(RequestBody):
    amount: Yuan


def _money(platform: Platform, value: str, field: str) -> Money:
    return Money.parse(value, field=field, ceiling_fen=platform.settings.money_ceiling_fen)


def _security(platform: Platform, body: CreateListingRequest) -> SecurityInput:
    assets = tuple(
        AssetInput(
            asset_class=a.asset_class,
            appraisal_value=_money(platform, a.appraisal_value, f"assets.{i}.appraisal_value"),
            appraised_on=a.appraised_on, appraiser=a.appraiser, description=a.description,
            plate_number=a.plate_number, registration_certificate_no=a.registration_certificate_no,
        )
        for i, a in enumerate(body.assets)
    )
    claim = None
    if body.claim is not None:
        claim = ClaimInput(
            principal=_money(platform, body.claim.principal, "claim.principal"),
            annual_rate=parse_percent(body.claim.annual_rate, field="claim.annual_rate"),
            maturity=body.claim.maturity,
        )
    return SecurityInput(assets=assets, guarantor_id=body.guarantor_id, claim=claim)


def _detail(platform: Platform, listing_id: RowId, user: Any = None) -> dict[str, Any]:
    staff = bool(user and STAFF_ROLES.intersection(user.roles))
    with platform.reader() as uow:
        return listing_queries.detail(uow, listing_id, platform.listing_rules,
                                      viewer_id=user.id if user else None, staff=staff)


@router.post("/listings", status_code=201)
def create_listing(body: CreateListingRequest, platform: PlatformDep,
                   user: CurrentUser) -> dict[str, Any]:
    """Draft a listing. The type's policy checks terms and security at once."""
    cmd = listings.CreateListing(
        kind=body.kind, title=body.title, description=body.description,
        amount=_money(platform, body.amount, "amount"),
        annual_rate=parse_percent(body.annual_rate), term=body.term, term_unit=body.term_unit,
        repayment_method=body.repayment_method, security=_security(platform, body),
    )
    listing = in_transaction(platform.uow, lambda uow: listings.create_listing(
        uow, cmd, applicant_id=user.id, rules=platform.listing_rules))
    return _detail(platform, listing.id, user)


#: listing kinds to show (any of them)
KindsParam = Annotated[list[str], Query(json_schema_extra={
    "items": {"type": "string", "enum": list(ListingKind)}})]


@router.get("/listings")
def browse_listings(
    platform: PlatformDep,
    kind: KindsParam = [],  # noqa: B006 - FastAPI copies defaults
    status: Annotated[list[str], Query()] = ["published"],  # noqa: B006
    min_rate: Annotated[str | None, query_pattern(PERCENT_PATTERN)] = None,
    max_rate: Annotated[str | None, query_pattern(PERCENT_PATTERN)] = None,
    term_unit: Annotated[str | None, query_one_of(*TermUnit)] = None,
    min_term: Count | None = None,
    max_term: Count | None = None,
    grade: Annotated[list[str], Query()] = [],  # noqa: B006
    collateral_class: str | None = None,
    min_remaining: Annotated[str | None, query_pattern(YUAN_OR_ZERO_PATTERN)] = None,
    sort: Annotated[str, query_one_of(*(f"{d}{s}" for s in listing_queries.SORTS
                                        for d in ("", "-")))] = "-published_at",
    page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    """Published listings (and other public states on request), filtered, sorted, paged."""
    for s in status:
        if s not in listing_queries.PUBLIC_STATUSES:
            raise Forbidden(f"listings in status {s!r} are not public", code="not_public")
    f = listing_queries.ListingFilter(
        kinds=tuple(kind), statuses=tuple(status),
        min_rate=parse_percent(min_rate, field="min_rate") if min_rate else None,
        max_rate=parse_percent(max_rate, field="max_rate") if max_rate else None,
        term_unit=term_unit, min_term=min_term, max_term=max_term, grades=tuple(grade),
        collateral_class=collateral_class,
        min_remaining=(Money.parse(min_remaining, field="min_remaining", allow_zero=True)
                       if min_remaining else None),
        sort=sort, page=page, page_size=page_size,
    )
    with platform.reader() as uow:
        result = listing_queries.browse(uow, f, platform.listing_rules)
    return {"items": result.items, "total": result.total, "page": result.page,
            "page_size": result.page_size}


@router.get("/listings/{listing_id}")
def listing_detail(listing_id: RowId, platform: PlatformDep, user: OptionalUser) -> dict[str, Any]:
    """A listing with its schedule preview, security, risk labels and history."""
    return _detail(platform, listing_id, user)


@router.post("/listings/{listing_id}/submit")
def submit_listing(listing_id: RowId, platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    in_transaction(platform.uow, lambda uow: listings.submit(
        uow, listing_id, actor_id=user.id, rules=platform.listing_rules))
    return _detail(platform, listing_id, user)


@router.post("/listings/{listing_id}/approve")
def approve_listing(listing_id: RowId, body: ApproveRequest, platform: PlatformDep,
                    op: Operator) -> dict[str, Any]:
    """Approve a submitted listing: the applicant's risk decision (grade, rate band) or a
    risk override, and the borrowing caps."""
    in_transaction(platform.uow, lambda uow: listings.approve(
        uow, listing_id, actor_id=op.id, reason=body.reason, rules=platform.listing_rules,
        override_reason=body.override_reason))
    return _detail(platform, listing_id, op)


@router.post("/listings/{listing_id}/reject")
def reject_listing(listing_id: RowId, body: ReasonRequest, platform: PlatformDep,
                   op: Operator) -> dict[str, Any]:
    in_transaction(platform.uow, lambda uow: listings.reject(
        uow, listing_id, actor_id=op.id, reason=body.reason))
    return _detail(platform, listing_id, op)


@router.post("/listings/{listing_id}/publish")
def publish_listing(listing_id: RowId, body: ReasonRequest, platform: PlatformDep,
                    op: Operator) -> dict[str, Any]:
    # Auto-invest runs in the publishing transaction: manual investing opens after it.
    in_transaction(platform.uow, lambda uow: auto_invest.publish(
        uow, listing_id, actor_id=op.id, reason=body.reason, rules=platform.investing_rules))
    return _detail(platform, listing_id, op)


@router.post("/listings/{listing_id}/assets/{asset_id}/offline-steps", status_code=201)
def record_offline_step(listing_id: RowId, asset_id: RowId, body: OfflineStepRequest,
                        platform: PlatformDep, op: Operator) -> dict[str, Any]:
    """Record an O2O step for a pledged house (contract, notarisation, mortgage registration)."""
    in_transaction(platform.uow, lambda uow: listings.record_offline_step(
        uow, listing_id, asset_id, step=body.step, done_on=body.done_on,
        reference=body.reference, operator_id=op.id))
    return _detail(platform, listing_id, op)


@router.put("/listings/{listing_id}/assets/{asset_id}/vehicle-registration")
def record_vehicle(listing_id: RowId, asset_id: RowId, body: VehicleRequest, platform: PlatformDep,
                   op: Operator) -> dict[str, Any]:
    in_transaction(platform.uow, lambda uow: listings.record_vehicle_registration(
        uow, listing_id, asset_id, plate_number=body.plate_number,
        certificate_no=body.registration_certificate_no))
    return _detail(platform, listing_id, op)


@router.get("/me/listings")
def my_listings(platform: PlatformDep, user: CurrentUser, page: PageNo = 1,
                page_size: PageSize = 20) -> dict[str, Any]:
    f = listing_queries.ListingFilter(
        statuses=tuple(s.value for s in listings.ListingStatus), applicant_id=user.id,
        sort="-published_at", page=page, page_size=page_size)
    with platform.reader() as uow:
        result = listing_queries.browse(uow, f, platform.listing_rules)
    return {"items": result.items, "total": result.total, "page": page, "page_size": page_size}


@router.get("/operator/listings")
def review_queue(platform: PlatformDep, _op: Operator,
                 status: Annotated[list[str], Query()] = ["submitted"],  # noqa: B006
                 page: PageNo = 1, page_size: PageSize = 20) -> dict[str, Any]:
    """Listings by status for operators; by default the review queue (submitted)."""
    f = listing_queries.ListingFilter(statuses=tuple(status), sort="published_at",
                                      page=page, page_size=page_size)
    with platform.reader() as uow:
        result = listing_queries.browse(uow, f, platform.listing_rules)
    return {"items": result.items, "total": result.total, "page": page, "page_size": page_size}


@router.put("/operator/borrowers/{user_id}/credit-limit")
def set_credit_limit(user_id: RowId, body: CreditLimitRequest, platform: PlatformDep,
                     op: Operator) -> dict[str, Any]:
    limit = Money.parse(body.limit, field="limit", allow_zero=True,
                        ceiling_fen=platform.settings.money_ceiling_fen)
    in_transaction(platform.uow, lambda uow: listings.set_credit_limit(
        uow, user_id, limit, actor_id=op.id, reason=body.reason, rules=platform.listing_rules))
    return {"user_id": user_id, "limit": str(limit), "reason": body.reason.strip()}


@router.put("/operator/guarantors/{user_id}")
def set_guarantor_terms(user_id: RowId, body: GuarantorTermsRequest, platform: PlatformDep,
                        op: Operator) -> dict[str, Any]:
    capacity = Money.parse(body.capacity, field="capacity", allow_zero=True,
                           ceiling_fen=None)
    fee_rate = parse_percent(body.fee_rate, field="fee_rate")
    row = in_transaction(platform.uow, lambda uow: listings.set_guarantor_terms(
        uow, user_id, name=body.name, capacity=capacity, fee_rate=fee_rate,
        compensation_days=body.compensation_days, actor_id=op.id))
    return {"user_id": user_id, "name": row.name, "capacity": str(capacity),
            "fee_rate": body.fee_rate, "compensation_days": body.compensation_days}


@router.post("/me/buyback-reserve", status_code=201)
def fund_reserve(body: AmountRequest, platform: PlatformDep, user: CurrentUser,
                 idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """An originator moves money from its wallet into its buy-back reserve (流转标)."""
    key = check_key(idempotency_key)
    amount = _money(platform, body.amount, "amount")

    def act(uow):  # type: ignore[no-untyped-def]
        posted = reserve.fund_buyback_reserve(uow, user.id, amount, idempotency_key=key)
        return Answer(201, {"entry_id": posted.entry_id, "amount": str(amount)})

    return idempotent_response(platform, scope=f"user:{user.id}:POST /me/buyback-reserve",
                               key=key, payload=body.model_dump(), fn=act)
