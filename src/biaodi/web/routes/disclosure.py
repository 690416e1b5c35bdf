"""Information disclosure pages (信息披露), public: `/disclosure` (institution and custody
details, the fee schedule, the published monthly reports with a chart of their balances, the
latest major events), `/disclosure/reports/{month}` (every figure beside its formula) and
`/disclosure/events`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from biaodi.domain.shared.errors import BiaodiError, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.disclosure import events, listing, public, report
from biaodi.web import charts, i18n
from biaodi.web.pages import PageError, platform_of, render

router = APIRouter()

#: The complaints figures the page shows, in order (`services/support/tickets.py`).
COMPLAINT_FIGURES = ("received", "resolved", "open", "median_hours_to_resolve",
                     "mean_hours_to_resolve", "decided_after_15_days", "response_target_missed")

i18n.register({
    "disc.nav": ("信息披露", "Disclosure"),
    "disc.title": ("信息披露", "Information disclosure"),
    "disc.intro": ("依据《网络借贷信息中介机构业务活动信息披露指引》披露：机构与存管信息、"
                   "收费标准、每月运营数据（每月前 5 个工作日内披露上月数据）"
                   "及重大事项（发生后 48 小时内）。",
                   "Published under the 2017 disclosure guideline for online lending "
                   "intermediaries: institution and custody details, the fee schedule, monthly "
                   "operating data (by the 5th working day of the next month) and major events "
                   "(within 48 hours)."),
    "disc.sandbox": ("演示环境：以下机构信息并非已备案机构的信息。",
                     "Sandbox: these are not a registered institution's details."),
    "disc.institution": ("机构信息与存管信息", "Institution and custody"),
    "disc.f.name": ("机构名称", "Name"),
    "disc.f.unified_credit_code": ("统一社会信用代码", "Unified social credit code"),
    "disc.f.registered_capital": ("注册资本", "Registered capital"),
    "disc.f.paid_in_capital": ("实缴资本", "Paid-in capital"),
    "disc.f.registered_address": ("注册地址", "Registered address"),
    "disc.f.established_on": ("成立时间", "Established"),
    "disc.f.legal_representative": ("法定代表人", "Legal representative"),
    "disc.f.business_scope": ("经营范围", "Business scope"),
    "disc.f.filing_number": ("备案登记信息", "Filing"),
    "disc.f.icp_licence": ("电信业务经营许可", "ICP licence"),
    "disc.f.custody_bank": ("资金存管银行", "Custody bank"),
    "disc.f.custody_agreement_since": ("存管协议起始", "Custody since"),
    "disc.f.contact": ("联系方式", "Contact"),
    "disc.complaints": ("投诉处理", "Complaints"),
    "disc.c.received": ("受理投诉", "Received"),
    "disc.c.resolved": ("已办结", "Resolved"),
    "disc.c.open": ("处理中", "Open"),
    "disc.c.median_hours_to_resolve": ("办结用时中位数（小时）", "Median hours to resolve"),
    "disc.c.mean_hours_to_resolve": ("平均办结用时（小时）", "Mean hours to resolve"),
    "disc.c.decided_after_15_days": ("超过 15 日办结", "Decided after 15 days"),
    "disc.c.response_target_missed": ("未按时响应", "Response target missed"),
    "disc.complain": ("投诉与客服", "Complain or ask for help"),
    "disc.fees": ("收费标准", "Fee schedule"),
    "disc.fee": ("费用", "Fee"), "disc.kind": ("标的类型", "Listing type"),
    "disc.term_days": ("期限（天）", "Term (days)"), "disc.rate": ("费率", "Rate"),
    "disc.basis": ("计费方式", "Basis"), "disc.payer": ("付费方", "Paid by"),
    "disc.fee.service_fee": ("平台服务费", "Service fee"),
    "disc.fee.transfer_fee": ("债权转让手续费", "Transfer fee"),
    "disc.fee.penalty_interest": ("逾期罚息", "Penalty interest"),
    "disc.fee.guarantee_fee": ("担保费", "Guarantee fee"),
    "disc.reports": ("运营数据（月报）", "Monthly operating reports"),
    "disc.month": ("月份", "Month"), "disc.due": ("截止披露日", "Due"),
    "disc.published": ("披露日", "Published"), "disc.late": ("逾期披露", "Late"),
    "disc.on_time": ("按时", "on time"),
    "disc.tampered": ("存储内容与摘要不符", "stored text does not match its digest"),
    "disc.no_reports": ("尚无已披露的月报。", "No monthly report published yet."),
    "disc.chart": ("各月末借贷余额与逾期金额", "Outstanding principal and overdue at month-end"),
    "disc.outstanding": ("借贷余额", "Outstanding principal"),
    "disc.overdue": ("逾期金额", "Overdue amount"),
    "disc.events": ("重大事项", "Major events"),
    "disc.all_events": ("全部重大事项", "All major events"),
    "disc.no_events": ("尚无重大事项。", "No major event recorded."),
    "disc.happened": ("发生时间", "Happened"), "disc.recorded": ("披露时间", "Published"),
    "disc.late_event": ("超过 48 小时披露", "published over 48 hours later"),
    "disc.report_title": ("{month} 运营数据", "Operating data, {month}"),
    "disc.as_of": ("截至 {day}；截止披露日 {due}；披露日 {published}",
                   "As of {day}; due {due}; published {published}"),
    "disc.figure": ("项目", "Figure"), "disc.value": ("数值", "Value"),
    "disc.formula": ("计算公式", "Formula"),
    "disc.source": ("依据", "Source"),
    "disc.no_report": ("{month} 的月报尚未披露。", "The report on {month} is not published."),
    "disc.back": ("返回信息披露", "Back to disclosure"),
    "disc.ev.shareholder_change": ("股东变更", "shareholder change"),
    "disc.ev.capital_change": ("注册资本变更", "capital change"),
    "disc.ev.executive_change": ("高管变更", "executive change"),
    "disc.ev.litigation": ("涉诉", "litigation"),
    "disc.ev.penalty": ("受到行政处罚", "administrative penalty"),
    "disc.ev.suspension": ("暂停或终止业务", "suspension"),
    "disc.ev.merger": ("合并、分立", "merger or split"),
    "disc.ev.custody_change": ("存管变更", "custody change"),
    "disc.ev.outage": ("重大系统故障", "major outage"),
    "disc.ev.other": ("其他", "other"),
    "disc.borrower": ("借款人及项目信息", "Borrower and loan"),
    "disc.not_assessed": ("该标的未经风控申请定价（运营人员人工批准），借款人申报信息不适用。",
                          "This listing was not priced on a risk application (approved by an "
                          "operator's override): no declared figures to show."),
    "disc.b.name": ("借款人（脱敏）", "Borrower (masked)"),
    "disc.b.type": ("借款人主体性质", "Borrower type"),
    "disc.b.type.natural": ("自然人", "natural person"),
    "disc.b.type.legal": ("法人", "legal person"),
    "disc.b.occupation": ("工作性质", "Occupation"),
    "disc.b.income": ("月收入", "Monthly income"),
    "disc.b.debts": ("负债", "Debts"), "disc.b.monthly": ("月供", "monthly"),
    "disc.b.overdues": ("近 6 个月征信逾期", "Credit-report overdues, last 6 months"),
    "disc.b.bureau_defaults": ("其他平台违约 {n} 笔", "{n} defaults elsewhere"),
    "disc.b.elsewhere": ("在其他网络借贷平台借款", "Borrowing on other platforms"),
    "disc.b.bureau": ("征信查询", "bureau"),
    "disc.b.purpose": ("借款用途", "Purpose"),
    "disc.b.assessment": ("风险评估", "Risk assessment"),
    "disc.b.terms": ("金额、期限、还款方式、利率", "Amount, term, method, rate"),
    "disc.b.interest_start": ("起息日", "Interest starts"),
    "disc.b.source": ("还款来源及保障措施", "Repayment source and safeguards"),
    "disc.b.risk_level": ("风险等级", "Risk level"),
    "disc.yes": ("有", "yes"), "disc.no": ("无", "none"),
    "disc.post_loan": ("借后信息", "After funding"),
    "disc.p.status": ("{funded} 放款；当前 {bucket}，逾期 {days} 天。",
                      "Funded {funded}; now {bucket}, {days} days past due."),
    "disc.p.missing": ("尚未披露", "not yet published"),
    "disc.p.none_yet": ("首次借后信息在放款满 3 个月后披露。",
                        "The first update is due 3 months after funding."),
})


def _value(figure: dict[str, Any]) -> str:
    value = figure["value"]
    if value is None:
        return "–"
    if figure["unit"] == "fen":
        return f"¥{i18n.money(Money(int(value)).decimal)}"
    if figure["unit"] == "rate":
        return f"{(Decimal(value) * 100).quantize(Decimal('0.01'))}%"
    return f"{value:,}"


def _chart(lang: str, reports: list[report.Published]) -> dict[str, Any] | None:
    if not reports:
        return None
    ordered = sorted(reports, key=lambda r: r.month)
    values = [{f["key"]: f["value"] for f in r.content["figures"]} for r in ordered]
    months = [r.month for r in ordered]
    t = lambda key: i18n.translate(lang, key)  # noqa: E731
    return charts.bar_chart(months, [
        charts.money_series(t("disc.outstanding"),
                            [Money(int(v["outstanding_principal"])) for v in values]),
        charts.money_series(t("disc.overdue"), [Money(int(v["overdue_amount"])) for v in values]),
    ], lang=lang, stacked=False)


@router.get("/disclosure")
def disclosure_page(request: Request) -> Response:
    lang = i18n.language_of(request)
    platform = platform_of(request)
    shown: list[report.Published] = []
    with platform.reader() as uow:
        listed = report.published(uow)
        for r in listed[:12]:
            try:
                shown.append(report.get(uow, r["month"]))
            except BiaodiError:  # its stored text no longer matches its digest
                r["tampered"] = True
        recent = events.events(uow, limit=10)
        complaints = public.complaints(uow)
    institution = public.institution_view(platform.settings)
    return render(request, "disclosure/index.html", {
        "institution": [(i18n.translate(lang, f"disc.f.{k}"), v)
                        for k, v in institution.items() if k != "sandbox"],
        "sandbox": institution["sandbox"], "fees": public.fee_schedule(platform.settings),
        "reports": listed, "figure": _chart(lang, shown), "events": recent,
        "complaints": [(i18n.translate(lang, f"disc.c.{k}"), "—" if complaints[k] is None
                        else complaints[k]) for k in COMPLAINT_FIGURES]})


@router.get("/disclosure/reports/{month}")
def report_page(request: Request, month: str) -> Response:
    lang = i18n.language_of(request)
    try:
        with platform_of(request).reader() as uow:
            found = report.get(uow, month)
    except BiaodiError:
        raise PageError(404, "disc.title", "disc.no_report", month=month[:7]) from None
    zh = lang == "zh-CN"
    rows = [{"label": f["label_zh"] if zh else f["label_en"], "value": _value(f),
             "formula": f["formula_zh"] if zh else f["formula_en"], "key": f["key"]}
            for f in found.content["figures"]]
    return render(request, "disclosure/report.html", {
        "report": found, "rows": rows, "fees": found.content["fee_schedule"],
        "source": found.content["source"]})


@router.get("/disclosure/events")
def events_page(request: Request) -> Response:
    with platform_of(request).reader() as uow:
        recent = events.events(uow, limit=500)
    return render(request, "disclosure/events.html", {"events": recent})


def for_listing(request: Request, listing_id: int) -> dict[str, Any] | None:
    """What the listing page shows under the guideline: the borrower's items and the
    post-loan updates; None while the listing is not open to investors."""
    try:
        with platform_of(request).reader() as uow:
            return listing.disclosure(uow, listing_id)
    except NotFound:
        return None
