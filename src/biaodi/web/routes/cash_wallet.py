"""The investor's cash-wallet page (/me/cash-wallet): fund units, income, the 7-day yield,
subscribe and redeem (ordinary T+1 or instant within the daily cap), recent orders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.errors import BiaodiError, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.funds import wallet
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import Form, platform_of, redirect, render, require_role

router = APIRouter()
InvestorUser = Annotated[UserView, Depends(require_role("investor"))]

MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("零钱理财", "Cash wallet"),
    "intro": ("闲置余额可申购第三方货币市场基金：资金由基金公司保管，不由平台保管；"
              "平台不承诺本金和收益。15:00 前的申购按当日计，T+1 个工作日确认份额并开始计算收益。",
              "Idle wallet money can buy a third-party money-market fund: the fund company holds"
              " the money, not the platform, and neither principal nor return is promised."
              " Orders before 15:00 trade that working day; units are confirmed and start"
              " earning on the next working day (T+1)."),
    "fund": ("基金", "Fund"),
    "units": ("持有份额（元）", "Units held (yuan)"),
    "redeeming": ("赎回中", "Being redeemed"),
    "income": ("累计收益", "Income so far"),
    "per10k": ("最新万份收益", "Latest income per 10,000 units"),
    "yield7": ("七日年化收益率", "7-day annualised yield"),
    "none": ("暂无", "not yet"),
    "instant_left": ("今日快速赎回剩余额度", "Instant redemption left today"),
    "subscribe": ("申购", "Subscribe"),
    "redeem": ("赎回", "Redeem"),
    "amount": ("金额（元）", "Amount (yuan)"),
    "instant": ("快速赎回（实时到账，每日上限 1 万元）",
                "Instant (paid now, at most ¥10,000 a day)"),
    "orders": ("最近的交易", "Recent orders"),
    "orders.empty": ("还没有交易。", "No orders yet."),
    "kind.subscribe": ("申购", "subscription"),
    "kind.redeem": ("普通赎回", "redemption"),
    "kind.instant_redeem": ("快速赎回", "instant redemption"),
    "status.pending": ("待确认", "pending"),
    "status.confirmed": ("已确认", "confirmed"),
    "trade_date": ("交易日", "Trade date"),
    "confirm_date": ("确认日", "Confirmed on"),
    "done": ("已提交：{kind} ¥{amount}，确认日 {day}。",
             "Placed: {kind} of ¥{amount}, confirmed on {day}."),
    "error.amount": ("请输入正数金额，最多两位小数", "Enter a positive amount with at most two"
                     " decimals"),
    "own.compliance_violation": ("超过快速赎回每日 1 万元上限（证监会、人民银行 2018 年货币基金"
                                 "互联网销售指导意见）；普通赎回不受此限。",
                                 "Over the ¥10,000 daily cap on instant redemption (CSRC and"
                                 " PBoC guidance of 2018 on money-market funds sold online); an"
                                 " ordinary redemption has no cap."),
    "own.insufficient_units": ("持有份额不足", "You hold fewer units than that"),
    "own.insufficient_balance": ("可用余额不足", "Not enough available money in your wallet"),
    "link": ("零钱理财", "Cash wallet"),
}
i18n.register({f"cw.{key}": text for key, text in MESSAGES.items()})


def _page(request: Request, user: UserView, *, notice: str | None = None,
          errors: dict[str, str] | None = None, status: int = 200) -> Response:
    with platform_of(request).reader() as uow:
        view = wallet.overview(uow, user.id)
    return render(request, "wallet/cash_wallet.html", {
        "w": view, "fund_name": platform_of(request).fund_company.fund_name,
        "notice": notice, "errors": errors or {}}, status)


@router.get("/me/cash-wallet")
def cash_wallet_page(request: Request, user: InvestorUser) -> Response:
    return _page(request, user)


def _act(request: Request, user: UserView, form: Any, form_name: str) -> Response:
    lang = i18n.language_of(request)
    platform = platform_of(request)
    try:
        amount = Money.parse(str(form.get("amount", "")).strip()[:20], field="amount",
                             ceiling_fen=platform.settings.money_ceiling_fen)
    except InvalidInput:
        return _page(request, user, errors={form_name: i18n.translate(lang, "cw.error.amount")},
                     status=422)
    fund = platform.fund_company
    if form_name == "subscribe":
        def act(uow):  # type: ignore[no-untyped-def]
            return wallet.subscribe(uow, fund, user.id, amount)
    else:
        chosen = wallet.instant_redeem if form.get("instant") == "on" else wallet.redeem

        def act(uow):  # type: ignore[no-untyped-def]
            return chosen(uow, fund, user.id, amount)
    try:
        row = in_transaction(platform.uow, act)
    except BiaodiError as refusal:
        said = refusals.say(request, refusal, own="cw.own")
        return _page(request, user, errors={form_name: said}, status=409)
    return redirect(f"/me/cash-wallet?kind={row.kind}&amount={Money(row.amount_fen)}"
                    f"&day={row.confirm_date.isoformat()}")


@router.post("/me/cash-wallet/subscribe")
def subscribe(request: Request, user: InvestorUser, form: Form) -> Response:
    return _act(request, user, form, "subscribe")


@router.post("/me/cash-wallet/redeem")
def redeem(request: Request, user: InvestorUser, form: Form) -> Response:
    return _act(request, user, form, "redeem")
