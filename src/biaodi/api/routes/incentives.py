"""Incentives: the public campaign rules; an investor's coupons, trials, points and referrer;
operators' campaigns (with what they spent and their outstanding exposure), coupon templates
and issuing. Investing with a coupon is `POST /listings/{id}/investments` with `coupon_id`
(or `coupon_ids` when every one is stackable)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from biaodi.api.deps import Operator, PlatformDep, require_role
from biaodi.api.params import NonBlank, Percent, RequestBody, Yuan, YuanOrZero, one_of
from biaodi.domain.accounts.roles import Role
from biaodi.domain.incentives.coupons import PPM, CouponKind, TemplateTerms
from biaodi.domain.listings.policy import ListingKind
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.incentives import campaigns, coupons, referrals, trials
from biaodi.services.incentives.rules import IncentiveRules
from biaodi.services.shared.rates import parse_percent
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["incentives"])

Investor = Annotated[UserView, Depends(require_role(Role.INVESTOR))]
Staff = Annotated[UserView, Depends(require_role(Role.OPERATOR, Role.AUDITOR))]
RULES = IncentiveRules()


class CampaignRequest(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    rule_text: Annotated[str, Field(min_length=1, max_length=4000)] = Field(
        description="the rules as the public reads them")
    budget: Yuan
    starts_on: date
    ends_on: date


class TemplateRequest(RequestBody):
    kind: Annotated[str, one_of(*CouponKind)]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    amount: Yuan | None = Field(default=None, description="cash: the coupon; trial: principal")
    rate: Percent | None = Field(default=None, description="boost and trial: percent a year")
    days: Annotated[int, Field(ge=1, le=366)] | None = None
    validity_days: Annotated[int, Field(ge=1, le=3660)] = 30
    min_investment: YuanOrZero = "0"
    max_investment: Yuan | None = None
    listing_kinds: list[Annotated[str, one_of(*ListingKind)]] = Field(default_factory=list)
    terms: list[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}[md]$")]] = Field(
        default_factory=list, description='e.g. "12m", "30d"; empty: any term')
    total_count: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    per_user_count: Annotated[int, Field(ge=1, le=1000)] = 1
    stackable: bool = False
    auto_invest: bool = False
    expected_use: Annotated[str, Field(pattern=r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$")] = Field(
        default="1", description="share of issued coupons expected to be used, 0 to 1")


class IssueRequest(RequestBody):
    user_ids: list[RowId] = Field(min_length=1, max_length=1000)


class TrialRequest(RequestBody):
    template_id: RowId
    device_id: NonBlank = Field(max_length=128)


class ReferrerRequest(RequestBody):
    referrer: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="the username of whoever referred you")


@router.get("/incentive-campaigns")
def public_campaigns(platform: PlatformDep) -> dict[str, Any]:
    """Every campaign's public rules and dates."""
    with platform.reader() as uow:
        return {"items": [{key: c[key] for key in ("id", "name", "rule_text", "starts_on",
                                                    "ends_on")}
                          for c in campaigns.campaigns_view(uow)]}


@router.get("/me/coupons")
def my_coupons(platform: PlatformDep, user: Investor) -> dict[str, Any]:
    """My coupons (issued, used, expired; a boost accruing, ended or lost), my trials and my
    points and level."""
    with platform.reader() as uow:
        return {"items": coupons.coupons_of(uow, user.id),
                "trials": trials.trials_of(uow, user.id),
                "points": referrals.points_of(uow, user.id, RULES)}


@router.post("/me/trials", status_code=201)
def claim_trial(body: TrialRequest, platform: PlatformDep, user: Investor) -> dict[str, Any]:
    """Start trial principal (体验金). 409 `trial_once_per_identity` / `_device` / `_mobile`,
    `campaign_ended`, `campaign_budget`; 404 no such template."""
    trial_id = in_transaction(platform.uow, lambda uow: trials.claim_trial(
        uow, user.id, body.template_id, body.device_id))
    with platform.reader() as uow:
        return next(t for t in trials.trials_of(uow, user.id) if t["id"] == trial_id)


@router.post("/me/referrer", status_code=201)
def name_referrer(body: ReferrerRequest, platform: PlatformDep,
                  user: Investor) -> dict[str, Any]:
    """Name who referred me (once, within the window after signing up). 409
    `referral_exists` / `referral_window`; 404 no such user."""
    referral_id = in_transaction(platform.uow, lambda uow: referrals.record_referral(
        uow, user.id, body.referrer, RULES))
    return {"id": referral_id}


@router.get("/operator/incentives/campaigns")
def list_campaigns(platform: PlatformDep, _staff: Staff) -> dict[str, Any]:
    """Every campaign: budget, spent, coupons issued and used, outstanding exposure."""
    with platform.reader() as uow:
        return {"items": campaigns.campaigns_view(uow)}


@router.post("/operator/incentives/campaigns", status_code=201)
def create_campaign(body: CampaignRequest, platform: PlatformDep,
                    operator: Operator) -> dict[str, Any]:
    """A campaign with a budget, a fixed end date and its public rule text. 409
    `campaign_exists`; 422 names the field."""
    budget = Money.parse(body.budget, field="budget",
                         ceiling_fen=platform.settings.money_ceiling_fen)
    cmd = campaigns.NewCampaign(body.name, body.rule_text, budget, body.starts_on,
                                body.ends_on)
    campaign_id = in_transaction(platform.uow, lambda uow: campaigns.create_campaign(
        uow, cmd, actor_id=operator.id))
    with platform.reader() as uow:
        return campaigns.campaigns_view(uow, campaign_id)[0]


def _terms(body: TemplateRequest) -> TemplateTerms:
    def money(value: str | None, field: str) -> Money | None:
        return None if value is None else Money.parse(value, field=field, allow_zero=True)

    rate = parse_percent(body.rate, field="rate") if body.rate is not None else None
    return TemplateTerms(
        kind=CouponKind(body.kind), amount=money(body.amount, "amount"),
        rate_ppm=int(rate * PPM) if rate is not None else None, days=body.days,
        validity_days=body.validity_days,
        min_invest=money(body.min_investment, "min_investment") or Money(0),
        max_invest=money(body.max_investment, "max_investment"),
        listing_kinds=tuple(body.listing_kinds), terms=tuple(body.terms),
        total_count=body.total_count, per_user_count=body.per_user_count,
        stackable=body.stackable, auto_invest=body.auto_invest,
        expected_use_ppm=_share(body.expected_use))


def _share(value: str) -> int:
    whole, _, decimals = value.partition(".")
    ppm = int(whole) * PPM + int((decimals + "000000")[:6])
    if ppm > PPM:
        raise InvalidInput("expected use is a share between 0 and 1", field="expected_use")
    return ppm


@router.post("/operator/incentives/campaigns/{campaign_id}/templates", status_code=201)
def create_template(campaign_id: RowId, body: TemplateRequest, platform: PlatformDep,
                    _op: Operator) -> dict[str, Any]:
    """A coupon template: amount or rate, validity, minimum and maximum investment, allowed
    listing types and terms, total and per-user counts, stacking. 404 no such campaign; 422
    names the field."""
    terms = _terms(body)
    template_id = in_transaction(platform.uow, lambda uow: campaigns.create_template(
        uow, campaign_id, body.name, terms))
    return {"id": template_id, "campaign_id": campaign_id, "kind": terms.kind.value,
            "face_value": str(terms.face_value())}


@router.post("/operator/incentives/templates/{template_id}/issue", status_code=201)
def issue(template_id: RowId, body: IssueRequest, platform: PlatformDep,
          operator: Operator) -> dict[str, Any]:
    """Issue one coupon to each user. 409 `coupon_total_count`, `coupon_per_user_count`,
    `campaign_budget`, `campaign_ended`; 404 no such template or a user not an investor."""
    ids = in_transaction(platform.uow, lambda uow: campaigns.issue(
        uow, template_id, list(body.user_ids), actor_id=operator.id))
    return {"coupon_ids": ids, "count": len(ids)}

