"""The operator console: the review queue, a listing under review (approve with an optional
risk override, reject with a reason, publish with auto-invest, the O2O steps of a pledged
house). Close of business, the overdue book, payment exceptions and the blacklist are in
`operator_books`. Every page checks the role on the server; risk officers and auditors read,
operators act."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import BiaodiError, InvalidInput, NotFound
from biaodi.services.accounts.users import UserView
from biaodi.services.investing import auto_invest
from biaodi.services.listings import lifecycle
from biaodi.services.listings import queries as listing_queries
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
from biaodi.web.routes import operator_books

router = APIRouter(prefix="/operator")

#: What a listing still lacks before publishing (services/listings/queries.review), by the
#: domain's message (domain/listings/collateral, guarantee, transfer).
GAP_PATTERNS = refusals.patterns(
    ("op.gap.appraisal_age", r"asset (?P<n>\d+) \(\w+\): appraisal is (?P<age>\d+) days old,"
     r" at most (?P<oldest>\d+) allowed"),
    ("op.gap.signed_contract", r"asset (?P<n>\d+) \(\w+\): signed contract not recorded"),
    ("op.gap.notarisation", r"asset (?P<n>\d+) \(\w+\): notarisation not recorded"),
    ("op.gap.mortgage_registration", r"asset (?P<n>\d+) \(\w+\): mortgage registration not"
     r" recorded"),
    ("op.gap.mortgage_certificate", r"asset (?P<n>\d+) \(\w+\): mortgage certificate number"
     r" missing"),
    ("op.gap.vehicle", r"asset (?P<n>\d+) \(\w+\): vehicle registration \(plate and"
     r" certificate number\) not recorded"),
    ("op.gap.plate", r"asset (?P<n>\d+) \(\w+\): plate number missing"),
    ("op.gap.vehicle_certificate", r"asset (?P<n>\d+) \(\w+\): registration certificate"
     r" number missing"),
    ("op.gap.guarantor_capacity", r"guarantor capacity (?P<capacity>\S+) of .* is exceeded:"
     r" outstanding (?P<outstanding>\S+) \+ amount (?P<amount>\S+) = \S+, short by"
     r" (?P<short>\S+)$"),
    ("op.gap.reserve", r"buy-back reserve (?P<balance>\S+) is short by (?P<short>\S+) of the"
     r" (?P<needed>\S+) required \((?P<ratio>[^)]+) of the amount\)"),
)

#: Staff who may read the console; only operators act.
READERS = ("operator", "risk_officer", "auditor")
Reader = Annotated[UserView, Depends(require_role(*READERS))]

MESSAGES: dict[str, tuple[str, str]] = {
    "role.risk_officer": ("风控专员", "Risk officer"),
    "role.auditor": ("审计人员", "Auditor"),
    "op.tab.review": ("借款审核", "Review"),
    "op.tab.close_day": ("日终批处理", "Close of business"),
    "op.tab.loans": ("逾期资产", "Overdue book"),
    "op.tab.exceptions": ("支付异常", "Payment exceptions"),
    "op.tab.blacklist": ("黑名单", "Blacklist"),
    "op.read_only": ("您以{role}身份只读查看，操作须由运营人员完成。",
                     "You are reading as {role}; operators make the changes."),
    "op.approved_waiting": ("已审核、待发布", "Approved, waiting to be published"),
    "op.open": ("审核", "Review"),
    "op.applicant": ("申请人", "Applicant"),
    "op.listing.title": ("审核借款申请 #{id}", "Review listing #{id}"),
    "op.back": ("返回审核队列", "Back to the review queue"),
    "op.terms": ("借款条件", "Terms"),
    "op.risk": ("申请人的风控结论", "The applicant's risk decision"),
    "op.risk.none_needed": ("流转标的申请人为债权转让方，无须借款人风控结论。",
                            "A transfer listing's applicant originates the claim: no borrower "
                            "risk decision applies."),
    "op.risk.missing": ("风控尚未对申请人作出结论。", "Risk control has not decided on the "
                        "applicant."),
    "op.risk.outcome": ("结论", "Outcome"),
    "op.outcome.approved": ("通过", "approved"),
    "op.outcome.refused": ("拒绝", "refused"),
    "op.outcome.referred": ("转人工审核", "referred to a risk officer"),
    "op.repay_total": ("应还总额（含费用）", "To repay in all, with fees"),
    "op.risk.grade": ("信用等级", "Grade"),
    "op.risk.band": ("利率区间", "Rate band"),
    "op.risk.limit": ("授信额度", "Credit limit"),
    "op.risk.decided_at": ("决定时间", "Decided"),
    "op.risk.application": ("风控申请", "Application"),
    "op.risk.problem": ("不能据此审核通过：", "Approval cannot rest on it: "),
    "op.security": ("担保措施", "Security"),
    "op.asset": ("抵押物", "Pledged asset"),
    "op.appraisal": ("评估价值", "Appraised value"),
    "op.appraiser": ("评估机构", "Appraiser"),
    "op.guarantor": ("担保方", "Guarantor"),
    "op.capacity": ("担保额度", "Capacity"),
    "op.outstanding": ("已担保余额", "Guaranteed now"),
    "op.headroom": ("剩余额度", "Capacity left"),
    "op.claim": ("转让债权", "Claim sold"),
    "op.gaps": ("发布前尚缺：", "Still missing before publishing:"),
    "op.gap.appraisal_age": ("抵押物 {n}：评估报告已出具 {age} 天，最长 {oldest} 天",
                             "Asset {n}: the appraisal is {age} days old, at most {oldest}"),
    "op.gap.signed_contract": ("抵押物 {n}：尚未登记借款合同签订", "Asset {n}: the signed "
                               "contract is not recorded"),
    "op.gap.notarisation": ("抵押物 {n}：尚未登记公证", "Asset {n}: the notarisation is not "
                            "recorded"),
    "op.gap.mortgage_registration": ("抵押物 {n}：尚未登记抵押登记", "Asset {n}: the mortgage "
                                     "registration is not recorded"),
    "op.gap.mortgage_certificate": ("抵押物 {n}：抵押登记缺少登记证明编号", "Asset {n}: the "
                                    "mortgage certificate number is missing"),
    "op.gap.vehicle": ("抵押物 {n}：尚未登记机动车抵押（车牌号和登记证书编号）", "Asset {n}: "
                       "the vehicle registration (plate and certificate number) is not "
                       "recorded"),
    "op.gap.plate": ("抵押物 {n}：缺少车牌号", "Asset {n}: the plate number is missing"),
    "op.gap.vehicle_certificate": ("抵押物 {n}：缺少机动车登记证书编号", "Asset {n}: the "
                                   "registration certificate number is missing"),
    "op.gap.guarantor_capacity": ("担保方担保额度 ¥{capacity} 不足：已担保 ¥{outstanding}，"
                                  "加上本笔 ¥{amount}，尚差 ¥{short}",
                                  "The guarantor's capacity of ¥{capacity} is exceeded: "
                                  "¥{outstanding} guaranteed plus ¥{amount}, short by "
                                  "¥{short}"),
    "op.gap.reserve": ("回购准备金 ¥{balance} 不足，应有 ¥{needed}（借款金额的 {ratio}），"
                       "尚差 ¥{short}",
                       "The buy-back reserve of ¥{balance} is short by ¥{short} of the "
                       "¥{needed} required ({ratio} of the amount)"),
    "op.o2o": ("线下办理（O2O）", "Offline steps (O2O)"),
    "op.step.signed_contract": ("签订借款合同", "Signed contract"),
    "op.step.notarisation": ("公证", "Notarisation"),
    "op.step.mortgage_registration": ("抵押登记", "Mortgage registration"),
    "op.step.pending": ("未办理", "Not recorded"),
    "op.step.done": ("{day} 已办理（编号 {reference}）", "done {day} (ref. {reference})"),
    "op.step.record": ("登记线下步骤", "Record an offline step"),
    "op.step.step": ("步骤", "Step"),
    "op.step.done_on": ("办理日期", "Done on"),
    "op.step.reference": ("合同或证书编号", "Contract or certificate number"),
    "op.step.reference_hint": ("抵押登记须填写不动产登记证明号",
                               "A mortgage registration needs its certificate number"),
    "op.decide": ("审核决定", "Decision"),
    "op.reason": ("审核意见", "Reason"),
    "op.approve": ("审核通过", "Approve"),
    "op.override_reason": ("风控特批理由（仅在缺少有效风控结论时填写）",
                           "Risk override reason (only without a valid risk decision)"),
    "op.override_hint": ("须具备“风控特批”权限；理由记入审核历史。",
                         "Needs the risk override permission; the reason is kept in the "
                         "history."),
    "op.reject": ("拒绝", "Reject"),
    "op.reject_reason": ("拒绝理由", "Reason for rejecting"),
    "op.publish": ("发布（自动投标随即执行）", "Publish (auto-invest runs at once)"),
    "op.publish_reason": ("发布说明", "Note"),
    "op.refused": ("操作未执行", "Not done"),
    "op.rule": ("依据规则 {rule}", "Rule {rule}"),
    "op.done.approved": ("已审核通过。", "Approved."),
    "op.done.rejected": ("已拒绝。", "Rejected."),
    "op.done.published": ("已发布，自动投标已执行。", "Published; auto-invest has run."),
    "op.done.step": ("线下步骤已登记。", "Offline step recorded."),
    "op.error.reason": ("请填写理由（至少 4 个字）", "Give a reason (at least 4 characters)"),
    "op.error.date": ("请填写有效日期（YYYY-MM-DD）", "A valid date (YYYY-MM-DD)"),
    "op.error.action": ("未知操作", "Unknown action"),
    "op.code.risk_decision_required": ("缺少风控结论", "No risk decision"),
    "op.code.risk_decision_stale": ("风控结论已过期", "The risk decision is too old"),
    "op.code.risk_not_approved": ("风控未通过", "Risk control did not approve"),
    "op.code.role_required": ("权限不足", "Permission needed"),
    "op.code.compliance_violation": ("违反合规规则", "Breaks a compliance rule"),
    "op.code.not_publishable": ("尚不满足发布条件", "Not ready to publish"),
    "op.code.invalid_input": ("输入有误", "Invalid input"),
    "op.code.conflict": ("当前状态不允许", "Not allowed in the current state"),
    "op.history": ("审核历史", "History"),
    "op.yes": ("是", "yes"),
}
i18n.register(MESSAGES)

router.include_router(operator_books.router)


def _review(request: Request, listing_id: RowId) -> dict[str, Any]:
    platform = platform_of(request)
    try:
        with platform.reader() as uow:
            return listing_queries.review(uow, listing_id, platform.listing_rules)
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None


@router.get("")
def console(request: Request, user: Reader) -> Response:
    platform = platform_of(request)
    queues = {}
    with platform.reader() as uow:
        for status in ("submitted", "approved"):
            f = listing_queries.ListingFilter(statuses=(status,), sort="published_at",
                                              page_size=50)
            queues[status] = listing_queries.browse(uow, f, platform.listing_rules)
    return render(request, "operator/console.html", {
        "queue": queues["submitted"], "approved": queues["approved"],
        **operator_books.chrome(request, user, "review")})


@router.get("/listings/{listing_id}")
def listing_page(request: Request, listing_id: RowId, user: Reader,
                 done: str | None = None) -> Response:
    return _listing_page(request, user, listing_id, done=done)


def _listing_page(request: Request, user: UserView, listing_id: RowId, *,
                  done: str | None = None, error: dict[str, Any] | None = None,
                  form: dict[str, str] | None = None, status: int = 200) -> Response:
    item = _review(request, listing_id)
    if item.get("risk_problem"):
        item["risk_problem"]["message"] = refusals.say(request, item["risk_problem"])
    for gap in item.get("publish_gaps", ()):
        gap["message"] = refusals.say(request, gap, own_patterns=GAP_PATTERNS)
    done_key = f"op.done.{done}" if done else None
    return render(request, "operator/listing.html", {
        "item": item, "error": error, "form": form or {},
        "done": done_key if done_key in i18n.MESSAGES else None,
        "steps": lifecycle.OFFLINE_STEPS, "today": platform_of(request).clock.today(),
        **operator_books.chrome(request, user, "review")}, status)


@router.post("/listings/{listing_id}")
def act_on_listing(request: Request, listing_id: RowId, user: Reader, form: Form) -> Response:
    """Approve, reject, publish or record an O2O step: the form's `action` says which."""
    operator_books.require_operator(request, user)
    platform = platform_of(request)
    values = form_values(form)
    action = values.get("action", "")
    reason = values.get("reason", "")
    try:
        if action == "approve":
            override = values.get("override_reason") or None
            in_transaction(platform.uow, lambda uow: lifecycle.approve(
                uow, listing_id, actor_id=user.id, reason=reason,
                rules=platform.listing_rules, override_reason=override))
            done = "approved"
        elif action == "reject":
            if len(reason) < 4:
                raise InvalidInput(i18n.translate(i18n.language_of(request),
                                                  "op.error.reason"), field="reason")
            in_transaction(platform.uow, lambda uow: lifecycle.reject(
                uow, listing_id, actor_id=user.id, reason=reason))
            done = "rejected"
        elif action == "publish":
            in_transaction(platform.uow, lambda uow: auto_invest.publish(
                uow, listing_id, actor_id=user.id, reason=reason,
                rules=platform.investing_rules))
            done = "published"
        elif action == "offline_step":
            done_on = _date(request, values.get("done_on", ""))
            asset_id = int(values.get("asset_id", "0") or 0)
            in_transaction(platform.uow, lambda uow: lifecycle.record_offline_step(
                uow, listing_id, asset_id, step=values.get("step", ""), done_on=done_on,
                reference=values.get("reference", ""), operator_id=user.id))
            done = "step"
        else:
            raise InvalidInput(i18n.translate(i18n.language_of(request), "op.error.action"),
                               field="action")
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    except BiaodiError as exc:
        error = operator_books.refusal(request, exc) | {"action": action}
        return _listing_page(request, user, listing_id, error=error, form=values,
                             status=exc.status)
    return redirect(f"/operator/listings/{listing_id}?done={done}")


def _date(request: Request, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(i18n.translate(i18n.language_of(request), "op.error.date"),
                           field="done_on") from None
