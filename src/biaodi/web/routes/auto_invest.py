"""The investor's auto-invest pages (/me/auto-invest): their standing rules (listing types,
grade range, lowest rate, longest term, amount per listing, cash reserve, total cap, on or
paused), a form to create or change one with errors next to the fields, pause, resume and
delete, and the allocation log: what the engine invested for them, or why it skipped."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import BiaodiError, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.investing import auto_invest, queries
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import Form, PageError, platform_of, redirect, render, require_role

router = APIRouter()
InvestorUser = Annotated[UserView, Depends(require_role("investor"))]
KINDS = ("credit", "collateral", "guarantee", "transfer", "instant")
GRADES = auto_invest.GRADES
MONEY_FIELDS = ("amount_per_listing", "cash_reserve", "total_cap", "rule_cap")
FIELDS = (*MONEY_FIELDS, "min_rate", "max_term_months", "best_grade", "worst_grade")

#: This page module's messages, registered under "auto.".
MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("自动投标", "Auto-invest"),
    "intro": ("新标的发布时，平台先按您的规则自动出借（不超过标的金额的 70%），"
              "再开放手动出借。出借人按上次获配的先后排队，每人每标最多按规则金额出借。",
              "When a listing is published, your rules invest in it before manual investing "
              "opens (at most 70 % of the listing). Investors queue by when they were last "
              "served; each gets at most their rule's amount per listing."),
    "link": ("自动投标设置", "Auto-invest settings"),
    "rules": ("我的规则", "My rules"),
    "rules.empty": ("还没有自动投标规则。", "No auto-invest rule yet."),
    "new": ("新建规则", "New rule"),
    "edit": ("修改规则 #{id}", "Change rule #{id}"),
    "rule": ("规则", "Rule"),
    "criteria": ("条件", "Criteria"),
    "state": ("状态", "State"),
    "state.on": ("启用中", "On"),
    "state.paused": ("已暂停", "Paused"),
    "actions": ("操作", "Actions"),
    "do.edit": ("修改", "Change"),
    "do.pause": ("暂停", "Pause"),
    "do.resume": ("恢复", "Resume"),
    "do.delete": ("删除", "Delete"),
    "do.save": ("保存规则", "Save the rule"),
    "do.cancel": ("返回", "Back"),
    "saved": ("规则 #{id} 已保存。", "Rule #{id} saved."),
    "paused": ("规则 #{id} 已暂停。", "Rule #{id} paused."),
    "resumed": ("规则 #{id} 已恢复。", "Rule #{id} is on again."),
    "deleted": ("规则 #{id} 已删除。", "Rule #{id} deleted."),
    "field.kinds": ("标的类型", "Listing types"),
    "field.kinds.hint": ("不选即为全部类型", "None ticked: every type"),
    "field.best_grade": ("最高信用等级", "Best grade"),
    "field.worst_grade": ("最低信用等级", "Worst grade"),
    "field.any_grade": ("不限", "Any"),
    "field.grades.hint": ("A 最好，HR 最差；设了等级的规则不投无等级的标的。",
                          "A is best, HR worst; a rule with a grade skips ungraded listings."),
    "field.min_rate": ("最低年利率（%）", "Lowest annual rate (%)"),
    "field.max_term_months": ("最长期限（月）", "Longest term (months)"),
    "field.amount_per_listing": ("每标出借金额（元）", "Amount per listing (yuan)"),
    "field.draw_on_cash_wallet": ("余额不足时，从零钱理财快速赎回补足（每日上限 1 万元）",
                                  "When the wallet is short, top it up by an instant redemption"
                                  " from the cash wallet (at most ¥10,000 a day)"),
    "field.cash_reserve": ("账户保留金额（元）", "Cash to keep in the wallet (yuan)"),
    "field.cash_reserve.hint": ("可用余额低于此数时不再自动出借", "Auto-invest stops above "
                                "this much available cash"),
    "field.total_cap": ("待收本金上限（元，可不填）", "Cap on principal outstanding (yuan, "
                        "optional)"),
    "field.rule_cap": ("本规则出借上限（元，可不填）", "Cap on this rule's investments (yuan, "
                       "optional)"),
    "field.rule_cap.hint": ("本规则投出、尚未收回的本金不超过此数；“待收本金上限”则计您的全部出借",
                            "This rule's own principal not yet repaid stays within it; the cap on "
                            "principal outstanding counts all you have lent"),
    "field.enabled": ("保存后立即启用", "On once saved"),
    "any": ("全部", "any"),
    "summary.kinds": ("类型：{kinds}", "types: {kinds}"),
    "summary.grades": ("等级 {best}–{worst}", "grades {best}–{worst}"),
    "summary.rate": ("年利率 ≥ {rate}%", "rate ≥ {rate} %"),
    "summary.term": ("期限 ≤ {months} 个月", "term ≤ {months} months"),
    "summary.amount": ("每标 ¥{amount}", "¥{amount} per listing"),
    "summary.reserve": ("保留 ¥{amount}", "keep ¥{amount}"),
    "summary.cap": ("待收上限 ¥{amount}", "outstanding up to ¥{amount}"),
    "summary.rule_cap": ("本规则上限 ¥{amount}", "this rule up to ¥{amount}"),
    "log": ("最近的自动投标记录", "Recent auto-invest allocations"),
    "log.empty": ("自动投标尚未为您处理过标的。", "Auto-invest has not considered you for a "
                  "listing yet."),
    "log.when": ("时间", "When"),
    "log.listing": ("标的", "Listing"),
    "log.position": ("排队位次", "Queue position"),
    "log.amount": ("出借金额", "Invested"),
    "log.result": ("结果", "Result"),
    "log.allocated": ("已出借（规则 #{rule}）", "Invested (rule #{rule})"),
    "log.skipped": ("未出借：{why}", "Skipped: {why}"),
    "why.below": ("受“{binding}”限制，可投金额 ¥{amount} 低于起投金额",
                  "after the {binding}, ¥{amount} is below the minimum ticket"),
    "why.refused": ("出借被拒：{detail}", "refused: {detail}"),
    "binding.rule amount": ("每标出借金额", "rule's amount per listing"),
    "binding.cash above reserve": ("可用余额扣除保留金额", "cash above your reserve"),
    "binding.auto-invest share left": ("自动投标剩余份额", "auto-invest share left"),
    "binding.per-investor cap": ("单人出借上限", "per-investor cap"),
    "binding.rule total cap": ("待收本金上限", "rule's cap on principal outstanding"),
    "binding.rule cap": ("本规则出借上限", "cap on this rule's investments"),
    "error.money": ("请输入正数金额，最多两位小数，如 1000 或 1000.50",
                    "Enter a positive amount with at most two decimals, e.g. 1000 or 1000.50"),
    "error.reserve": ("请输入 0 或正数金额，最多两位小数", "Enter 0 or a positive amount with at "
                      "most two decimals"),
    "error.min_rate": ("请输入 0 到 100 之间的百分数，最多四位小数，如 8.5",
                       "Enter a percentage from 0 to below 100, at most four decimals, e.g. 8.5"),
    "error.max_term_months": ("请输入 1 到 360 之间的整数月数", "Enter whole months from 1 to 360"),
    "error.grade_order": ("最高信用等级不能比最低信用等级差（A 最好，HR 最差）",
                          "The best grade cannot be worse than the worst grade (A best, HR "
                          "worst)"),
    "error.grade": ("请选择列表中的等级", "Choose a grade from the list"),
    "error.kinds": ("请选择列表中的标的类型", "Choose listing types from the list"),
}
i18n.register({f"auto.{key}": text for key, text in MESSAGES.items()})

_BELOW = re.compile(r"^below the minimum ticket after (?P<binding>.+) \((?P<amount>-?[\d.]+)\)$")


def _why(lang: str, reason: str) -> str:
    """A skipped line's reason, as the engine logged it, in the page's language."""
    found = _BELOW.match(reason)
    if found and f"auto.binding.{found['binding']}" in i18n.MESSAGES:
        return i18n.translate(lang, "auto.why.below", amount=i18n.money(found["amount"]),
                              binding=i18n.translate(lang, f"auto.binding.{found['binding']}"))
    return i18n.translate(lang, "auto.why.refused", detail=reason)


def _summary(lang: str, rule: dict[str, Any]) -> list[str]:
    def t(key: str, **values: Any) -> str:
        return i18n.translate(lang, f"auto.summary.{key}", **values)

    sep = "、" if lang == "zh-CN" else ", "
    kinds = sep.join(i18n.translate(lang, f"kind.{k}") for k in rule["kinds"]) or \
        i18n.translate(lang, "auto.any")
    parts = [t("kinds", kinds=kinds)]
    if rule["best_grade"] or rule["worst_grade"]:
        parts.append(t("grades", best=rule["best_grade"] or "A",
                       worst=rule["worst_grade"] or "HR"))
    if Decimal(rule["min_rate"]):
        parts.append(t("rate", rate=rule["min_rate"]))
    parts.append(t("term", months=rule["max_term_months"]))
    parts.append(t("amount", amount=i18n.money(rule["amount_per_listing"])))
    if Money.parse(rule["cash_reserve"], allow_zero=True).fen:
        parts.append(t("reserve", amount=i18n.money(rule["cash_reserve"])))
    if rule["total_cap"]:
        parts.append(t("cap", amount=i18n.money(rule["total_cap"])))
    if rule["rule_cap"]:
        parts.append(t("rule_cap", amount=i18n.money(rule["rule_cap"])))
    return parts


@router.get("/me/auto-invest")
def rules_page(request: Request, user: InvestorUser, done: str = "", rule: int = 0) -> Response:
    platform = platform_of(request)
    lang = i18n.language_of(request)
    with platform.reader() as uow:
        rules = queries.auto_invest_rules_of(uow, user.id)
        log = queries.auto_invest_log_of(uow, user.id)
    for item in rules:
        item["summary"] = _summary(lang, item)
    for line in log:
        line["result"] = (
            i18n.translate(lang, "auto.log.allocated", rule=line["rule_id"])
            if line["outcome"] == "allocated" else
            i18n.translate(lang, "auto.log.skipped", why=_why(lang, line["reason"])))
    notice = (i18n.translate(lang, f"auto.{done}", id=rule)
              if done in ("saved", "paused", "resumed", "deleted") and rule else None)
    return render(request, "investor/auto_invest.html", {
        "rules": rules, "log": log, "notice": notice})


# --- the rule form ------------------------------------------------------------------------
def _values_of(rule: dict[str, Any]) -> dict[str, Any]:
    return {"amount_per_listing": rule["amount_per_listing"],
            "cash_reserve": rule["cash_reserve"], "total_cap": rule["total_cap"] or "",
            "rule_cap": rule["rule_cap"] or "",
            "min_rate": "" if not Decimal(rule["min_rate"]) else rule["min_rate"],
            "max_term_months": str(rule["max_term_months"]),
            "best_grade": rule["best_grade"] or "", "worst_grade": rule["worst_grade"] or "",
            "kinds": list(rule["kinds"]), "enabled": rule["active"],
            "draw_on_cash_wallet": rule["draw_on_cash_wallet"]}


def _form_page(request: Request, rule_id: RowId | None, values: dict[str, Any],
               errors: dict[str, str], status: int = 200) -> Response:
    return render(request, "investor/auto_invest_form.html", {
        "rule_id": rule_id, "values": values, "errors": errors, "kinds": KINDS,
        "grades": GRADES}, status)


def _parse(request: Request, form: Any) -> tuple[dict[str, Any], auto_invest.RuleInput | None,
                                                 dict[str, str]]:
    """The posted form: the values as typed (to show again), the rule if they are good, and
    the errors by field."""
    lang = i18n.language_of(request)
    values: dict[str, Any] = {name: str(form.get(name, "")).strip()[:40] for name in FIELDS}
    values["kinds"] = [str(k) for k in form.getlist("kinds")][:len(KINDS)]
    values["enabled"] = form.get("enabled") == "on"
    values["draw_on_cash_wallet"] = form.get("draw_on_cash_wallet") == "on"
    errors: dict[str, str] = {}

    def say(field: str, key: str) -> None:
        errors.setdefault(field, i18n.translate(lang, f"auto.error.{key}"))

    ceiling = platform_of(request).settings.money_ceiling_fen
    amounts: dict[str, Money | None] = {}
    for name in MONEY_FIELDS:
        text = values[name]
        if name != "amount_per_listing" and not text:
            amounts[name] = None
            continue
        try:
            amounts[name] = Money.parse(text, field=name, ceiling_fen=ceiling,
                                        allow_zero=name == "cash_reserve")
        except InvalidInput:
            say(name, "reserve" if name == "cash_reserve" else "money")
    min_rate = Decimal(0)
    if values["min_rate"]:
        try:
            min_rate = Decimal(values["min_rate"])
            if (not min_rate.is_finite() or not 0 <= min_rate < 100
                    or min_rate.as_tuple().exponent < -4):  # type: ignore[operator]
                raise InvalidOperation
        except InvalidOperation:
            say("min_rate", "min_rate")
    text = values["max_term_months"]
    if not (text.isdigit() and 1 <= int(text) <= 360):
        say("max_term_months", "max_term_months")
    for name in ("best_grade", "worst_grade"):
        if values[name] and values[name] not in GRADES:
            say(name, "grade")
    if any(k not in KINDS for k in values["kinds"]):
        say("kinds", "kinds")
    best, worst = values["best_grade"], values["worst_grade"]
    if best in GRADES and worst in GRADES and GRADES.index(best) > GRADES.index(worst):
        say("best_grade", "grade_order")
    if errors:
        return values, None, errors
    cmd = auto_invest.RuleInput(
        amount_per_listing=amounts["amount_per_listing"] or Money.zero(),
        kinds=tuple(values["kinds"]), best_grade=best or None, worst_grade=worst or None,
        min_rate=min_rate / 100, max_term_months=int(text),
        cash_reserve=amounts["cash_reserve"] or Money.zero(), total_cap=amounts["total_cap"],
        rule_cap=amounts["rule_cap"], draw_on_cash_wallet=values["draw_on_cash_wallet"])
    return values, cmd, errors


SERVICE_FIELDS = {"amount_per_listing": "money", "total_cap": "money", "rule_cap": "money",
                  "cash_reserve": "reserve",
                  "min_rate": "min_rate", "max_term_months": "max_term_months",
                  "best_grade": "grade_order", "worst_grade": "grade", "kinds": "kinds"}


def _save(request: Request, user: UserView, form: Any, rule_id: RowId | None) -> Response:
    lang = i18n.language_of(request)
    values, cmd, errors = _parse(request, form)
    if cmd is None:
        return _form_page(request, rule_id, values, errors, 422)
    platform = platform_of(request)
    try:
        saved = in_transaction(platform.uow, lambda uow: auto_invest.save_rule(
            uow, user.id, cmd, rule_id, active=values["enabled"]).id)
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    except BiaodiError as refusal:  # the service's own checks, in the page's words
        field = refusal.field if refusal.field in SERVICE_FIELDS else "amount_per_listing"
        key = SERVICE_FIELDS.get(refusal.field or "")
        said = (i18n.translate(lang, f"auto.error.{key}") if key
                else refusals.say(request, refusal))
        return _form_page(request, rule_id, values, {field: said}, 422)
    return redirect(f"/me/auto-invest?done=saved&rule={saved}")


@router.get("/me/auto-invest/new")
def new_rule_page(request: Request, user: InvestorUser) -> Response:
    return _form_page(request, None, {"max_term_months": "12", "cash_reserve": "0.00",
                                      "kinds": [], "enabled": True}, {})


@router.post("/me/auto-invest/new")
def create_rule(request: Request, user: InvestorUser, form: Form) -> Response:
    return _save(request, user, form, None)


def _own(request: Request, user: UserView, rule_id: RowId) -> dict[str, Any]:
    try:
        with platform_of(request).reader() as uow:
            return queries.rule_view(auto_invest.own_rule(uow, user.id, rule_id))
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None


@router.get("/me/auto-invest/{rule_id}/edit")
def edit_rule_page(request: Request, rule_id: RowId, user: InvestorUser) -> Response:
    return _form_page(request, rule_id, _values_of(_own(request, user, rule_id)), {})


@router.post("/me/auto-invest/{rule_id}/edit")
def edit_rule(request: Request, rule_id: RowId, user: InvestorUser, form: Form) -> Response:
    return _save(request, user, form, rule_id)


def _change(request: Request, user: UserView, rule_id: RowId, done: str) -> Response:
    platform = platform_of(request)

    def act(uow):  # type: ignore[no-untyped-def]
        if done == "deleted":
            auto_invest.delete_rule(uow, user.id, rule_id)
        else:
            auto_invest.set_active(uow, user.id, rule_id, done == "resumed")

    try:
        in_transaction(platform.uow, act)
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    return redirect(f"/me/auto-invest?done={done}&rule={rule_id}")


@router.post("/me/auto-invest/{rule_id}/pause")
def pause_rule(request: Request, rule_id: RowId, user: InvestorUser, form: Form) -> Response:
    return _change(request, user, rule_id, "paused")


@router.post("/me/auto-invest/{rule_id}/resume")
def resume_rule(request: Request, rule_id: RowId, user: InvestorUser, form: Form) -> Response:
    return _change(request, user, rule_id, "resumed")


@router.post("/me/auto-invest/{rule_id}/delete")
def delete_rule(request: Request, rule_id: RowId, user: InvestorUser, form: Form) -> Response:
    return _change(request, user, rule_id, "deleted")
