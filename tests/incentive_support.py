"""Building blocks for incentive tests: a campaign with a template, coupons issued, an
investment with coupons, the day steps run for a date (both databases, through the services)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import text

from biaodi.bootstrap import Platform
from biaodi.domain.incentives.coupons import CouponKind, TemplateTerms
from biaodi.domain.shared.money import Money
from biaodi.services.incentives import campaigns
from biaodi.services.incentives.days import incentive_steps
from biaodi.services.investing import invest as investing
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.shared.tx import in_transaction

CASH = TemplateTerms(CouponKind.CASH, amount=Money.yuan(20), validity_days=30,
                     min_invest=Money.yuan(1_000), terms=("12m",))
BOOST = TemplateTerms(CouponKind.BOOST, rate_ppm=20_000, days=30, validity_days=30,
                      min_invest=Money.yuan(1_000), max_invest=Money.yuan(5_000))
TRIAL = TemplateTerms(CouponKind.TRIAL, amount=Money.yuan(10_000), rate_ppm=80_000, days=5,
                      validity_days=5)


def campaign(platform: Platform, budget_yuan: int = 10_000, days: int = 60,
             name: str = "新手季") -> int:
    today = platform.clock.today()
    cmd = campaigns.NewCampaign(name, "新手专享：投资满1000元可用，30天内有效。",
                                Money.yuan(budget_yuan), today, today + timedelta(days=days))
    return in_transaction(platform.uow, lambda uow: campaigns.create_campaign(
        uow, cmd, actor_id=None))


def template(platform: Platform, campaign_id: int, terms: TemplateTerms = CASH,
             **changes: object) -> int:
    terms = replace(terms, **changes)  # type: ignore[arg-type]
    return in_transaction(platform.uow, lambda uow: campaigns.create_template(
        uow, campaign_id, f"{terms.kind} coupon", terms))


def issue(platform: Platform, template_id: int, *users: int) -> list[int]:
    return in_transaction(platform.uow, lambda uow: campaigns.issue(
        uow, template_id, list(users), actor_id=None))


def invest_with(platform: Platform, rules: InvestingRules, listing_id: int, investor_id: int,
                yuan: int, *coupon_ids: int, source: str = "manual") -> investing.Invested:
    cmd = investing.Invest(listing_id, investor_id, Money.yuan(yuan), source=source,
                           coupon_ids=tuple(coupon_ids))
    return in_transaction(platform.uow, lambda uow: investing.invest(uow, cmd, rules))


def run_steps(platform: Platform, day: date) -> dict[str, int]:
    done = {}
    for name, run in incentive_steps():
        done[name] = in_transaction(platform.uow, lambda uow, r=run: r(uow, day))
    return done


def coupon_status(platform: Platform, coupon_id: int) -> tuple[str, int]:
    with platform.uow() as uow:
        row = uow.s.execute(text("SELECT status, paid_fen FROM incentive_coupons WHERE id = :i"),
                            {"i": coupon_id}).one()
    return row.status, int(row.paid_fen)


def spent(platform: Platform, campaign_id: int) -> int:
    with platform.uow() as uow:
        return int(uow.s.execute(text("SELECT spent_fen FROM incentive_campaigns WHERE id = :i"),
                                 {"i": campaign_id}).scalar_one())
