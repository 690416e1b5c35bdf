"""The investor's coupons page (/me/coupons): coupons (红包 and 加息券) with their conditions,
last day and state, trial principal (体验金), points and level, and each campaign's public
rules. Choosing a coupon when investing is on the investment page (`investor.py`); the
refusals of a coupon are said here once for every page (`refusal.coupon_*`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.services.accounts.users import UserView
from biaodi.services.incentives import campaigns, coupons, referrals, trials
from biaodi.services.incentives.rules import IncentiveRules
from biaodi.web import i18n
from biaodi.web.pages import platform_of, render, require_role
from biaodi.web.routes import operator_books

router = APIRouter()
InvestorUser = Annotated[UserView, Depends(require_role("investor"))]
CampaignReader = Annotated[UserView, Depends(require_role(*operator_books.READ["incentives"]))]
RULES = IncentiveRules()

MESSAGES: dict[str, tuple[str, str]] = {
    "incent.title": ("我的优惠券", "My coupons"),
    "incent.link": ("优惠券", "Coupons"),
    "incent.coupons": ("红包与加息券", "Cash coupons and rate boosts"),
    "incent.coupons.empty": ("暂无优惠券。", "No coupons yet."),
    "incent.kind.cash": ("红包", "Cash coupon"),
    "incent.kind.boost": ("加息券", "Rate boost"),
    "incent.kind.trial": ("体验金", "Trial principal"),
    "incent.value": ("面值", "Value"),
    "incent.value.cash": ("¥{amount}", "¥{amount}"),
    "incent.value.boost": ("+{rate}%，{days} 天", "+{rate} % for {days} days"),
    "incent.conditions": ("使用条件", "Conditions"),
    "incent.min": ("出借满 ¥{amount}", "investing ¥{amount} or more"),
    "incent.max": ("至多 ¥{amount}", "at most ¥{amount}"),
    "incent.terms": ("期限 {terms}", "terms {terms}"),
    "incent.kinds": ("限 {kinds}", "{kinds} only"),
    "incent.stackable": ("可叠加", "stackable"),
    "incent.expires": ("有效期至", "Valid until"),
    "incent.state": ("状态", "State"),
    "incent.state.issued": ("可使用", "Available"),
    "incent.state.used": ("已使用", "Used"),
    "incent.state.accruing": ("计息中（已发 ¥{paid}）", "Accruing (¥{paid} paid)"),
    "incent.state.ended": ("已结束（共 ¥{paid}）", "Ended (¥{paid} in all)"),
    "incent.state.lost": ("债权已转让，加息终止（已发 ¥{paid}）",
                          "Holding sold: boost ended (¥{paid} paid)"),
    "incent.state.expired": ("已过期", "Expired"),
    "incent.state.void": ("已作废", "Void"),
    "incent.boost_note": ("加息部分由平台营销账户支付，不改变借款人的合同利率。",
                          "A boost is paid by the platform's marketing account; the "
                          "borrower's contract rate is unchanged."),
    "incent.trials": ("体验金", "Trial principal"),
    "incent.trial.line": ("¥{principal}，{start} 至 {end}，到期收益 ¥{interest}",
                          "¥{principal}, {start} to {end}, interest ¥{interest} at maturity"),
    "incent.trial.running": ("体验中：期间提现将作废收益", "Running: a withdrawal voids it"),
    "incent.trial.paid": ("收益已发放", "Interest paid"),
    "incent.trial.void": ("期间有提现，已作废", "Voided by a withdrawal"),
    "incent.points": ("积分与等级", "Points and level"),
    "incent.points.line": ("{points} 分，等级 {level}", "{points} points, level {level}"),
    "incent.points.next": ("再得 {n} 分升至 {level}", "{n} more to reach {level}"),
    "incent.rules": ("活动规则", "Campaign rules"),
    "incent.rules.dates": ("{start} 至 {end}", "{start} to {end}"),
    "op.tab.incentives": ("营销活动", "Incentives"),
    "incent.op.intro": ("营销活动的预算、已支出与未兑付敞口（未使用券面值 × 预计使用率，"
                        "加上计息中的加息券与体验金尚可支付的金额）。"
                        "活动与券模板通过 API 或 `biaodi incentives` 创建与发放。",
                        "Each campaign's budget, what it paid and its outstanding exposure "
                        "(unused coupons' face value × expected use, plus what accruing boosts "
                        "and running trials may still pay). Campaigns and templates are made "
                        "and issued through the API or `biaodi incentives`."),
    "incent.op.none": ("还没有营销活动。", "No campaign yet."),
    "incent.op.budget": ("预算", "Budget"),
    "incent.op.spent": ("已支出", "Spent"),
    "incent.op.exposure": ("未兑付敞口", "Exposure"),
    "incent.op.issued": ("已发放 / 已使用", "Issued / used"),
    "incent.op.templates": ("券模板", "Templates"),
    "incent.op.count": ("已发 {issued}{total}，每人 {per_user} 张",
                        "{issued} issued{total}, {per_user} per user"),
    "incent.op.total": ("（上限 {n}）", " (of {n})"),
    "incent.choose": ("使用优惠券", "Use a coupon"),
    "incent.choose.none": ("不使用", "None"),
    "incent.chosen": ("使用优惠券 #{id}", "Using coupon #{id}"),
    "incent.reward": ("预计奖励 ¥{amount}（由平台营销账户支付）",
                      "expected reward ¥{amount} (paid by the platform's marketing account)"),
    # refusals of coupons, for every page
    "refusal.coupon_expired": ("该优惠券已过期。", "This coupon has expired."),
    "refusal.coupon_min_investment": ("出借金额未达到该优惠券的使用门槛。",
                                      "The amount is below this coupon's minimum investment."),
    "refusal.coupon_max_investment": ("出借金额超过该优惠券的上限。",
                                      "The amount is above this coupon's maximum."),
    "refusal.coupon_term": ("该优惠券不适用于此期限的标的。",
                            "This coupon is not for listings of this term."),
    "refusal.coupon_listing_kind": ("该优惠券不适用于此类标的。",
                                    "This coupon is not for this type of listing."),
    "refusal.coupon_stacking": ("每笔出借只能使用一张优惠券（可叠加的除外）。",
                                "One coupon per investment, unless every one is stackable."),
    "refusal.coupon_auto_invest": ("该优惠券不能用于自动投标。",
                                   "This coupon cannot be used by auto-invest."),
    "refusal.coupon_kind": ("体验金不能用于出借。", "Trial principal is not used to invest."),
    "refusal.coupon_not_available": ("该优惠券已使用或已失效。",
                                     "This coupon was used or is no longer valid."),
}
i18n.register(MESSAGES)


@router.get("/me/coupons")
def my_coupons(request: Request, user: InvestorUser) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        mine = coupons.coupons_of(uow, user.id)
        my_trials = trials.trials_of(uow, user.id)
        points = referrals.points_of(uow, user.id, RULES)
        rules = campaigns.campaigns_view(uow)
    named = {c["campaign"] for c in mine} | {t["campaign"] for t in my_trials}
    return render(request, "investor/coupons.html", {
        "coupons": mine, "trials": my_trials, "points": points,
        "campaigns": [c for c in rules if c["name"] in named]})


@router.get("/operator/incentives")
def campaigns_page(request: Request, user: CampaignReader) -> Response:
    with platform_of(request).reader() as uow:
        rows = campaigns.campaigns_view(uow)
        templates = campaigns.templates_view(uow)
    return render(request, "operator/incentives.html", {
        "campaigns": rows, "templates": templates,
        **operator_books.chrome(request, user, "incentives")})
