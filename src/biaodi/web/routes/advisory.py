"""The investor's advice page (/me/advice): the suggested mix of grades for their level and
loss budget, why each grade left out is out, and one click to make it auto-invest rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.errors import BiaodiError, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.advisory import suggest as advisory
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import Form, platform_of, redirect, render, require_role

router = APIRouter()
InvestorUser = Annotated[UserView, Depends(require_role("investor"))]

MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("智能投顾", "Smart advisory"),
    "intro": ("按您的风险等级和损失预算（95% CVaR 年损失不超过 3%）建议各信用等级与标的类型的"
              "配置，使扣除预期损失后的收益最高；单一等级不超过 40%，单一标的类型不超过 50%。"
              "违约概率来自风控模型，利率取风控规则包中该等级利率区间的中点，违约损失率按标的类型的"
              "担保方式假设。建议不是收益承诺。",
              "A mix of grades and listing types for your risk level and loss budget (95 % CVaR"
              " of annual loss at most 3 %) that earns the most after expected loss, no grade"
              " above 40 % and no listing type above 50 %. Default probabilities come from the"
              " risk model, each grade's rate is the middle of its band in the rule pack, and"
              " the loss given default is assumed per listing type from its security. Advice is"
              " not a promise of return."),
    "kind": ("标的类型", "Listing type"),
    "net": ("扣除预期损失后年收益", "Return after expected loss"),
    "risk": ("风险等级", "Risk level"),
    "cash": ("留在现金钱包（不投资）", "Kept in the cash wallet (not invested)"),
    "per_listing_rule": ("单标上限：每个标的最多投入总金额的 1/20，使组合至少分散在 20 个标的上"
                         "（模型假设持仓充分分散）。", "Per-listing cap: at most 1/20 of the"
                         " budget in any one listing, so the holding spreads over at least 20"
                         " listings (the model assumes a well-spread holding)."),
    "rules_note": ("每个配置生成一条自动投标规则（等级与标的类型）；"
                   "占比最大的配置每标投入上述金额，其余按比例；每条规则的出借上限为其占比对应的金额，"
                   "所有规则合计不超过总金额。",
                   "Each choice of the mix becomes one"
                   " auto-invest rule (its grade and listing type); the largest share invests"
                   " the amount per listing, the others in proportion; each rule keeps at most"
                   " its share of the budget invested, so all the rules together stay within"
                   " the budget."),
    "level": ("您的风险等级：{level}", "Your level: {level}"),
    "grade": ("等级", "Grade"),
    "share": ("比例", "Share"),
    "expected": ("扣除预期损失后的预期年收益", "Expected return after expected loss"),
    "el": ("预期损失", "Expected loss"),
    "cvar": ("95% CVaR 年损失", "95 % CVaR of annual loss"),
    "excluded": ("未配置的等级及原因", "Grades left out, and why"),
    "adopt": ("一键设为自动投标", "Make it my auto-invest rules"),
    "budget": ("总金额（元）", "Budget (yuan)"),
    "per_listing": ("每标最多（元）", "At most per listing (yuan)"),
    "error.money": ("请输入正数金额，最多两位小数", "Enter a positive amount with at most two"
                    " decimals"),
    "own.assessment_required": ("请先完成风险测评", "Take the risk assessment first"),
    "own.no_feasible_mix": ("暂时无法计算配置，请稍后再试",
                            "The mix could not be worked out; try again later"),
    "own.per_listing_cap": ("每标最多金额超过单标上限：不得超过总金额的 1/20",
                            "The amount per listing is above the per-listing cap: at most 1/20"
                            " of the budget"),
    "own.nothing_to_invest": ("建议全部留在现金钱包：没有可投资的配置",
                              "The advice keeps everything in the cash wallet: nothing to"
                              " invest"),
}
#: Why a choice is left out, or money kept in cash: the service's reasons by code.
REASONS: dict[str, tuple[str, str]] = {
    "cash_nothing_allowed": ("{cash} 留在现金钱包，不产生收益也没有损失：没有在售的等级或标的类型"
                             "在风险等级 {level} 可投范围内（最高 {max_risk}）",
                             "{cash} stays in the cash wallet, earning nothing and losing"
                             " nothing: no grade or listing type on offer is within what level"
                             " {level} may take ({max_risk} at most)"),
    "cash_all_lose": ("{cash} 留在现金钱包，不产生收益也没有损失：风险等级 {level} 可投的配置"
                      "平均都会亏损", "{cash} stays in the cash wallet, earning nothing and"
                      " losing nothing: every choice level {level} may take loses money on"
                      " average"),
    "cash_budget": ("{cash} 留在现金钱包，不产生收益也没有损失：再多投资会使 95% CVaR 年损失"
                    "超过 {budget} 的预算", "{cash} stays in the cash wallet, earning nothing"
                    " and losing nothing: investing more would take the 95 % CVaR of annual"
                    " loss past the {budget} budget"),
    "cash_caps": ("{cash} 留在现金钱包，不产生收益也没有损失：风险等级 {level} 可投的等级和"
                  "类型已达上限（单一等级 {grade_cap}，单一标的类型 {kind_cap}）",
                  "{cash} stays in the cash wallet, earning nothing and losing nothing: the"
                  " grades and types level {level} may take are full at {grade_cap} a grade"
                  " and {kind_cap} a listing type"),
    "above_level": ("风险等级 {risk} 高于 {level} 可投范围（最高 {max_risk}）",
                    "risk level {risk} is above what level {level} may take ({max_risk} at"
                    " most)"),
    "loses": ("预期损失 {el} 吃掉了 {rate} 的利率，只剩 {net}：平均会亏损",
              "expected loss {el} eats its {rate} coupon down to {net}: it loses money on"
              " average"),
    "better": ("预期损失 {el} 吃掉了 {rate} 的利率，只剩 {net}：{other} 收益 {other_net}，"
               "尾部损失更小", "expected loss {el} eats its {rate} coupon down to {net}:"
               " {other} earns {other_net} with a smaller tail loss"),
    "grade_full": ("预期损失 {el} 吃掉了 {rate} 的利率，只剩 {net}；{grade} 级已达单一等级上限"
                   " {cap}，这部分额度用在使整个组合收益更高的配置上", "expected loss {el}"
                   " eats its {rate} coupon down to {net}; grade {grade} already holds {cap},"
                   " the most a grade may, spent where the whole mix earns more"),
    "kind_full": ("预期损失 {el} 吃掉了 {rate} 的利率，只剩 {net}；{kind}已达单一类型上限"
                  " {cap}，这部分额度用在使整个组合收益更高的配置上", "expected loss {el} eats"
                  " its {rate} coupon down to {net}; {kind} listings already hold {cap}, the"
                  " most a type may, spent where the whole mix earns more"),
    "both_full": ("预期损失 {el} 吃掉了 {rate} 的利率，只剩 {net}；{grade} 级（最多"
                  " {grade_cap}）和{kind}（最多 {cap}）都已满额，额度用在使整个组合收益更高的"
                  "配置上", "expected loss {el} eats its {rate} coupon down to {net}; grade"
                  " {grade} ({grade_cap} at most) and {kind} listings ({cap} at most) are both"
                  " full, spent where the whole mix earns more"),
    "tail": ("预期损失 {el} 吃掉了 {rate} 的利率，只剩 {net}；在最差的 {worst} 年份里亏损"
             " {tail}，占用的 {budget} 损失预算超过其收益的价值", "expected loss {el} eats its"
             " {rate} coupon down to {net}, and in the worst {worst} of years it loses {tail}:"
             " more of the {budget} loss budget than its return is worth against the choices"
             " made"),
}
i18n.register({f"adv.{key}": text for key, text in MESSAGES.items()}
              | {f"adv.why.{code}": text for code, text in REASONS.items()})


def _say(lang: str, reason: dict[str, str]) -> str:
    """A reason in the page's language, listing types by their names."""
    values = dict(reason)
    code = values.pop("code")
    if values.get("kind"):
        values["kind"] = i18n.translate(lang, f"kind.{values['kind']}")
    if "other_grade" in values:
        kind = values["other_kind"]
        label = i18n.translate(lang, f"kind.{kind}") if kind else ""
        values["other"] = (f"{values['other_grade']} 级{label}" if lang == "zh-CN"
                           else f"grade {values['other_grade']} {label}".strip())
    return i18n.translate(lang, f"adv.why.{code}", **values)


def _page(request: Request, user: UserView, error: str | None = None, status: int = 200
          ) -> Response:
    advice, level, refusal = None, None, None
    try:
        with platform_of(request).reader() as uow:
            level, suggestion = advisory.advise(uow, user.id,
                                                settings=platform_of(request).settings)
        advice = suggestion.as_dict()
        lang = i18n.language_of(request)
        advice["said"] = {key: _say(lang, why) for key, why in advice["reasons"].items()}
        advice["cash_said"] = _say(lang, advice["cash_why"]) if advice["cash_why"] else ""
    except BiaodiError as found:
        refusal = refusals.say(request, found, own="adv.own")
    return render(request, "advisory/advice.html", {
        "advice": advice, "level": level, "refusal": refusal, "error": error}, status)


@router.get("/me/advice")
def advice_page(request: Request, user: InvestorUser) -> Response:
    return _page(request, user)


@router.post("/me/advice/adopt")
def adopt(request: Request, user: InvestorUser, form: Form) -> Response:
    lang = i18n.language_of(request)
    try:
        budget = Money.parse(str(form.get("budget", "")).strip()[:20], field="budget")
        per_listing = Money.parse(str(form.get("per_listing", "")).strip()[:20],
                                  field="per_listing")
    except InvalidInput:
        return _page(request, user, i18n.translate(lang, "adv.error.money"), 422)

    def act(uow):  # type: ignore[no-untyped-def]
        _level, suggestion = advisory.advise(uow, user.id,
                                             settings=platform_of(request).settings)
        return advisory.adopt(uow, user.id, suggestion, budget, per_listing)

    try:
        in_transaction(platform_of(request).uow, act)
    except BiaodiError as refusal:
        return _page(request, user, refusals.say(request, refusal, own="adv.own"),
                     refusal.status)
    return redirect("/me/auto-invest")
