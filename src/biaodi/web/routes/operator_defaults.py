"""The operator console's default handling and guarantors: loans in default handling with what
happened to each (acceleration, guarantor compensation, originator buy-back, collateral
disposal, write-off, recoveries), when, for how much and under which rule, with the two things
an operator records by hand — a collateral sale and money recovered outside the wallets; and
each guarantor's capacity, what it uses, what is left, its fee and the listings it backs, with
a form for its terms. Risk officers and auditors read; operators act."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.errors import BiaodiError, Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.listings import lifecycle
from biaodi.services.listings import queries as listing_queries
from biaodi.services.servicing import defaults
from biaodi.services.servicing import queries as servicing_queries
from biaodi.services.shared.rates import parse_percent
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n
from biaodi.web.pages import Form, form_values, platform_of, redirect, render, require_role
from biaodi.web.routes.operator_books import READ, chrome, refusal, require_act

router = APIRouter(prefix="/operator")

DefaultsReader = Annotated[UserView, Depends(require_role(*READ["defaults"]))]
GuarantorsReader = Annotated[UserView, Depends(require_role(*READ["guarantors"]))]

#: Fields that hold an amount of yuan: a bad value gets the one amount sentence.
MONEY_FIELDS = ("proceeds", "costs", "amount", "capacity")

MESSAGES: dict[str, tuple[str, str]] = {
    "tab.defaults": ("违约处置", "Defaults"),
    "tab.guarantors": ("担保方额度", "Guarantors"),
    "title": ("违约处置", "Defaults and their handling"),
    "intro": ("日终批处理按标的类型的规则处理违约：担保方代偿、原债权人回购、抵押物处置或核销。"
              "抵押物的处置款和线下回收款由运营人员在此登记。",
              "Close of business handles defaults by the listing type's rule: guarantor "
              "compensation, originator buy-back, collateral disposal or write-off. Operators "
              "record here what a collateral sale fetched and money recovered outside the "
              "wallets."),
    "none": ("暂无进入违约处置的贷款。", "No loan is in default handling."),
    "path": ("处置方式", "Default path"),
    "stage": ("阶段", "Stage"),
    "stage.none": ("处理中", "in progress"),
    "stage.compensated": ("担保方已全额代偿", "compensated in full by the guarantor"),
    "stage.disposal": ("抵押物处置中", "collateral in disposal"),
    "stage.recovered": ("已回收", "recovered"),
    "stage.written_off": ("已核销", "written off"),
    "stage.bought_back": ("原债权人已回购", "bought back by the originator"),
    "rule_label": ("触发规则", "Rule"),
    "rule.write_off": ("逾期达 M3+（90 天以上）：加速到期，剩余债权核销为出借人损失，"
                       "此后的回收款仍归出借人。",
                       "M3+ (over 90 days past due): the loan is accelerated and the claims "
                       "are written off as the holders' loss; later recoveries still reach "
                       "them."),
    "rule.disposal": ("逾期达 M3+：加速到期，抵押物进入处置；处置款按 费用→罚息→利息→本金 分配，"
                      "余额退还借款人，不足部分核销。",
                      "M3+: the loan is accelerated and the collateral goes to disposal; the "
                      "proceeds pay costs → penalty → interest → principal, a surplus goes "
                      "back to the borrower, a shortfall is written off."),
    "rule.guarantor_deadline": ("出借人应收款逾期达到担保方的代偿期限（{days} 天）：担保方代偿逾期"
                                "本息，并取得追偿权。",
                                "What holders are owed was past the guarantor's deadline "
                                "({days} days): the guarantor pays the overdue principal and "
                                "interest and takes over the claim."),
    "rule.guarantor_full": ("逾期达 M3+（产品约定全额代偿）：担保方代偿全部剩余本金，"
                            "无力支付的部分核销。",
                            "M3+ (the product says so): the guarantor pays the whole remaining "
                            "principal; what it cannot pay is written off."),
    "rule.buyback_maturity": ("流转标到期仍有未付款项：原债权人按本金加利息回购（先用回购准备金，"
                              "再用钱包余额），无力支付的部分核销。",
                              "The transfer listing matured with money unpaid: the originator "
                              "buys the claim back at principal plus interest (its buy-back "
                              "reserve first, then its wallet); what it cannot pay is written "
                              "off."),
    "rule.buyback_default": ("流转标逾期达 M3+：加速到期，原债权人按本金加利息回购，"
                             "无力支付的部分核销。",
                             "The transfer listing reached M3+: it is accelerated and the "
                             "originator buys the claim back at principal plus interest; what "
                             "it cannot pay is written off."),
    "amounts": ("金额", "Amounts"),
    "owed": ("当前应收（本金+利息+罚息）", "Owed now (principal, interest, penalty)"),
    "written_off": ("已核销", "Written off"),
    "compensated": ("担保方已代偿", "Paid by the guarantor"),
    "bought_back": ("回购已支付", "Paid in the buy-back"),
    "recovered": ("线下回收", "Recovered"),
    "events": ("处置经过", "What happened"),
    "when": ("日期", "When"),
    "what": ("事项", "Event"),
    "amount": ("金额", "Amount"),
    "detail": ("说明", "Detail"),
    "event.accelerated": ("加速到期", "Accelerated"),
    "event.disposal_opened": ("抵押物进入处置", "Collateral disposal opened"),
    "event.disposal_paid": ("处置款分配给出借人", "Disposal proceeds paid to the holders"),
    "event.compensation": ("担保方代偿", "Guarantor compensation"),
    "event.buyback": ("原债权人回购", "Originator buy-back"),
    "event.recovery": ("线下回收款分配", "Recovery distributed"),
    "event.borrower_paid": ("借款人违约后还款", "Borrower paid after default"),
    "event.status_defaulted": ("标的转为违约", "Listing defaulted"),
    "event.status_written_off": ("债权核销", "Claims written off"),
    "event.status_recovered": ("标的已回收", "Listing recovered"),
    "disposal": ("抵押物处置", "Collateral disposal"),
    "disposal.pending": ("待登记处置结果（自 {day} 起）",
                         "waiting for the sale (open since {day})"),
    "disposal.settled": ("已登记", "recorded"),
    "disposal.proceeds": ("处置所得", "Sale proceeds"),
    "disposal.costs": ("处置费用", "Costs of the sale"),
    "disposal.surplus": ("退还借款人", "Surplus to the borrower"),
    "disposal.shortfall": ("不足部分（核销）", "Shortfall (written off)"),
    "disposal.reference": ("成交凭证编号", "Sale reference"),
    "disposal.reference_hint": ("登记处置结果：所得按 费用→罚息→利息→本金 分配；"
                                "成交凭证编号如拍卖成交确认书编号。",
                                "Recording the sale pays costs → penalty → interest → principal "
                                "from the proceeds; the sale reference is e.g. the auction "
                                "confirmation number."),
    "disposal.record": ("登记处置结果", "Record the sale"),
    "recovery": ("登记线下回收款", "Record a recovery"),
    "recovery.hint": ("催收机构或法院执行回收的款项进入存管账户，按分配顺序支付给债权人。",
                      "Money recovered by an agency or a court arrives in custody and is paid "
                      "to the creditors in the loan's order."),
    "recovery.amount": ("回收金额（元）", "Amount (yuan)"),
    "recovery.reference": ("回收凭证编号", "Reference"),
    "recovery.record": ("登记回收款", "Record the recovery"),
    "open_loan": ("查看贷后详情", "Loan servicing"),
    "done.disposal": ("贷款 #{id} 的处置结果已登记，款项已分配。",
                      "The sale for loan #{id} is recorded and the money paid out."),
    "done.recovery": ("贷款 #{id} 的回收款已登记并分配。",
                      "The recovery for loan #{id} is recorded and paid out."),
    "error.amount": ("请填写有效金额（元，最多两位小数）",
                     "Enter an amount in yuan with at most two decimals"),
    "error.reference": ("请填写凭证编号", "Give the reference"),
    "error.name": ("首次设置担保条件须填写担保方名称", "A guarantor's first terms need a name"),
    "error.fee_rate": ("请填写有效年费率（百分比，如 1.5）",
                       "Enter the yearly fee as a percentage, e.g. 1.5"),
    "error.compensation_days": ("代偿期限须为 1 至 90 天", "The deadline is 1 to 90 days"),
    "error.user_id": ("该用户不是担保方", "That user is not a guarantor"),
    "code.no_disposal_pending": ("该贷款没有待处置的抵押物", "No collateral disposal is "
                                 "pending for this loan"),
    "code.nothing_due": ("该贷款当前没有应收款项", "Nothing is owed on this loan now"),
    "code.amount_exceeds_owed": ("金额超过该贷款当前应收总额", "The amount is more than is owed "
                                 "on the loan"),
    "g.title": ("担保方额度", "Guarantors' capacity"),
    "g.intro": ("已用额度为其担保的在途标的（募集中、还款中、逾期）的借款金额之和，"
                "与发布时的额度检查口径一致。",
                "Used is the amount of the listings it guarantees that are outstanding "
                "(published, funded, repaying, overdue), as the check at publishing counts it."),
    "g.none": ("还没有担保方用户。", "No user has the guarantor role yet."),
    "g.guarantor": ("担保方", "Guarantor"),
    "g.no_terms": ("尚未设置担保条件", "No terms on file yet"),
    "g.capacity": ("担保额度", "Capacity"),
    "g.used": ("已用", "Used"),
    "g.remaining": ("剩余", "Remaining"),
    "g.over": ("已超额度", "over capacity"),
    "g.fee_rate": ("担保费年费率", "Fee a year"),
    "g.days": ("代偿期限（天）", "Deadline (days)"),
    "g.listings": ("担保的标的", "Listings it backs"),
    "g.no_listings": ("暂无", "none"),
    "g.counts": ("计入已用", "Counts as used"),
    "g.terms": ("设置担保条件", "Set the terms"),
    "g.name": ("担保方名称", "Name"),
    "g.name_hint": ("首次设置时必填；留空则保留原名称", "Required the first time; left empty "
                    "it keeps the name on file"),
    "g.capacity_field": ("担保额度（元）", "Capacity (yuan)"),
    "g.fee_field": ("担保费年费率（%）", "Fee a year (%)"),
    "g.save": ("保存", "Save"),
    "g.done": ("担保方 #{id} 的条件已保存。", "The terms of guarantor #{id} are saved."),
}
i18n.register({f"opd.{key}": text for key, text in MESSAGES.items()})


def _say(request: Request, exc: BiaodiError) -> dict[str, Any]:
    """A refusal for the page: our sentence for the code or the field, else the service's."""
    lang = i18n.language_of(request)
    error = refusal(request, exc)
    if f"op.code.{exc.code}" not in i18n.MESSAGES:  # a title by the kind of refusal
        kind = "conflict" if isinstance(exc, Conflict) else "invalid_input"
        error["title"] = i18n.translate(lang, f"op.code.{kind}")
    field = exc.field or ""
    code_key, field_key = f"opd.code.{exc.code}", f"opd.error.{field}"
    if code_key in i18n.MESSAGES:
        error["message"] = i18n.translate(lang, code_key)
    elif exc.code == "invalid_input" and field in MONEY_FIELDS:
        error["message"] = i18n.translate(lang, "opd.error.amount")
    elif field_key in i18n.MESSAGES:
        error["message"] = i18n.translate(lang, field_key)
    return error


def _bad(request: Request, key: str, field: str) -> InvalidInput:
    return InvalidInput(i18n.translate(i18n.language_of(request), key), field=field)


# --- defaults -------------------------------------------------------------------------------
def _defaults_page(request: Request, user: UserView, *, error: dict[str, Any] | None = None,
                   form: dict[str, str] | None = None, status: int = 200) -> Response:
    with platform_of(request).reader() as uow:
        items = servicing_queries.default_book(uow)
    done = request.query_params.get("done")
    loan = request.query_params.get("loan", "")
    return render(request, "operator/defaults.html", {
        "items": items, "error": error, "form": form or {}, "new_key": uuid.uuid4().hex,
        "done": (i18n.translate(i18n.language_of(request), f"opd.done.{done}", id=loan)
                 if done in ("disposal", "recovery") and loan.isdigit() else None),
        **chrome(request, user, "defaults")}, status)


@router.get("/defaults")
def defaults_page(request: Request, user: DefaultsReader) -> Response:
    return _defaults_page(request, user)


@router.post("/defaults")
def record_on_default(request: Request, user: DefaultsReader, form: Form) -> Response:
    """Record a collateral sale (`op=disposal`) or a recovery (`op=recovery`) on a loan."""
    require_act(request, user, "defaults")
    platform = platform_of(request)
    values = form_values(form)
    op = values.get("op", "")
    listing_id = int(values["listing_id"]) if values.get("listing_id", "").isdigit() else 0
    ceiling = platform.settings.money_ceiling_fen
    try:
        if op == "disposal":
            proceeds = Money.parse(values.get("proceeds", ""), field="proceeds",
                                   allow_zero=True, ceiling_fen=ceiling)
            costs = Money.parse(values.get("costs", "") or "0", field="costs",
                                allow_zero=True, ceiling_fen=ceiling)
            if not values.get("reference"):
                raise _bad(request, "opd.error.reference", "reference")
            cmd = defaults.RecordDisposal(listing_id, proceeds, costs, values["reference"],
                                          user.id)
            in_transaction(platform.uow, lambda uow: defaults.record_disposal(uow, cmd))
        elif op == "recovery":
            amount = Money.parse(values.get("amount", ""), field="amount", ceiling_fen=ceiling)
            if not values.get("reference"):
                raise _bad(request, "opd.error.reference", "reference")
            key = values.get("key") or uuid.uuid4().hex
            recovery = defaults.RecordRecovery(listing_id, amount, values["reference"],
                                               user.id, key[:64])
            in_transaction(platform.uow, lambda uow: defaults.record_recovery(uow, recovery))
        else:
            raise _bad(request, "op.error.action", "op")
    except BiaodiError as exc:
        return _defaults_page(request, user, error=_say(request, exc) | {
            "op": op, "listing_id": listing_id}, form=values, status=exc.status)
    return redirect(f"/operator/defaults?done={op}&loan={listing_id}#loan-{listing_id}")


# --- guarantors -----------------------------------------------------------------------------
def _guarantors_page(request: Request, user: UserView, *, error: dict[str, Any] | None = None,
                     form: dict[str, str] | None = None, status: int = 200) -> Response:
    with platform_of(request).reader() as uow:
        items = listing_queries.guarantor_book(uow)
    done = request.query_params.get("done", "")
    return render(request, "operator/guarantors.html", {
        "items": items, "error": error, "form": form or {},
        "done": (i18n.translate(i18n.language_of(request), "opd.g.done", id=done)
                 if done.isdigit() else None),
        **chrome(request, user, "guarantors")}, status)


@router.get("/guarantors")
def guarantors_page(request: Request, user: GuarantorsReader) -> Response:
    return _guarantors_page(request, user)


@router.post("/guarantors")
def set_guarantor_terms(request: Request, user: GuarantorsReader, form: Form) -> Response:
    """A guarantor's name, capacity, yearly fee and compensation deadline."""
    require_act(request, user, "guarantors")
    platform = platform_of(request)
    values = form_values(form)
    user_id = int(values["user_id"]) if values.get("user_id", "").isdigit() else 0
    try:
        capacity = Money.parse(values.get("capacity", ""), field="capacity", allow_zero=True,
                               ceiling_fen=None)
        fee_rate = parse_percent(values.get("fee_rate", ""), field="fee_rate")
        days_text = values.get("compensation_days", "") or "3"
        if not days_text.isdigit():
            raise _bad(request, "opd.error.compensation_days", "compensation_days")
        in_transaction(platform.uow, lambda uow: lifecycle.set_guarantor_terms(
            uow, user_id, name=values.get("name", ""), capacity=capacity, fee_rate=fee_rate,
            compensation_days=int(days_text), actor_id=user.id))
    except BiaodiError as exc:
        return _guarantors_page(request, user, error=_say(request, exc) | {"user_id": user_id},
                                form=values, status=exc.status)
    return redirect(f"/operator/guarantors?done={user_id}#guarantor-{user_id}")
