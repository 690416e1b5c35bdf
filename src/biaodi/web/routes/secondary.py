"""The secondary market (债权转让) pages: the public board of holdings on offer (/market), one
sale with its loan and a buy form with a confirmation, offering a holding from /me with its
fair value and the guardrails, and the investor's own sales (with cancel) and purchases."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.bounds import PageNo, RowId
from biaodi.domain.shared.errors import (
    BiaodiError,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
)
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.secondary import preview, purchases, queries, sales
from biaodi.services.shared.idempotency import Answer, run_idempotent
from biaodi.services.shared.rates import parse_signed_percent
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import (
    Form,
    PageError,
    current_user,
    platform_of,
    redirect,
    render,
    require_role,
)

router = APIRouter()
InvestorUser = Annotated[UserView, Depends(require_role("investor"))]
KINDS = ("credit", "collateral", "guarantee", "transfer")
PAGE_SIZE = 12

#: This page module's messages, registered under "market.".
MESSAGES: dict[str, tuple[str, str]] = {
    "nav": ("债权转让", "Secondary market"),
    "title": ("债权转让", "Secondary market"),
    "intro": ("出借人可将持有的债权转让给其他出借人。价格以公允价值（剩余本金 + 当期已产生利息）"
              "为基准，可溢价或折价，承接人按购买当日价格支付。",
              "Investors sell holdings to other investors. Prices start from fair value "
              "(principal outstanding + interest accrued in the current period), at a premium "
              "or a discount; a buyer pays the price of the day of purchase."),
    "total": ("共 {total} 笔转让中的债权", "{total} sales open"),
    "empty": ("暂无转让中的债权。", "No holding is on offer."),
    "kind": ("标的类型", "Listing type"),
    "remaining_principal": ("转让本金", "Principal on offer"),
    "price": ("转让价格", "Asking price"),
    "fair_value": ("公允价值", "Fair value"),
    "premium": ("溢价/折价", "Premium / discount"),
    "yield": ("承接人预期年化收益", "Buyer's yield"),
    "yield_note": ("按购买价格与剩余各期回款计算，已扣除预期损失（按风控评级的违约率）。",
                   "From the price and the remaining instalments, after the expected loss "
                   "(the default rate of the borrower's grade)."),
    "expected_loss": ("预期年损失率", "Expected loss a year"),
    "term_left": ("剩余期限", "Remaining term"),
    "term_left.value": ("{n} 期，至 {day}", "{n} instalments, to {day}"),
    "accrued": ("当期已产生利息", "Interest accrued"),
    "view": ("查看并承接", "View and buy"),
    "not_tradable": ("今日暂停交易", "Not tradable today"),
    "back": ("返回债权转让列表", "Back to the secondary market"),
    "sale.title": ("债权转让 #{id}", "Sale #{id}"),
    "sale.listing": ("原标的", "Listing"),
    "sale.status": ("转让状态", "Sale status"),
    "sale.status.open": ("转让中", "On offer"),
    "sale.status.sold": ("已售罄", "Sold out"),
    "sale.status.cancelled": ("已撤销", "Cancelled"),
    "sale.listed_on": ("挂牌日", "Listed on"),
    "sale.offered": ("挂牌本金", "Principal offered"),
    "sale.left": ("剩余可承接", "Left to buy"),
    "sale.loan": ("借款状态", "The loan"),
    "sale.loan_status": ("还款状态", "Servicing state"),
    "sale.loan.performing": ("正常还款", "Performing"),
    "sale.loan.closed": ("已结清", "Closed"),
    "sale.loan.delinquent": ("逾期", "Overdue"),
    "sale.loan.defaulted": ("已违约", "Defaulted"),
    "sale.loan.written_off": ("已核销", "Written off"),
    "sale.next_due": ("下一还款日", "Next instalment"),
    "sale.dpd": ("逾期天数", "Days past due"),
    "sale.loan_outstanding": ("借款剩余本金", "Loan principal outstanding"),
    "sale.instalments": ("借款剩余还款计划", "The loan's remaining instalments"),
    "sale.shares": ("承接后每期可收回款（全部剩余本金）", "What the buyer receives per instalment "
                    "(all that remains)"),
    "sale.why": ("公允价值如何计算", "How the fair value is reached"),
    "sale.why.text": (
        "公允价值 = 剩余本金 ¥{principal} + 当期已产生利息 ¥{accrued}。当期利息 ¥{interest}"
        "（{start} 至 {due}，共 {days} 天）按已过 {elapsed} 天折算，归卖方所有，已含在价格中；"
        "承接人收取下一期的全部利息。",
        "Fair value = principal outstanding ¥{principal} + interest accrued ¥{accrued}. This "
        "period's interest of ¥{interest} ({start} to {due}, {days} days) is counted for the "
        "{elapsed} days gone: it is the seller's, paid inside the price; the buyer receives the "
        "whole next instalment."),
    "sale.price_text": ("按卖方设定的 {premium}% 溢价（负数为折价）计算今日价格 ¥{price}。",
                        "At the seller's premium of {premium}% (negative: a discount), today's "
                        "price is ¥{price}."),
    "sale.own": ("这是您自己的转让，可在“我的债权转让”中撤销。",
                 "This is your own sale: you can cancel it under My secondary market."),
    "sale.login": ("登录后承接", "Sign in to buy"),
    "sale.closed": ("该转让已结束。", "This sale has ended."),
    "buy.title": ("确认承接", "Confirm your purchase"),
    "buy.principal": ("承接本金（元）", "Principal to buy (yuan)"),
    "buy.hint": ("最低 ¥{min}；剩余部分须为 0 或不少于 ¥{min}；剩余可承接 ¥{left}。",
                 "At least ¥{min}, leaving nothing or at least ¥{min}; ¥{left} left."),
    "buy.quote": ("计算", "Show the figures"),
    "buy.all": ("全部承接", "Buy all that is left"),
    "buy.yours": ("本次承接", "This purchase"),
    "buy.pay": ("您支付", "You pay"),
    "buy.receive": ("您将收到的本金债权", "You receive principal of"),
    "buy.cash_flows": ("预期回款合计（本金 + 利息）", "Expected cash flows (principal + interest)"),
    "buy.available": ("可用余额", "Available in your wallet"),
    "buy.confirm": ("确认承接，支付", "Confirm and pay"),
    "buy.price_note": ("价格按今日计算；若确认时价格高于此价格，交易将被拒绝。",
                       "The price is today's; if it is higher when you confirm, the purchase is "
                       "refused."),
    "buy.done": ("承接成功：本金 ¥{principal}，支付 ¥{price}。",
                 "Bought principal of ¥{principal} for ¥{price}."),
    "sell.title": ("转让债权", "Sell a holding"),
    "sell.link": ("转让", "Sell"),
    "sell.holding": ("持有债权 #{id}", "Holding #{id}"),
    "sell.outstanding": ("持有剩余本金", "Principal outstanding"),
    "sell.guardrails": ("转让规则", "The rules of a sale"),
    "sell.range": ("允许价格区间（全部剩余本金）", "Allowed price range (all of it)"),
    "sell.range.value": ("¥{low} – ¥{high}", "¥{low} – ¥{high}"),
    "sell.rule.premium": ("溢价不超过公允价值的 {max_premium}%，折价不超过 {max_discount}%。",
                          "At most {max_premium}% above fair value, at most {max_discount}% "
                          "below it."),
    "sell.rule.fee": ("转让手续费：成交价格的 {fee}%，由卖方承担。",
                      "Transfer fee: {fee}% of the price, paid by the seller."),
    "sell.rule.holding": ("持有满 {days} 天后方可转让（本笔自 {free_on} 起）。",
                          "A holding may be sold {days} days after it was acquired (this one "
                          "from {free_on})."),
    "sell.rule.part": ("可部分转让：至少 ¥{min}，剩余部分须为 0 或不少于 ¥{min}。",
                       "Part of it may be sold: at least ¥{min}, keeping nothing or at least "
                       "¥{min}."),
    "sell.rule.state": ("借款逾期或还款日当天暂停转让；按售价计算的承接人收益不得为负。",
                        "No sale while the loan is overdue or on a repayment day; the buyer's "
                        "yield at the price may not be negative."),
    "sell.premium": ("溢价率 %（负数为折价）", "Premium % (negative: a discount)"),
    "sell.principal": ("转让本金（元，留空为全部）", "Principal to sell (yuan; empty: all)"),
    "sell.quote": ("计算", "Show the figures"),
    "sell.you_get": ("您实收（扣除手续费）", "You receive (after the fee)"),
    "sell.fee": ("转让手续费", "Transfer fee"),
    "sell.confirm": ("确认挂牌转让", "Confirm and offer"),
    "sell.blocked": ("暂不能转让：", "Cannot be sold now: "),
    "sell.done": ("已挂牌：转让 #{id}。", "On offer: sale #{id}."),
    "mine.title": ("我的债权转让", "My secondary market"),
    "mine.sales": ("我挂牌的转让", "My sales"),
    "mine.purchases": ("我承接的债权", "My purchases"),
    "mine.sales.empty": ("还没有挂牌转让。可在“我的出借”的持有债权中点击“转让”。",
                         "No sales yet. Use Sell next to a holding under My investments."),
    "mine.purchases.empty": ("还没有承接的债权。", "No purchases yet."),
    "mine.sold": ("已成交本金", "Sold"),
    "mine.proceeds": ("实收合计", "Proceeds"),
    "mine.gain": ("已实现损益", "Realised gain or loss"),
    "mine.cancel": ("撤销转让", "Cancel the sale"),
    "mine.cancelled": ("已撤销转让 #{id}。", "Sale #{id} cancelled."),
    "mine.date": ("日期", "Date"),
    "mine.paid": ("支付价格", "Price paid"),
    "mine.holding": ("债权状态", "Holding"),
    "mine.received": ("已收回款", "Cash received"),
    "mine.reason.seller": ("卖方撤销", "cancelled by the seller"),
    "mine.reason.loan_overdue": ("借款逾期，自动撤销", "the loan fell overdue"),
    "mine.reason.repayment_day": ("还款日，自动撤销", "a repayment day"),
    "mine.reason.repaid_early": ("借款提前还清，自动撤销", "the loan was repaid early"),
    "mine.reason.loan_closed": ("借款已结清，自动撤销", "the loan closed"),
    "refusal.holding_period": ("持有满 {days} 天后才能转让：本笔债权自 {free_on} 起可转让。",
                               "A holding may be sold {days} days after it was acquired: this "
                               "one from {free_on}."),
    "refusal.not_transferable": ("秒标的债权不能转让。", "Instant-listing holdings cannot be "
                                 "sold."),
    "refusal.holding_not_active": ("该债权已结清、已转让或已核销，不能转让。",
                                   "This holding is settled, sold or written off."),
    "refusal.loan_overdue": ("借款当前有逾期，逾期期间债权不能转让或承接。",
                             "The loan is overdue: its holdings cannot change hands until it "
                             "is current."),
    "refusal.repayment_day": ("今天是还款日，暂停交易，日终结算后恢复。",
                              "Today is a repayment day: trading resumes after close of "
                              "business."),
    "refusal.loan_maturing": ("借款已无待还期数，不能转让。", "The loan has no instalment left."),
    "refusal.already_offered": ("该债权已在转让中：请先在“我的债权转让”撤销原挂牌。",
                                "This holding is already on offer: cancel that sale first."),
    "refusal.premium_above_max": (
        "溢价不得超过公允价值的 {max_premium}%：全部转让的价格须在 ¥{low} – ¥{high} 之间。",
        "The premium may be at most {max_premium}% above fair value: the price of all of it "
        "must be from ¥{low} to ¥{high}."),
    "refusal.discount_beyond_max": (
        "折价不得超过公允价值的 {max_discount}%：全部转让的价格须在 ¥{low} – ¥{high} 之间。",
        "The discount may be at most {max_discount}% below fair value: the price of all of it "
        "must be from ¥{low} to ¥{high}."),
    "refusal.principal_rules": (
        "转让本金须至少 ¥{min}、不超过持有的 ¥{outstanding}，且剩余部分为 0 或不少于 ¥{min}。",
        "Sell at least ¥{min} and at most the ¥{outstanding} you hold, keeping nothing or at "
        "least ¥{min}."),
    "refusal.negative_yield": ("按此价格，承接人扣除预期损失后的收益为负，请降低价格。",
                               "At this price the buyer's yield after expected losses would be "
                               "negative: lower the price."),
    "refusal.buy_principal": (
        "承接本金须至少 ¥{min}、不超过剩余的 ¥{remaining}，且剩余部分为 0 或不少于 ¥{min}。",
        "Buy at least ¥{min} and at most the ¥{remaining} left, leaving nothing or at least "
        "¥{min}."),
    "refusal.insufficient_balance": ("可用余额不足（可用 ¥{available}），请先充值。",
                                     "Not enough in your wallet (¥{available} available): "
                                     "deposit first."),
    "refusal.own_sale": ("不能承接自己挂牌的转让。", "You cannot buy your own sale."),
    "refusal.self_investment": ("不能承接自己借款的债权。", "You cannot buy claims on your own "
                                "loan."),
    "refusal.sale_sold_out": ("该转让已售罄或剩余不足。",
                              "This sale is sold out or has less left."),
    "refusal.sale_closed": ("该转让已撤销或已结束。", "This sale was cancelled or has ended."),
    "refusal.price_above_limit": ("价格已变化，高于您确认的价格：请重新确认。",
                                  "The price changed above the one you confirmed: check it "
                                  "again."),
    "refusal.not_seller": ("只有卖方可以撤销该转让。", "Only the seller may cancel this sale."),
    "refusal.premium": ("溢价率格式有误：填写数字，最多四位小数，例如 -1.5。",
                        "Write the premium as a number with at most four decimals, e.g. -1.5."),
}
i18n.register({f"market.{key}": text for key, text in MESSAGES.items()})


def _t(request: Request, key: str, **values: Any) -> str:
    return i18n.translate(i18n.language_of(request), key, **values)


def say(request: Request, found: dict[str, Any]) -> str:
    """A refusal (from `services/secondary/preview.refusal`) in the page's language: our own
    sentence for the codes we know, the investor pages' for suitability, else the shared
    refusals' (web/refusals)."""
    lang = i18n.language_of(request)
    if found.get("suitability"):
        view = found["suitability"]
        values = dict(view["values"])
        values["level_name"] = (i18n.translate(lang, f"investor.level.{values['level']}")
                                if values.get("level") else "")
        for key in ("limit", "outstanding"):
            if key in values:
                values[key] = i18n.money(values[key])
        key = f"investor.invest.refusal.{view['code']}"
        if key in i18n.MESSAGES:
            return i18n.translate(lang, key, rule=view["rule"], **values)
    values = {k: (i18n.money(v) if isinstance(v, Money) else i18n.day(v) if k == "free_on"
                  else v) for k, v in found.get("values", {}).items()}
    code = found.get("code")
    key = f"market.refusal.{code}"
    if key in i18n.MESSAGES:
        try:
            return i18n.translate(lang, key, **values)
        except (KeyError, IndexError):
            pass
    return refusals.say(request, found)


def _money(text: str, field: str, request: Request) -> Money:
    ceiling = platform_of(request).settings.money_ceiling_fen
    return Money.parse(text.strip(), field=field, ceiling_fen=ceiling)


def _not_found() -> PageError:
    return PageError(404, "error.not_found.title", "error.not_found.text")


# --- the board ------------------------------------------------------------------------------
@router.get("/market")
def board(request: Request, kind: str = "", page: PageNo = 1) -> Response:
    platform = platform_of(request)
    chosen = kind if kind in KINDS else None
    page = max(page, 1)
    with platform.reader() as uow:
        found = queries.board(uow, uow.clock.today(), platform.secondary_rules, kind=chosen,
                              page=page, page_size=PAGE_SIZE)
    pages = max((found["total"] + PAGE_SIZE - 1) // PAGE_SIZE, 1)

    def page_link(number: int) -> str:
        return "/market?" + urlencode(({"kind": chosen} if chosen else {}) | {"page": number})

    return render(request, "secondary/board.html", {
        "items": found["items"], "total": found["total"], "page": page, "pages": pages,
        "page_link": page_link, "kind": chosen or "", "kinds": KINDS})


# --- one sale, and buying it ----------------------------------------------------------------
def _sale(request: Request, sale_id: RowId) -> dict[str, Any]:
    platform = platform_of(request)
    try:
        with platform.reader() as uow:
            return queries.sale_page(uow, sale_id, uow.clock.today(), platform.secondary_rules)
    except NotFound:
        raise _not_found() from None


@router.get("/market/sales/{sale_id}")
def sale_page(request: Request, sale_id: RowId) -> Response:
    item = _sale(request, sale_id)
    why = item["not_tradable"]
    return render(request, "secondary/sale.html", {
        "item": item, "viewer": current_user(request),
        "not_tradable": say(request, {"code": why, "values": {}}) if why else None})


def _buy_refusal(found: dict[str, Any]) -> dict[str, Any]:
    if found.get("code") == "invalid_input" and found.get("field") == "principal":
        return found | {"code": "buy_principal"}
    return found


def _buy_page(request: Request, user: UserView, sale_id: RowId, principal_text: str,
              error: str | None = None, status: int = 200,
              failed: dict[str, Any] | None = None) -> Response:
    """The confirmation: what buying `principal_text` (empty: all) pays and receives today, or
    the refusal in words. `failed`: the refusal a confirmed purchase met (said with the
    preview's figures when the preview meets it too)."""
    item = _sale(request, sale_id)
    platform = platform_of(request)
    confirm = None
    if error is None and item["status"] == "open":
        try:
            part = _money(principal_text, "principal", request) if principal_text else None
        except InvalidInput as exc:
            error, status = refusals.say(request, exc), 422
        else:
            with platform.uow() as uow:  # never committed: the preview keeps nothing
                confirm = preview.buy_preview(uow, sale_id, user.id, platform.secondary_rules,
                                              principal=part)
            if confirm["refusal"]:
                error = say(request, _buy_refusal(confirm["refusal"]))
                status = max(status, 409)
    if error is None and failed is not None:
        error = say(request, _buy_refusal(failed))
    if error is None and item["status"] != "open":
        error = _t(request, "market.refusal.sale_sold_out" if item["status"] == "sold"
                   else "market.refusal.sale_closed")
    return render(request, "secondary/buy.html", {
        "item": item, "confirm": confirm, "principal_text": principal_text, "error": error,
        "key": uuid.uuid4().hex}, status)


@router.get("/market/sales/{sale_id}/buy")
def buy_page(request: Request, sale_id: RowId, user: InvestorUser, principal: str = "") -> Response:
    return _buy_page(request, user, sale_id, principal[:40])


@router.post("/market/sales/{sale_id}/buy")
def buy(request: Request, sale_id: RowId, user: InvestorUser, form: Form) -> Response:
    platform = platform_of(request)
    principal_text = str(form.get("principal", "")).strip()[:40]
    key = str(form.get("idempotency_key", "")).strip()[:128] or uuid.uuid4().hex
    try:
        part = _money(principal_text, "principal", request) if principal_text else None
        limit = _money(str(form.get("max_price", "")), "max_price", request) \
            if form.get("max_price") else None
    except InvalidInput as exc:
        return _buy_page(request, user, sale_id, principal_text, refusals.say(request, exc),
                         422)

    def act(uow):  # type: ignore[no-untyped-def]
        made = purchases.buy(uow, purchases.Buy(sale_id, user.id, part, limit),
                             platform.secondary_rules)
        return Answer(201, {"id": made.purchase_id, "principal": str(Money(
            made.quote.principal)), "price": str(Money(made.quote.price))})

    try:
        answer = run_idempotent(platform.uow, scope=f"web:user:{user.id}:market-buy:{sale_id}",
                                key=key, payload={"principal": principal_text,
                                                  "max_price": str(limit)}, fn=act)
    except IdempotencyConflict:
        return _buy_page(request, user, sale_id, principal_text)
    if answer.status_code >= 300:
        error = answer.body.get("error", {})
        failed = {"code": error.get("code"), "message": error.get("message", ""),
                  "field": error.get("field"), "values": {}}
        return _buy_page(request, user, sale_id, principal_text, status=409, failed=failed)
    body = answer.body
    return redirect(f"/me/market?bought={body['id']}:{body['principal']}:{body['price']}")


# --- selling a holding ----------------------------------------------------------------------
def _sell_page(request: Request, user: UserView, holding_id: RowId, values: dict[str, str],
               error: dict[str, str] | None = None, status: int = 200) -> Response:
    platform = platform_of(request)
    errors = dict(error or {})
    premium = principal = None
    asked = bool(values.get("premium")) and not errors
    if asked:
        try:
            premium = parse_signed_percent(values["premium"], field="premium")
        except InvalidInput:
            errors["premium"], status = _t(request, "market.refusal.premium"), 422
        try:
            principal = _money(values["principal"], "principal", request) \
                if values.get("principal") else None
        except InvalidInput as exc:
            errors["principal"] = refusals.say(request, exc)
            status = 422
    try:
        with platform.uow() as uow:  # never committed: the preview keeps nothing
            found = preview.sell_preview(uow, holding_id, user.id, platform.secondary_rules,
                                         premium=None if errors else premium,
                                         principal=principal)
    except NotFound:
        raise _not_found() from None
    except Forbidden:
        raise PageError(403, "error.forbidden.title", "error.forbidden.text",
                        roles=_t(request, "role.investor")) from None
    blocked = say(request, found["blocked"]) if found["blocked"] else None
    if found["refusal"]:
        field = "principal" if found["refusal"]["field"] == "principal" else "premium"
        errors[field] = say(request, found["refusal"])
        status = max(status, 409 if found["refusal"]["code"] in (
            "negative_yield",) else 422)
    return render(request, "secondary/sell.html", {
        "h": found, "values": values, "errors": errors, "blocked": blocked,
        "key": uuid.uuid4().hex}, status)


def _sell_values(source: Any) -> dict[str, str]:
    return {"premium": str(source.get("premium", "")).strip()[:20],
            "principal": str(source.get("principal", "")).strip()[:40]}


@router.get("/me/holdings/{holding_id}/sell")
def sell_page(request: Request, holding_id: RowId, user: InvestorUser) -> Response:
    return _sell_page(request, user, holding_id, _sell_values(request.query_params))


@router.post("/me/holdings/{holding_id}/sell")
def sell(request: Request, holding_id: RowId, user: InvestorUser, form: Form) -> Response:
    platform = platform_of(request)
    values = _sell_values(form)
    key = str(form.get("idempotency_key", "")).strip()[:128] or uuid.uuid4().hex
    try:
        premium = parse_signed_percent(values["premium"], field="premium")
        principal = _money(values["principal"], "principal", request) \
            if values["principal"] else None
    except InvalidInput:
        return _sell_page(request, user, holding_id, values)  # says which field, in words

    def act(uow):  # type: ignore[no-untyped-def]
        made = sales.offer(uow, sales.Offer(holding_id, user.id, premium, principal),
                           platform.secondary_rules)
        return Answer(201, {"id": made.id})

    try:
        answer = run_idempotent(platform.uow, scope=f"web:user:{user.id}:market-sell:"
                                f"{holding_id}", key=key, payload=values, fn=act)
    except IdempotencyConflict:
        return _sell_page(request, user, holding_id, values)
    if answer.status_code >= 300:  # the preview says why, with the figures of the rule
        return _sell_page(request, user, holding_id, values, status=409)
    return redirect(f"/me/market?offered={answer.body['id']}")


# --- my sales and purchases -----------------------------------------------------------------
@router.get("/me/market")
def my_market(request: Request, user: InvestorUser, offered: int | None = None,
              bought: str | None = None, cancelled: int | None = None,
              error: str | None = None) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        mine = queries.my_sales(uow, user.id)
        purchased = queries.my_purchases(uow, user.id)
    done = None
    if offered:
        done = _t(request, "market.sell.done", id=offered)
    elif cancelled:
        done = _t(request, "market.mine.cancelled", id=cancelled)
    elif bought:
        parts = bought.split(":")
        if len(parts) == 3:
            done = _t(request, "market.buy.done", principal=i18n.money(parts[1]),
                      price=i18n.money(parts[2]))
    refusal = _t(request, f"market.refusal.{error}") \
        if error and f"market.refusal.{error}" in i18n.MESSAGES else None
    return render(request, "secondary/mine.html", {
        "sales": mine, "purchases": purchased, "done": done, "refusal": refusal})


@router.post("/me/market/sales/{sale_id}/cancel")
def cancel(request: Request, sale_id: RowId, user: InvestorUser, form: Form) -> Response:
    platform = platform_of(request)
    try:
        in_transaction(platform.uow, lambda uow: sales.cancel(uow, sale_id, user.id))
    except NotFound:
        raise _not_found() from None
    except BiaodiError as exc:
        return redirect(f"/me/market?error={exc.code}")
    return redirect(f"/me/market?cancelled={sale_id}")
