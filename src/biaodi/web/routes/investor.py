"""The investor's pages: the dashboard (/me: wallet, holdings with their servicing state,
upcoming cash flows), the risk questionnaire, investing with a confirmation, deposits and
withdrawals through the gateway's pages, and statements as CSV and Excel."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from biaodi.adapters.gateway.client import Gateway, GatewayUnavailable, gateway_from_settings
from biaodi.domain.investing.suitability import QUESTIONS
from biaodi.domain.payments.orders import WithdrawalLimits
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import BiaodiError, IdempotencyConflict, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.accounts.users import UserView
from biaodi.services.incentives import coupons
from biaodi.services.investing import invest as investing
from biaodi.services.investing import quote as quotes
from biaodi.services.investing import suitability
from biaodi.services.ledger import queries as ledger_queries
from biaodi.services.payments import orders as payments
from biaodi.services.servicing import portfolio
from biaodi.services.shared.idempotency import Answer, run_idempotent
from biaodi.services.shared.tx import in_transaction
from biaodi.web import charts, i18n, refusals
from biaodi.web.pages import Form, PageError, platform_of, redirect, render, require_role

router = APIRouter()
InvestorUser = Annotated[UserView, Depends(require_role("investor"))]
DEPOSIT_CHANNELS = ("third_party", "online_banking", "mobile")
WITHDRAWAL_CHANNELS = ("bank_transfer", "third_party")

#: This page module's messages, registered under "investor.".
MESSAGES: dict[str, tuple[str, str]] = {
    "nav": ("我的出借", "My investments"),
    "me.title": ("我的出借", "My investments"),
    "me.wallet": ("账户余额", "Wallet"),
    "me.available": ("可用余额", "Available"),
    "me.frozen": ("冻结金额", "Frozen"),
    "me.deposit": ("充值", "Deposit"),
    "me.withdraw": ("提现", "Withdraw"),
    "me.statement": ("对账单", "Statement"),
    "me.statement.csv": ("下载 CSV", "Download CSV"),
    "me.statement.xlsx": ("下载 Excel", "Download Excel"),
    "me.level": ("风险承受能力", "Risk tolerance"),
    "me.level.none": ("尚未测评：出借前须完成风险测评。", "Not assessed: take the risk "
                      "questionnaire before investing."),
    "me.level.text": ("{name}（可投 R{max} 及以下），有效期至 {until}",
                      "{name} (listings up to R{max}), valid until {until}"),
    "me.level.expired": ("已过期，请重新测评", "expired: take it again"),
    "me.assess": ("风险测评", "Risk questionnaire"),
    "me.totals": ("出借概况", "Overview"),
    "me.outstanding": ("待收本金", "Principal outstanding"),
    "me.overdue": ("逾期金额", "Overdue"),
    "me.received": ("已收回款", "Received"),
    "me.recovered": ("追偿回收", "Recovered"),
    "me.holdings": ("持有的债权", "Holdings"),
    "me.holdings.empty": ("还没有持有的债权。去散标市场看看。",
                          "No holdings yet. Browse the marketplace."),
    "me.listing": ("标的", "Listing"),
    "me.principal": ("出借本金", "Principal"),
    "me.state": ("状态", "State"),
    "me.dpd": ("逾期 {days} 天", "{days} days overdue"),
    "me.current": ("正常", "Current"),
    "me.pending": ("募集中的投标（资金已冻结）", "Subscriptions while listings raise money "
                   "(frozen)"),
    "me.upcoming": ("未来 12 个月预期回款", "Expected cash flows, next 12 months"),
    "me.upcoming.empty": ("未来 12 个月没有待收回款。", "Nothing due in the next 12 months."),
    "me.month": ("月份", "Month"),
    "me.total": ("合计", "Total"),
    "me.order": ("支付订单 {no}：{status}", "Payment order {no}: {status}"),
    "me.invested": ("出借成功：¥{amount}，标的 #{listing}（{status}）。",
                    "Invested ¥{amount} in listing #{listing} ({status})."),
    "holding.active": ("持有中", "Active"),
    "holding.settled": ("已结清", "Settled"),
    "holding.written_off": ("已核销", "Written off"),
    "holding.sold": ("已转让", "Sold"),
    "investment.frozen": ("已冻结，待满标", "frozen until funded"),
    "investment.settled": ("已生效", "in force"),
    "order.created": ("已创建，等待支付网关", "created, waiting for the gateway"),
    "order.pending": ("处理中，等待支付结果", "pending: waiting for the gateway's result"),
    "order.succeeded": ("成功", "succeeded"),
    "order.failed": ("失败", "failed"),
    "order.suspended": ("金额不符，已挂起待人工处理", "amount differs: held for an operator"),
    "level.1": ("保守型", "Conservative"),
    "level.2": ("稳健型", "Steady"),
    "level.3": ("成长型", "Growth"),
    "level.4": ("进取型", "Aggressive"),
    "assess.title": ("风险测评", "Risk questionnaire"),
    "assess.intro": ("依规定，出借前须评估您的风险承受能力；结果决定您可出借的标的风险等级与限额，"
                     "有效期 360 天。", "By law your risk tolerance is assessed before you lend; "
                     "it decides which risk levels and amounts you may take, for 360 days."),
    "assess.submit": ("提交测评", "Submit"),
    "assess.result": ("您的风险承受能力：{name}，得分 {score}，可出借 R{max} 及以下的标的。",
                      "Your risk tolerance: {name}, score {score}: listings up to R{max}."),
    "assess.missing": ("请选择一项", "Choose one"),
    "invest.title": ("确认出借", "Confirm your investment"),
    "invest.button": ("出借", "Invest"),
    "invest.login": ("登录后出借", "Sign in to invest"),
    "invest.amount": ("出借金额（元）", "Amount (yuan)"),
    "invest.quote": ("计算", "Show the figures"),
    "invest.confirm": ("确认出借", "Confirm and invest"),
    "invest.expected_interest": ("预期利息", "Expected interest"),
    "invest.expected_total": ("预期本息合计", "Expected principal and interest"),
    "invest.listing_level": ("标的风险等级", "Listing's risk level"),
    "invest.your_level": ("您的风险承受能力", "Your risk tolerance"),
    "invest.available": ("可用余额", "Available in your wallet"),
    "invest.rules": ("起投 ¥{min}，按 ¥{step} 递增，剩余可投 ¥{remaining}",
                     "From ¥{min} in steps of ¥{step}; ¥{remaining} still open"),
    "invest.interest_note": ("按本标的还款计划、按出借金额占比计算，"
                             "实际以满标后生成的回款计划为准。",
                             "This amount's share of the interest on the listing's schedule; "
                             "the holding's own schedule is fixed when the listing is funded."),
    "invest.refusal.assessment_required": (
        "您尚未完成风险测评，须先完成测评才能出借（规则 {rule}）。",
        "You have not taken the risk questionnaire: take it before investing (rule {rule})."),
    "invest.refusal.assessment_expired": (
        "您的风险测评已于 {valid_until} 过期，请重新测评（规则 {rule}，有效期 360 天）。",
        "Your risk assessment expired on {valid_until}: take it again (rule {rule}, 360 days)."),
    "invest.refusal.risk_level_too_high": (
        "本标的风险等级 R{risk} 高于{level_name}出借人可投的最高等级 R{max_risk}（规则 {rule}）："
        "请选择风险更低的标的，或在情况变化后重新测评。",
        "This listing's risk level R{risk} is above the highest a {level_name} investor may "
        "take, R{max_risk} (rule {rule}): choose a lower-risk listing, or retake the "
        "questionnaire if your situation has changed."),
    "invest.refusal.over_level_limit_once": (
        "{level_name}出借人单笔最多出借 ¥{limit}（规则 {rule}）。",
        "A {level_name} investor may invest at most ¥{limit} at once (rule {rule})."),
    "invest.refusal.over_level_limit_total": (
        "{level_name}出借人待收本金合计最多 ¥{limit}，您已有 ¥{outstanding}（规则 {rule}）。",
        "A {level_name} investor may have at most ¥{limit} outstanding; you have "
        "¥{outstanding} (rule {rule})."),
    "invest.error.insufficient_balance": ("可用余额不足（可用 ¥{available}），请先充值。",
                                          "Not enough in your wallet (¥{available} available): "
                                          "deposit first."),
    "invest.error.listing_closed": ("本标的已不在募集期。", "This listing is no longer open."),
    "invest.error.self_investment": ("不能出借给自己的借款（禁止自融）。",
                                     "You cannot invest in your own listing (self-financing)."),
    "pay.deposit.title": ("充值", "Deposit"),
    "pay.withdraw.title": ("提现", "Withdraw"),
    "pay.deposit.intro": ("提交后将跳转到支付网关页面完成支付；支付结果以网关回调为准。",
                          "You go on to the payment gateway's page to pay; the money arrives "
                          "when the gateway confirms it."),
    "pay.withdraw.intro": ("提现金额立即冻结，网关付款成功后从账户划出；失败则解冻。",
                           "The amount is frozen at once and paid out when the gateway "
                           "confirms; released if it fails."),
    "pay.amount": ("金额（元）", "Amount (yuan)"),
    "pay.channel": ("支付方式", "Channel"),
    "pay.submit.deposit": ("去支付", "Go to payment"),
    "pay.submit.withdraw": ("提交提现", "Withdraw"),
    "pay.limits": ("单笔上限 ¥{once}，今日剩余额度 ¥{left}", "Up to ¥{once} at once; ¥{left} left "
                   "today"),
    "pay.gateway_down": ("支付网关暂时无响应，订单已保存，请稍后在本页查看。",
                         "The gateway did not answer; the order is kept: check back here."),
    "pay.error.insufficient": ("超过可用余额 ¥{available}", "More than the ¥{available} "
                               "available"),
    "order.reversed": ("已冲正", "reversed"),
    "channel.third_party": ("第三方支付", "Third-party payment"),
    "channel.online_banking": ("网银", "Online banking"),
    "channel.mobile": ("手机支付", "Mobile payment"),
    "channel.bank_transfer": ("银行转账", "Bank transfer"),
    "channel.pos": ("POS", "POS"),
}
i18n.register({f"investor.{key}": text for key, text in MESSAGES.items()})


def get_gateway(request: Request) -> Gateway:
    """The gateway adapter, built from settings; tests override this dependency."""
    platform = platform_of(request)
    return gateway_from_settings(platform.settings, platform.clock)


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


# --- the dashboard ------------------------------------------------------------------------
def cash_flow_figure(months: list[dict[str, Any]], lang: str) -> dict[str, Any] | None:
    """The upcoming cash flows as a Plotly figure (principal and interest stacked per month),
    or None when nothing is due."""
    if not any(m["total"].fen for m in months):
        return None
    return charts.cash_flow_chart([m["month"] for m in months],
                                  [m["principal"] for m in months],
                                  [m["interest"] for m in months], lang=lang)


@router.get("/me")
def dashboard(request: Request, user: InvestorUser, order: str | None = None,
              invested: str | None = None) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        wallet = users.wallet_of(uow, user.id).get("investor", {})
        book = portfolio.portfolio(uow, user.id)
        months = portfolio.upcoming_cash_flows(uow, user.id, uow.clock.today())
        profile = quotes.investor_profile(uow, user.id, platform.investing_rules)
        payment = None
        if order:
            try:
                payment = payments.order_view(uow, order[:40], user_id=user.id)
            except NotFound:
                payment = None
    return render(request, "investor/dashboard.html", {
        "wallet": wallet, "book": book, "months": months,
        "chart": cash_flow_figure(months, i18n.language_of(request)),
        "profile": profile, "payment": payment, "invested": invested})


# --- the risk questionnaire ---------------------------------------------------------------
def _questions(lang: str) -> list[dict[str, Any]]:
    def part(text: str) -> str:
        zh, sep, en = text.partition(" / ")
        return (zh if lang == "zh-CN" else en) if sep else text

    return [{"key": key, "text": part(text), "options": list(options)}
            for key, text, options in QUESTIONS]


def _assessment_page(request: Request, user: UserView, answers: dict[str, str],
                     errors: dict[str, str], status: int = 200) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        profile = quotes.investor_profile(uow, user.id, platform.investing_rules)
    return render(request, "investor/assessment.html", {
        "questions": _questions(i18n.language_of(request)), "answers": answers,
        "errors": errors, "profile": profile}, status)


@router.get("/me/assessment")
def assessment_page(request: Request, user: InvestorUser) -> Response:
    return _assessment_page(request, user, {}, {})


@router.post("/me/assessment")
def take_assessment(request: Request, user: InvestorUser, form: Form) -> Response:
    lang = i18n.language_of(request)
    raw = {key: str(form.get(key, "")) for key, _, _ in QUESTIONS}
    errors = {key: i18n.translate(lang, "investor.assess.missing") for key, value in raw.items()
              if not value.isdigit()}
    if not errors:
        answers = {key: int(value) for key, value in raw.items()}
        platform = platform_of(request)
        try:
            in_transaction(platform.uow, lambda uow: suitability.assess(uow, user.id, answers))
        except InvalidInput as exc:
            key = (exc.field or "").removeprefix("answers.")
            errors[key] = i18n.translate(lang, "investor.assess.missing")
    if errors:
        return _assessment_page(request, user, raw, errors, 422)
    return redirect("/me/assessment")


# --- investing ----------------------------------------------------------------------------
def _say_refusal(lang: str, refusal: dict[str, Any]) -> str:
    values = dict(refusal["values"])
    if values.get("level"):
        values["level_name"] = i18n.translate(lang, f"investor.level.{values['level']}")
    for key in ("limit", "outstanding"):
        if key in values:
            values[key] = i18n.money(values[key])
    values.setdefault("level_name", "")
    return i18n.translate(lang, f"investor.invest.refusal.{refusal['code']}",
                          rule=refusal["rule"], **values)


def _parse_amount(text: str, request: Request) -> Money:
    ceiling = platform_of(request).settings.money_ceiling_fen
    return Money.parse(text.strip(), field="amount", ceiling_fen=ceiling)


def _invest_page(request: Request, user: UserView, listing_id: RowId, amount_text: str,
                 error: str | None = None, status: int = 200,
                 coupon_id: int | None = None) -> Response:
    platform = platform_of(request)
    lang = i18n.language_of(request)
    amount = None
    if amount_text and error is None:
        try:
            amount = _parse_amount(amount_text, request)
        except InvalidInput as exc:
            error = refusals.say(request, exc)
            status = 422
    try:
        with platform.reader() as uow:
            found = quotes.quote(uow, listing_id, user.id, amount, platform.investing_rules)
            usable = coupons.usable_for(uow, user.id, listing_id)
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    refusal = _say_refusal(lang, found["refusal"]) if found["refusal"] else None
    if error is None and refusal is None and amount is not None and amount > found["available"]:
        error = i18n.translate(lang, "investor.invest.error.insufficient_balance",
                               available=i18n.money(found["available"]))
    return render(request, "investor/invest.html", {
        "q": found, "item": found["listing"], "amount_text": amount_text,
        "refusal": refusal, "error": error, "key": uuid.uuid4().hex,
        "coupons": usable, "coupon_id": coupon_id,
        "reward": next((coupons.expected_reward(c, amount) for c in usable
                        if c["id"] == coupon_id), None) if amount else None}, status)


def _coupon_id(text: object) -> int | None:
    """The coupon chosen on the form (empty: none; anything else than an id: none)."""
    value = str(text or "").strip()
    return int(value) if value.isdigit() and 0 < len(value) <= 18 else None


@router.get("/listings/{listing_id}/invest")
def invest_page(request: Request, listing_id: RowId, user: InvestorUser,
                amount: str = "", coupon: str = "") -> Response:
    return _invest_page(request, user, listing_id, amount[:40], coupon_id=_coupon_id(coupon))


@router.post("/listings/{listing_id}/invest")
def invest(request: Request, listing_id: RowId, user: InvestorUser, form: Form) -> Response:
    platform = platform_of(request)
    platform.rate_limiter.hit("invest", f"user:{user.id}")
    amount_text = str(form.get("amount", "")).strip()[:40]
    key = str(form.get("idempotency_key", "")).strip()[:128] or uuid.uuid4().hex
    coupon_id = _coupon_id(form.get("coupon_id"))
    try:
        amount = _parse_amount(amount_text, request)
    except InvalidInput as exc:
        return _invest_page(request, user, listing_id, amount_text, refusals.say(request, exc),
                            422, coupon_id)
    chosen = (coupon_id,) if coupon_id else ()

    def act(uow):  # type: ignore[no-untyped-def]
        made = investing.invest(uow, investing.Invest(listing_id, user.id, amount,
                                                      coupon_ids=chosen),
                                platform.investing_rules)
        return Answer(201, {"listing_id": listing_id, "amount": str(made.amount),
                            "status": made.status})

    try:
        answer = run_idempotent(platform.uow, scope=f"web:user:{user.id}:invest:{listing_id}",
                                key=key, payload={"amount": str(amount)} | (
                                    {"coupon_id": coupon_id} if coupon_id else {}), fn=act)
    except IdempotencyConflict:  # the same form posted again with another amount
        return _invest_page(request, user, listing_id, amount_text)
    if answer.status_code >= 300:
        return _invest_page(request, user, listing_id, amount_text,
                            _say_error(request, user, listing_id, amount, answer.body), 409,
                            coupon_id)
    return redirect(f"/me?invested={listing_id}:{answer.body['amount']}:"
                    f"{answer.body['status']}")


def _say_error(request: Request, user: UserView, listing_id: RowId, amount: Money,
               body: dict[str, Any]) -> str:
    lang = i18n.language_of(request)
    error = body.get("error", {})
    code = error.get("code", "")
    platform = platform_of(request)
    with platform.reader() as uow:
        found = quotes.quote(uow, listing_id, user.id, amount, platform.investing_rules)
    if found["refusal"]:
        return _say_refusal(lang, found["refusal"])
    if code == "insufficient_balance":
        return i18n.translate(lang, "investor.invest.error.insufficient_balance",
                              available=i18n.money(found["available"]))
    return refusals.say(request, error, own="investor.invest.error")


# --- deposits and withdrawals -------------------------------------------------------------
def _limits(request: Request) -> WithdrawalLimits:
    s = platform_of(request).settings
    return WithdrawalLimits(per_transaction=Money(s.withdrawal_max_per_transaction_fen),
                            per_day=Money(s.withdrawal_max_per_day_fen))


def _payment_page(request: Request, user: UserView, kind: str, values: dict[str, str],
                  errors: dict[str, str], status: int = 200) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        wallet = users.wallet_of(uow, user.id).get("investor", {})
        limits = payments.limits_view(uow, user.id, _limits(request)) if kind == "withdraw" \
            else None
    channels = DEPOSIT_CHANNELS if kind == "deposit" else WITHDRAWAL_CHANNELS
    return render(request, "investor/payment.html", {
        "kind": kind, "values": values, "errors": errors, "wallet": wallet,
        "limits": limits, "channels": channels, "key": uuid.uuid4().hex}, status)


def _start_payment(request: Request, user: UserView, gateway: Gateway, kind: str,
                   form: Any) -> Response:
    platform = platform_of(request)
    lang = i18n.language_of(request)
    channels = DEPOSIT_CHANNELS if kind == "deposit" else WITHDRAWAL_CHANNELS
    values = {"amount": str(form.get("amount", "")).strip()[:40],
              "channel": str(form.get("channel", channels[0]))}
    key = str(form.get("idempotency_key", "")).strip()[:128] or uuid.uuid4().hex
    try:
        amount = _parse_amount(values["amount"], request)
    except InvalidInput as exc:
        return _payment_page(request, user, kind, values, {"amount": refusals.say(request, exc)},
                             422)
    cmd = payments.StartPayment(user_id=user.id, amount=amount, channel=values["channel"],
                                role="investor")
    limits = _limits(request)
    start = (payments.start_deposit if kind == "deposit"
             else lambda uow, c: payments.start_withdrawal(uow, c, limits))
    try:
        answer = run_idempotent(platform.uow, scope=f"web:user:{user.id}:{kind}", key=key,
                                payload=values, fn=lambda uow: Answer(201, start(uow, cmd)
                                                                      .as_dict()))
    except IdempotencyConflict:
        return _payment_page(request, user, kind, values, {})
    if answer.status_code >= 300:
        error = answer.body.get("error", {})
        field = error.get("field") if error.get("field") in ("amount", "channel") else "amount"
        message = refusals.say(request, error)
        if error.get("code") == "insufficient_balance":
            with platform.reader() as uow:
                have = users.wallet_of(uow, user.id).get("investor", {}).get("available")
            message = i18n.translate(lang, "investor.pay.error.insufficient",
                                     available=i18n.money(have))
        return _payment_page(request, user, kind, values, {field: message}, 409)
    order_no = answer.body["order_no"]
    base = platform.settings.public_base_url.rstrip("/")
    notify_url = base + payments.CALLBACK_PATH
    try:  # the gateway's pay page sends the payer back to their account with the order
        view = payments.submit(platform.uow, gateway, order_no, notify_url=notify_url,
                               return_url=f"{base}/me?order={quote(order_no)}")
    except (GatewayUnavailable, BiaodiError):
        return redirect(f"/me?order={order_no}")
    if kind == "deposit" and view.pay_url and view.status == "pending":
        return RedirectResponse(view.pay_url, status_code=303)
    return redirect(f"/me?order={order_no}")


@router.get("/me/deposit")
def deposit_page(request: Request, user: InvestorUser) -> Response:
    return _payment_page(request, user, "deposit", {"channel": DEPOSIT_CHANNELS[0]}, {})


@router.post("/me/deposit")
def deposit(request: Request, user: InvestorUser, gateway: GatewayDep, form: Form) -> Response:
    platform_of(request).rate_limiter.hit("payment", f"user:{user.id}")
    return _start_payment(request, user, gateway, "deposit", form)


@router.get("/me/withdraw")
def withdraw_page(request: Request, user: InvestorUser) -> Response:
    return _payment_page(request, user, "withdraw", {"channel": WITHDRAWAL_CHANNELS[0]}, {})


@router.post("/me/withdraw")
def withdraw(request: Request, user: InvestorUser, gateway: GatewayDep, form: Form) -> Response:
    platform_of(request).rate_limiter.hit("payment", f"user:{user.id}")
    return _start_payment(request, user, gateway, "withdraw", form)


# --- statements ---------------------------------------------------------------------------
STATEMENT_COLUMNS = {
    "zh-CN": ("记账日", "时间", "凭证号", "业务类型", "账户", "变动金额（元）", "变动后余额（元）",
              "摘要"),
    "en": ("Business date", "Time", "Entry", "Kind", "Account", "Change (yuan)",
           "Balance after (yuan)", "Memo"),
}


def _statement(request: Request, user: UserView) -> tuple[tuple[str, ...], list[list[Any]]]:
    platform = platform_of(request)
    with platform.reader() as uow:
        rows = ledger_queries.movements(uow, "investor", user.id)
    lang = i18n.language_of(request)
    account = {"available": i18n.translate(lang, "investor.me.available"),
               "frozen": i18n.translate(lang, "investor.me.frozen")}
    body = [[r["business_date"].isoformat(), i18n.moment(r["at"]), r["entry_id"], r["kind"],
             account.get(r["account"], r["account"]), str(r["change"]),
             str(r["balance_after"]), r["memo"]] for r in rows]
    return STATEMENT_COLUMNS[lang], body


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


@router.get("/me/statement.csv")
def statement_csv(request: Request, user: InvestorUser) -> Response:
    header, rows = _statement(request, user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    # The byte-order mark lets Excel open the Chinese text as UTF-8.
    return _download(("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8",
                     f"biaodi-statement-{user.username}.csv")


@router.get("/me/statement.xlsx")
def statement_xlsx(request: Request, user: InvestorUser) -> Response:
    from decimal import Decimal

    from openpyxl import Workbook

    header, rows = _statement(request, user)
    book = Workbook()
    sheet = book.active
    sheet.title = "statement"
    sheet.append(list(header))
    for row in rows:
        sheet.append([*row[:5], Decimal(row[5]), Decimal(row[6]), *row[7:]])
    for cells in sheet.iter_rows(min_row=2, min_col=6, max_col=7):
        for cell in cells:
            cell.number_format = "#,##0.00"
    for column, width in zip("ABCDEFGH", (12, 17, 8, 22, 10, 16, 18, 48), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return _download(out.getvalue(),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"biaodi-statement-{user.username}.xlsx")
