"""The operator console's books: close of business (run for today, past runs and their
steps), the overdue book by bucket with each loan's servicing (and its default handling) and
the borrower's collections log, payment exceptions with every resolution the service offers
(a refund through the gateway) and the latest reconciliation results, and the blacklist. Who
reads and who acts is checked on the server for every page and every form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.servicing.buckets import Bucket
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import BiaodiError, InvalidInput, NotFound
from biaodi.risk_modelling.rulepacks import load_pack
from biaodi.services.accounts.users import UserView
from biaodi.services.payments import reconciliation
from biaodi.services.risk import blacklist
from biaodi.services.servicing import collections
from biaodi.services.servicing import queries as servicing_queries
from biaodi.services.servicing.close_day import close_day
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import (
    Form,
    PageError,
    form_values,
    platform_of,
    redirect,
    render,
    require_role,
)
from biaodi.web.routes.investor import GatewayDep

router = APIRouter()

#: (tab, path, roles that read it, roles that act on it)
TABS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("review", "/operator", ("operator", "risk_officer", "auditor"), ("operator",)),
    ("close_day", "/operator/close-day", ("operator", "auditor"), ("operator",)),
    ("loans", "/operator/loans", ("operator", "risk_officer", "auditor"), ("operator",)),
    ("defaults", "/operator/defaults", ("operator", "risk_officer", "auditor"), ("operator",)),
    ("guarantors", "/operator/guarantors", ("operator", "risk_officer", "auditor"),
     ("operator",)),
    ("exceptions", "/operator/payments/exceptions", ("operator", "auditor"), ("operator",)),
    ("blacklist", "/operator/risk/blacklist", ("operator", "risk_officer", "auditor"),
     ("operator", "risk_officer")),
    ("audit", "/operator/audit", ("operator", "auditor"), ()),  # read only, for everyone
    ("analytics", "/operator/analytics", ("operator", "risk_officer", "auditor"), ()),
    ("incentives", "/operator/incentives", ("operator", "auditor"), ()),  # read only
    ("disclosure", "/operator/disclosure", ("operator",), ("operator",)),
    ("cash_wallet", "/operator/cash-wallet", ("operator", "auditor"), ("operator",)),
)
READ = {tab: readers for tab, _, readers, _ in TABS}
#: Tabs whose label lives under another module's prefix (default: op.tab.<tab>).
TAB_LABELS = {"defaults": "opd.tab.defaults", "guarantors": "opd.tab.guarantors",
              "disclosure": "opx.tab", "cash_wallet": "opw.tab"}
ACT = {tab: actors for tab, _, _, actors in TABS}
BUCKETS = tuple(b.value for b in Bucket if b is not Bucket.CURRENT)
#: Resolutions the page offers: every one the service supports. A refund asks the payment
#: gateway to pay the money back first, and needs the operator's confirmation.
PAGE_ACTIONS = frozenset({"credit_wallet", "settle", "apply", "reverse", "adjust", "sweep",
                          "refund"})
BLACKLIST_KINDS = ("id_number", "mobile", "bank_card", "device")

Closer = Annotated[UserView, Depends(require_role(*READ["close_day"]))]
LoanReader = Annotated[UserView, Depends(require_role(*READ["loans"]))]
PaymentsReader = Annotated[UserView, Depends(require_role(*READ["exceptions"]))]
BlacklistReader = Annotated[UserView, Depends(require_role(*READ["blacklist"]))]

i18n.register({
    "op.close.title": ("日终批处理", "Close of business"),
    "op.close.intro": ("为今天（{today}）运行日终：满标/流标、计息、自动扣款、逾期分类、罚息、"
                       "违约处置、结清与催收提醒。已完成的日期再次运行不会重复处理。",
                       "Close today ({today}): funding windows, interest, auto-debits, "
                       "overdue buckets, penalties, default handling, settlement and "
                       "reminders. Running a closed day again changes nothing."),
    "op.close.run": ("运行今天的日终", "Run close of business for today"),
    "op.close.runs": ("历次日终", "Past runs"),
    "op.close.none": ("尚未运行过日终。", "No close of business has run yet."),
    "op.close.date": ("营业日", "Business date"),
    "op.close.status": ("状态", "Status"),
    "op.close.status.done": ("已完成", "done"),
    "op.close.status.running": ("进行中（可续跑）", "running (resumable)"),
    "op.close.started": ("开始", "Started"),
    "op.close.finished": ("结束", "Finished"),
    "op.close.attempts": ("尝试次数", "Attempts"),
    "op.close.auto_debits": ("自动扣款 {count} 笔，共 ¥{amount}",
                             "{count} auto-debits, ¥{amount} in all"),
    "op.close.buckets": ("在贷资产分布", "Loans by bucket"),
    "op.close.step": ("步骤", "Step"),
    "op.close.rows": ("处理笔数", "Rows"),
    "op.close.ms": ("耗时（毫秒）", "Time (ms)"),
    "op.close.done": ("日终已运行：{days}。", "Close of business ran for {days}."),
    "op.loans.title": ("逾期资产（按账龄）", "Overdue book by bucket"),
    "op.loans.all": ("全部在贷", "All open loans"),
    "op.loans.none": ("该分类下没有贷款。", "No loan in this bucket."),
    "op.loans.loan": ("借款", "Loan"),
    "op.loans.dpd": ("逾期天数", "Days past due"),
    "op.loans.arrears": ("逾期本息", "Arrears"),
    "op.loans.penalty": ("罚息", "Penalty"),
    "op.loans.outstanding": ("剩余本金", "Principal left"),
    "op.loans.status": ("状态", "Status"),
    "op.loans.handling": ("违约处置", "Default handling"),
    "op.loans.collections": ("催收记录", "Collections log"),
    "op.loan.title": ("贷款 #{id} 的贷后情况", "Servicing of loan #{id}"),
    "op.loan.due_now": ("当前应还", "Due now"),
    "op.loan.payoff": ("提前结清金额", "Payoff"),
    "op.loan.next_due": ("下一还款日", "Next due"),
    "op.loan.instalments": ("还款计划", "Instalments"),
    "op.loan.back": ("返回逾期资产", "Back to the overdue book"),
    "op.action.guarantor_compensation": ("担保方代偿", "guarantor compensation"),
    "op.action.collateral_disposal": ("处置抵押物", "collateral disposal"),
    "op.action.originator_buyback": ("原债权人回购", "originator buy-back"),
    "op.action.write_off": ("核销", "write-off"),
    "op.coll.title": ("借款人 #{id} 的催收记录", "Collections log of borrower #{id}"),
    "op.coll.none": ("暂无催收记录。", "No contact logged."),
    "op.coll.at": ("时间", "When"),
    "op.coll.channel": ("方式", "Channel"),
    "op.coll.target": ("对象", "Whom"),
    "op.coll.outcome": ("结果", "Outcome"),
    "op.coll.rule": ("拒绝依据", "Refused under"),
    "op.coll.note": ("备注", "Note"),
    "op.exc.title": ("支付异常与对账", "Payment exceptions and reconciliation"),
    "op.exc.open": ("待处理", "Open"),
    "op.exc.resolved": ("已处理", "Resolved"),
    "op.exc.none": ("没有此类支付异常。", "No payment exception here."),
    "op.exc.kind": ("类型", "Kind"),
    "op.exc.date": ("营业日", "Business date"),
    "op.exc.txn": ("交易号 / 订单号", "Transaction / order"),
    "op.exc.gateway": ("网关金额", "Gateway"),
    "op.exc.ledger": ("账务金额", "Ledger"),
    "op.exc.resolve": ("处理", "Resolve"),
    "op.exc.action": ("处理方式", "Action"),
    "op.exc.reason": ("处理理由", "Reason"),
    "op.exc.resolution": ("处理结果", "Resolution"),
    "op.exc.refund_note": ("退款：支付网关先将款项原路退回付款人，再记账结案。",
                           "A refund: the gateway pays the money back to the payer first, "
                           "then the books close the exception."),
    "op.exc.confirm": ("我已核实，确认执行所选处理（退款将把款项退回付款人，不可撤销）",
                       "I have checked and confirm the chosen resolution (a refund pays the "
                       "money back to the payer and cannot be undone)"),
    "op.exc.confirm_needed": ("退款前请勾选确认", "Tick the confirmation before a refund"),
    "op.exc.done": ("异常 #{id} 已处理。", "Exception #{id} resolved."),
    "op.exc.outcome": ("处理方式：{action}；理由：{reason}", "Resolved by: {action}; reason: "
                       "{reason}"),
    "op.exc.entry": ("记账凭证 #{id}", "ledger entry #{id}"),
    "op.exc.recon": ("最近的对账结果", "Latest reconciliation results"),
    "op.exc.recon_none": ("尚未运行过对账（biaodi reconcile --date …）。",
                          "No reconciliation has run yet (biaodi reconcile --date …)."),
    "op.exc.recon_found": ("发现差异", "Found"),
    "op.exc.recon_cleared": ("复核后消除", "Cleared on a rerun"),
    "op.exc.custody": ("存管账户（截至 {day}）", "Custody (end of {day})"),
    "op.exc.owed": ("用户资金 + 网关挂账", "Wallets + gateway suspense"),
    "op.exc.difference": ("差额", "Difference"),
    "op.exc.balanced": ("存管与用户资金一致", "Custody matches what users are owed"),
    "op.exc.unbalanced": ("存管与用户资金不一致", "Custody does not match what users are owed"),
    "op.exc.kind.callback_amount_mismatch": ("回调金额与订单不符", "Callback amount mismatch"),
    "op.exc.kind.missing_in_ledger": ("对账单有、账务无", "On the statement, not in the ledger"),
    "op.exc.kind.missing_at_gateway": ("账务有、对账单无", "In the ledger, not on the statement"),
    "op.exc.kind.amount_mismatch": ("金额不一致", "Amounts differ"),
    "op.exc.kind.custody_mismatch": ("存管余额不平", "Custody does not match"),
    "op.exc.do.credit_wallet": ("入账到用户钱包", "Credit the wallet"),
    "op.exc.do.settle": ("按网关金额结算提现", "Settle the withdrawal"),
    "op.exc.do.apply": ("按对账单入账", "Apply the statement line"),
    "op.exc.do.reverse": ("冲正", "Reverse"),
    "op.exc.do.adjust": ("按网关金额调整", "Adjust to the gateway"),
    "op.exc.do.sweep": ("存管差额调整", "Sweep the difference"),
    "op.exc.do.refund": ("退款", "Refund"),
    "op.bl.title": ("黑名单", "Blacklist"),
    "op.bl.add": ("加入黑名单", "Add to the blacklist"),
    "op.bl.kind": ("类型", "Kind"),
    "op.bl.kind.id_number": ("身份证号", "ID number"),
    "op.bl.kind.mobile": ("手机号", "Mobile"),
    "op.bl.kind.bank_card": ("银行卡号", "Bank card"),
    "op.bl.kind.device": ("设备指纹", "Device"),
    "op.bl.value": ("号码", "Value"),
    "op.bl.reason": ("原因", "Reason"),
    "op.bl.reason.manual": ("人工列入", "listed by hand"),
    "op.bl.reason.fraud": ("确认欺诈", "confirmed fraud"),
    "op.bl.reason.default_m3": ("逾期超过 M3", "default past M3"),
    "op.bl.reason.linked_identity": ("关联身份", "linked identity"),
    "op.bl.note": ("说明", "Note"),
    "op.bl.listed": ("列入时间", "Listed"),
    "op.bl.expires": ("到期", "Expires"),
    "op.bl.never": ("手动移除前有效", "until removed"),
    "op.bl.remove": ("移除", "Remove"),
    "op.bl.remove_reason": ("移除理由", "Reason for removing"),
    "op.bl.none": ("黑名单为空。", "The blacklist is empty."),
    "op.bl.show_removed": ("包括已移除和已到期", "Include removed and expired"),
    "op.bl.removed": ("已移除：{reason}", "removed: {reason}"),
    "op.bl.done.added": ("已加入黑名单。", "Added to the blacklist."),
    "op.bl.done.removed": ("已移出黑名单。", "Removed from the blacklist."),
})


# --- shared by the console's pages ----------------------------------------------------------
def may(user: UserView, tab: str, *, act: bool = False) -> bool:
    return bool(set(user.roles).intersection(ACT[tab] if act else READ[tab]))


def forbid(request: Request, roles: Iterable[str]) -> PageError:
    lang = i18n.language_of(request)
    names = "、".join(i18n.translate(lang, f"role.{r}") for r in roles)
    return PageError(403, "error.forbidden.title", "error.forbidden.text", roles=names)


def require_act(request: Request, user: UserView, tab: str) -> None:
    """A form's change is made only by a role that acts on the tab (403 otherwise)."""
    if not may(user, tab, act=True):
        raise forbid(request, ACT[tab])


def require_operator(request: Request, user: UserView) -> None:
    require_act(request, user, "review")


def chrome(request: Request, user: UserView, current: str) -> dict[str, Any]:
    """The console's tabs this user may read, and whether the user may act on this one."""
    lang = i18n.language_of(request)
    roles = set(user.roles)
    reader_role = next((r for r in ("risk_officer", "auditor", "operator") if r in roles), "")
    return {
        "tabs": [(i18n.translate(lang, TAB_LABELS.get(tab, f"op.tab.{tab}")), path,
                  tab == current)
                 for tab, path, readers, _ in TABS if roles.intersection(readers)],
        "can_act": may(user, current, act=True),
        "reader_role": i18n.translate(lang, f"role.{reader_role}") if reader_role else "",
    }


def refusal(request: Request, exc: BiaodiError) -> dict[str, Any]:
    """A refusal in words: a title by error code, the refusal in the page's language (see
    `web/refusals`; the page keeps the service's code as data) and the rule's id."""
    lang = i18n.language_of(request)
    code = getattr(exc, "code", "error")
    key = f"op.code.{code}"
    title = (i18n.translate(lang, key) if key in i18n.MESSAGES
             else i18n.translate(lang, "op.refused"))
    rule = getattr(exc, "rule_id", None)
    return {"title": title, "message": refusals.say(request, exc), "code": code,
            "field": exc.field,
            "rule": i18n.translate(lang, "op.rule", rule=rule) if rule else None}


def _not_found() -> PageError:
    return PageError(404, "error.not_found.title", "error.not_found.text")


# --- close of business --------------------------------------------------------------------
def _close_page(request: Request, user: UserView, *, ran: list[dict[str, Any]] | None = None,
                error: dict[str, Any] | None = None, status: int = 200) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        runs = servicing_queries.recent_close_days(uow)
    return render(request, "operator/close_day.html", {
        "runs": runs, "ran": ran, "error": error, "today": platform.clock.today(),
        **chrome(request, user, "close_day")}, status)


@router.get("/close-day")
def close_day_page(request: Request, user: Closer) -> Response:
    return _close_page(request, user)


@router.post("/close-day")
def run_close_day(request: Request, user: Closer, _form: Form) -> Response:
    """Close today (and any missed day before it); a day already closed is not run again."""
    require_act(request, user, "close_day")
    platform = platform_of(request)
    cmd = platform.close_day_command()
    try:
        days = close_day(cmd, platform.clock.today())
    except BiaodiError as exc:
        return _close_page(request, user, error=refusal(request, exc), status=exc.status)
    return _close_page(request, user, ran=[d.as_dict() for d in days])


# --- the overdue book -----------------------------------------------------------------------
@router.get("/loans")
def loans_page(request: Request, user: LoanReader, bucket: str | None = None) -> Response:
    chosen = bucket if bucket in BUCKETS else None
    platform = platform_of(request)
    with platform.reader() as uow:
        items = servicing_queries.loans_by_bucket(uow, chosen)
    if chosen is None:  # the book: overdue loans only, unless "all" is asked for
        items = [i for i in items if i["bucket"] != Bucket.CURRENT.value or bucket == "all"]
    return render(request, "operator/loans.html", {
        "items": items, "bucket": chosen or ("all" if bucket == "all" else ""),
        "buckets": BUCKETS, **chrome(request, user, "loans")})


@router.get("/loans/{listing_id}")
def loan_page(request: Request, listing_id: RowId, user: LoanReader) -> Response:
    platform = platform_of(request)
    try:
        with platform.reader() as uow:
            loan = servicing_queries.loan_view(uow, listing_id, platform.clock.today())
            handling = servicing_queries.default_book(uow, listing_id)
    except NotFound:
        raise _not_found() from None
    return render(request, "operator/loan.html", {
        "loan": loan, "handling": handling[0] if handling else None,
        **chrome(request, user, "loans")})


@router.get("/collections/{borrower_id}")
def collections_page(request: Request, borrower_id: RowId, user: LoanReader) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        log = [servicing_queries.contact_view(r)
               for r in collections.contact_log(uow, borrower_id)]
    return render(request, "operator/collections.html", {
        "borrower_id": borrower_id, "log": log, **chrome(request, user, "loans")})


# --- payment exceptions ---------------------------------------------------------------------
def _exceptions_page(request: Request, user: UserView, status: str, *,
                     error: dict[str, Any] | None = None, form: dict[str, str] | None = None,
                     code: int = 200) -> Response:
    platform = platform_of(request)
    done = request.query_params.get("done", "")
    outcome = None
    with platform.reader() as uow:
        items = [e.as_dict() for e in reconciliation.list_exceptions(uow, status=status)]
        if done.isdigit():
            outcome = next((e.as_dict() for e in reconciliation.list_exceptions(
                uow, status="resolved", limit=1000) if e.id == int(done)), None)
        recon = reconciliation.recent_results(uow, platform.clock.today())
    for item in items:
        item["page_actions"] = [a for a in item["actions"] if a in PAGE_ACTIONS]
    return render(request, "operator/exceptions.html", {
        "items": items, "status": status, "error": error, "form": form or {},
        "done": done if done.isdigit() else None, "outcome": outcome, "recon": recon,
        **chrome(request, user, "exceptions")}, code)


@router.get("/payments/exceptions")
def exceptions_page(request: Request, user: PaymentsReader, status: str = "open") -> Response:
    return _exceptions_page(request, user, "resolved" if status == "resolved" else "open")


@router.post("/payments/exceptions")
def resolve_exception(request: Request, user: PaymentsReader, form: Form,
                      gateway: GatewayDep) -> Response:
    """Resolve an open exception with a reason. A refund is checked, then the gateway pays
    the money back to the payer, then the books close the exception (as the API does)."""
    require_act(request, user, "exceptions")
    platform = platform_of(request)
    values = form_values(form)
    action = values.get("action", "")
    lang = i18n.language_of(request)
    try:
        exception_id = int(values.get("exception_id", ""))
    except ValueError:
        raise _not_found() from None
    try:
        if action not in PAGE_ACTIONS:
            raise InvalidInput(i18n.translate(lang, "op.error.action"), field="action")
        cmd = reconciliation.Resolve(exception_id, action, values.get("reason", ""))
        refund = None
        if action == "refund":
            if values.get("confirm") != "yes":
                raise InvalidInput(i18n.translate(lang, "op.exc.confirm_needed"),
                                   field="confirm")
            ask = in_transaction(platform.uow,
                                 lambda uow: reconciliation.refund_request(uow, cmd))
            refund = gateway.refund(ask.refund_no, ask.original_txn_id, ask.amount)
        merchant = platform.settings.gateway_merchant_id
        in_transaction(platform.uow, lambda uow: reconciliation.resolve(
            uow, cmd, actor_id=user.id, merchant_id=merchant, refund=refund))
    except NotFound:
        raise _not_found() from None
    except BiaodiError as exc:
        return _exceptions_page(request, user, "open", code=exc.status, form=values,
                                error=refusal(request, exc) | {"id": exception_id})
    return redirect(f"/operator/payments/exceptions?done={exception_id}")


# --- the blacklist ----------------------------------------------------------------------------
def _blacklist_page(request: Request, user: UserView, *, show_all: bool = False,
                    error: dict[str, Any] | None = None, form: dict[str, str] | None = None,
                    code: int = 200) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        found = blacklist.browse(uow, active_only=not show_all, page_size=100)
    done = request.query_params.get("done")
    return render(request, "operator/blacklist.html", {
        "items": found["items"], "show_all": show_all, "error": error, "form": form or {},
        "kinds": BLACKLIST_KINDS,
        "done": f"op.bl.done.{done}" if done in ("added", "removed") else None,
        **chrome(request, user, "blacklist")}, code)


@router.get("/risk/blacklist")
def blacklist_page(request: Request, user: BlacklistReader, all: str = "") -> Response:
    return _blacklist_page(request, user, show_all=all == "1")


@router.post("/risk/blacklist")
def change_blacklist(request: Request, user: BlacklistReader, form: Form) -> Response:
    """Add a value (with a note) or remove an entry (with a reason): `op` says which."""
    require_act(request, user, "blacklist")
    platform = platform_of(request)
    values = form_values(form)
    op = values.get("op", "")
    try:
        if op == "add":
            settings = platform.settings
            pack = load_pack(settings.risk_rule_pack or settings.compliance_profile)
            cmd = blacklist.AddEntry(kind=values.get("kind", ""), value=values.get("value", ""),
                                     reason=values.get("reason", "manual"),
                                     note=values.get("note", ""))
            in_transaction(platform.uow, lambda uow: blacklist.add(
                uow, cmd, cipher=platform.cipher, pack=pack, actor_id=user.id))
            done = "added"
        elif op == "remove":
            entry_id = int(values.get("entry_id", "0") or 0)
            in_transaction(platform.uow, lambda uow: blacklist.remove(
                uow, entry_id, actor_id=user.id, reason=values.get("reason", "")))
            done = "removed"
        else:
            raise InvalidInput(i18n.translate(i18n.language_of(request), "op.error.action"),
                               field="op")
    except NotFound:
        raise _not_found() from None
    except BiaodiError as exc:
        values.pop("value", None)  # a personal number is not echoed back into the page
        return _blacklist_page(request, user, error=refusal(request, exc) | {"op": op},
                               form=values, code=exc.status)
    return redirect(f"/operator/risk/blacklist?done={done}")
