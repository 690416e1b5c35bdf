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
    "intro": ("按您的风险等级和损失预算（95% CVaR 年损失不超过 3%）建议各信用等级的配置，"
              "使扣除预期损失后的收益最高；单一等级不超过 40%。建议不是收益承诺。",
              "A mix of grades for your risk level and loss budget (95 % CVaR of annual loss at"
              " most 3 %) that earns the most after expected loss, no grade above 40 %. Advice"
              " is not a promise of return."),
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
    "own.no_feasible_mix": ("在您的风险等级内，没有满足损失预算且单一等级不超过 40% 的配置",
                            "No mix within your level keeps to the loss budget with no grade"
                            " above 40 %"),
}
i18n.register({f"adv.{key}": text for key, text in MESSAGES.items()})


def _page(request: Request, user: UserView, error: str | None = None, status: int = 200
          ) -> Response:
    advice, level, refusal = None, None, None
    try:
        with platform_of(request).reader() as uow:
            level, suggestion = advisory.advise(uow, user.id)
        advice = suggestion.as_dict()
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
        _level, suggestion = advisory.advise(uow, user.id)
        return advisory.adopt(uow, user.id, suggestion, budget, per_listing)

    try:
        in_transaction(platform_of(request).uow, act)
    except BiaodiError as refusal:
        return _page(request, user, refusals.say(request, refusal, own="adv.own"), 409)
    return redirect("/me/auto-invest")
