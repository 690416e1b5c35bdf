"""Investing: manual investments, holdings, suitability, auto-invest, funding deadlines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from biaodi.api.deps import (
    CurrentUser,
    Operator,
    PlatformDep,
    claimed_caller,
    get_current_user,
    oauth2,
)
from biaodi.api.idempotent import idempotent_response
from biaodi.api.params import Percent, RequestBody, Yuan, YuanOrZero, one_of
from biaodi.domain.investing.suitability import MAX_LISTING_RISK, NAMES_ZH, QUESTIONS, InvestorLevel
from biaodi.domain.listings.policy import ListingKind
from biaodi.domain.risk.grades import Grade
from biaodi.domain.shared.bounds import Count, RowId
from biaodi.domain.shared.errors import NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.incentives import coupons
from biaodi.services.investing import auto_invest, funding, one_trip, queries, suitability
from biaodi.services.investing import invest as investing
from biaodi.services.shared.idempotency import Answer, check_key
from biaodi.services.shared.rates import parse_percent
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["investing"])


class InvestRequest(RequestBody):
    amount: Yuan = Field(examples=["500.00"])
    coupon_id: RowId | None = Field(default=None, description="a coupon (红包, 加息券) to use")
    coupon_ids: list[RowId] = Field(default_factory=list, max_length=10,
                                    description="several coupons, when every one is stackable")


class AssessmentRequest(RequestBody):
    answers: dict[str, int] = Field(description="question key → chosen option index")


class RuleRequest(RequestBody):
    amount_per_listing: Yuan
    kinds: list[Annotated[str, one_of(*ListingKind)]] = Field(
        default_factory=list, description="empty = every type")
    best_grade: Annotated[str, one_of(*Grade)] | None = None
    worst_grade: Annotated[str, one_of(*Grade)] | None = None
    min_rate: Percent | None = Field(default=None, description="percent a year")
    max_term_months: Count = 36
    cash_reserve: YuanOrZero = "0"
    total_cap: Yuan | None = Field(
        default=None, description="the most the investor keeps outstanding in all, every rule "
        "and manual investment together")
    rule_cap: Yuan | None = Field(
        default=None, description="the most this rule keeps invested: its own subscriptions "
        "still frozen plus the outstanding principal of the holdings they became")
    draw_on_cash_wallet: bool = Field(
        default=False, description="when the wallet is short, top it up by an instant "
        "redemption from the cash wallet first (within the ¥10,000 daily cap)")


class ExpireRequest(RequestBody):
    business_date: date | None = None


@router.post("/listings/{listing_id}/investments", status_code=201)
def invest(listing_id: RowId, body: InvestRequest, request: Request, platform: PlatformDep,
           token: Annotated[str | None, Depends(oauth2)],
           idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Invest in a published listing. `Idempotency-Key` is required; a replay returns the
    first answer. 409 `listing_full` / `listing_closed` / `insufficient_balance` /
    `coupon_not_available`; 422 `coupon_expired`, `coupon_min_investment`, `coupon_term`,
    `coupon_stacking` …; 429 past the per-investor rate limit. On PostgreSQL an investment
    without coupons, the token check included, is one statement
    (services/investing/one_trip.py); one with coupons takes the step-by-step path."""
    key = check_key(idempotency_key)
    coupon_ids = coupons.named(body.coupon_id, body.coupon_ids)
    payload = body.model_dump(exclude_defaults=True)
    if token and one_trip.available(platform.engine) and not coupon_ids:
        platform.rate_limiter.hit("invest", claimed_caller(request, platform, token))
        amount = Money.parse(body.amount, field="amount",
                             ceiling_fen=platform.settings.money_ceiling_fen)
        answer = one_trip.invest(platform.uow, token=token, listing_id=listing_id,
                                 amount=amount, key=key, payload=payload,
                                 rules=platform.investing_rules,
                                 batch_max=platform.settings.invest_batch_max)
        if answer is not None:
            headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
            return JSONResponse(answer.body, answer.status_code, headers)
    user = get_current_user(request, platform, token)
    platform.rate_limiter.hit("invest", f"user:{user.id}")

    def act(uow):  # type: ignore[no-untyped-def]
        amount = Money.parse(body.amount, field="amount",
                             ceiling_fen=platform.settings.money_ceiling_fen)
        made = investing.invest(uow, investing.Invest(listing_id, user.id, amount,
                                                      coupon_ids=coupon_ids),
                                platform.investing_rules)
        return Answer(201, {"id": made.investment_id, "listing_id": listing_id,
                            "amount": str(made.amount), "status": made.status,
                            "listing_remaining": str(made.remaining),
                            "listing_status": made.listing_status})

    return idempotent_response(platform, scope=f"user:{user.id}:{one_trip.route(listing_id)}",
                               key=key, payload=payload, fn=act)


@router.get("/me/investments")
def my_investments(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    with platform.reader() as uow:
        return {"items": queries.investments_of(uow, user.id)}


@router.get("/me/holdings")
def my_holdings(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """Holdings with their exact share of every instalment (the investor's cash flows)."""
    with platform.reader() as uow:
        return {"items": queries.holdings_of(uow, user.id)}


@router.get("/risk-assessment/questions")
def questions() -> dict[str, Any]:
    return {"questions": [{"key": key, "text": text, "options": list(options)}
                          for key, text, options in QUESTIONS],
            "levels": [{"level": lvl.label, "name_zh": NAMES_ZH[lvl],
                        "max_listing_risk": MAX_LISTING_RISK[lvl]} for lvl in InvestorLevel]}


def _assessment_view(row: Any) -> dict[str, Any]:
    level = InvestorLevel(row.level)
    return {"score": row.score, "level": level.label, "level_zh": NAMES_ZH[level],
            "max_listing_risk": MAX_LISTING_RISK[level], "valid_until": row.valid_until.isoformat()}


@router.post("/me/risk-assessment", status_code=201)
def take_assessment(body: AssessmentRequest, platform: PlatformDep,
                    user: CurrentUser) -> dict[str, Any]:
    row = in_transaction(platform.uow, lambda uow: suitability.assess(uow, user.id,
                                                                      body.answers))
    return _assessment_view(row)


@router.get("/me/risk-assessment")
def my_assessment(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    with platform.reader() as uow:
        row = suitability.latest(uow, user.id)
        if row is None:
            raise NotFound("no risk assessment yet: POST /api/v1/me/risk-assessment",
                           field="answers")
        return _assessment_view(row)


def _rule_input(body: RuleRequest) -> auto_invest.RuleInput:
    return auto_invest.RuleInput(
        amount_per_listing=Money.parse(body.amount_per_listing, field="amount_per_listing"),
        kinds=tuple(body.kinds), best_grade=body.best_grade, worst_grade=body.worst_grade,
        min_rate=parse_percent(body.min_rate, field="min_rate") if body.min_rate else Decimal(0),
        max_term_months=body.max_term_months,
        cash_reserve=Money.parse(body.cash_reserve, field="cash_reserve", positive=True,
                                 allow_zero=True),
        total_cap=Money.parse(body.total_cap, field="total_cap") if body.total_cap else None,
        rule_cap=Money.parse(body.rule_cap, field="rule_cap") if body.rule_cap else None,
        draw_on_cash_wallet=body.draw_on_cash_wallet)


@router.post("/me/auto-invest/rules", status_code=201)
def create_rule(body: RuleRequest, platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    cmd = _rule_input(body)
    rule = in_transaction(platform.uow, lambda uow: auto_invest.save_rule(uow, user.id, cmd))
    return queries.rule_view(rule)


@router.put("/me/auto-invest/rules/{rule_id}")
def update_rule(rule_id: RowId, body: RuleRequest, platform: PlatformDep,
                user: CurrentUser) -> dict[str, Any]:
    cmd = _rule_input(body)
    rule = in_transaction(platform.uow, lambda uow: auto_invest.save_rule(uow, user.id, cmd,
                                                                          rule_id))
    return queries.rule_view(rule)


@router.delete("/me/auto-invest/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: RowId, platform: PlatformDep, user: CurrentUser) -> None:
    in_transaction(platform.uow, lambda uow: auto_invest.deactivate_rule(uow, user.id, rule_id))


@router.get("/me/auto-invest/rules")
def my_rules(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    with platform.reader() as uow:
        return {"items": queries.auto_invest_rules_of(uow, user.id)}


@router.get("/me/auto-invest/allocations")
def my_allocations(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """The allocation log lines about me: position in the queue, amount or why skipped."""
    with platform.reader() as uow:
        return {"items": auto_invest.my_allocations(uow, user.id)}


@router.post("/operator/funding/close-expired")
def close_expired(body: ExpireRequest, platform: PlatformDep, _op: Operator) -> dict[str, Any]:
    """Close every listing whose funding window has ended: funded (in full or, where the type
    allows, partially) or failed and refunded."""
    return close_expired_listings(platform, body.business_date)


def close_expired_listings(platform: Any, day: date | None) -> dict[str, Any]:
    today = day or platform.clock.today()
    with platform.reader() as uow:
        ids = funding.due_for_closing(uow, today)
    outcomes = {}
    for listing_id in ids:
        outcomes[listing_id] = in_transaction(platform.uow, lambda uow, i=listing_id:
                                              funding.close_funding_window(
                                                  uow, i, platform.investing_rules))
    return {"date": today.isoformat(), "closed": outcomes}
