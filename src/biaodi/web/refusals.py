"""Service refusals in the page's language, for every page.

A service refuses with a `BiaodiError`: a stable code, an English message and the field to
blame. `say` turns one into a sentence in the page's language: our sentence for the code, or
— when one code covers many refusals (bad input, a compliance rule, a listing that is full) —
our sentence for the service's message, with the figures taken from it, naming the
compliance rule it rests on. What we have no sentence for reads, on a Chinese page, as a
sentence naming the field; on an English page as the service's own message.

A page may add its own sentences: codes under its own prefix (checked first) and patterns
(checked before the generic ones), and the prefixes under which its form labels live.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request

from biaodi.domain.shared.compliance import RULES as COMPLIANCE_RULES
from biaodi.domain.shared.errors import BiaodiError
from biaodi.web import i18n

Patterns = Sequence[tuple[str, re.Pattern[str]]]


def patterns(*pairs: tuple[str, str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(message key, regular expression) pairs, compiled; the named groups fill the key's
    placeholders (a group named like an amount is shown as money)."""
    return tuple((key, re.compile(pattern)) for key, pattern in pairs)


#: Refusals whose code covers many cases, by the service's message; first match wins. The
#: specific ones come before the general ones they would also match.
PATTERNS = patterns(
    # investing: the ticket, what is left, the per-investor cap
    ("refusal.p.over_open", r"exceeds the (?P<remaining>\S+) yuan still open"),
    ("refusal.p.less_left", r"has less than (?P<amount>\S+) yuan left"),
    ("refusal.p.fully_funded", r"listing \d+ is fully funded"),
    ("refusal.p.min_ticket", r"must be at least (?P<least>\S+) yuan"),
    ("refusal.p.step", r"must be a multiple of (?P<step>\S+) yuan"),
    ("refusal.p.investor_cap", r"one investor may take at most (?P<cap>\S+) yuan of this"
     r" listing \((?P<share>[\d.]+) %\); you have (?P<have>[^\s;]+)"),
    ("refusal.p.principal_range", r"principal must be more than 0 and at most"
     r" (?P<most>[\d.,]+\d)"),
    # deposits and withdrawals
    ("refusal.p.withdraw_once", r"must not exceed (?P<once>\S+) yuan per withdrawal"),
    ("refusal.p.withdraw_day", r"would bring today's withdrawals to (?P<total>\S+) yuan, above"
     r" the daily limit of (?P<per_day>\S+) yuan \((?P<left>\S+) yuan left today\)"),
    ("refusal.p.withdraw_channel", r"a withdrawal is paid out by"),
    ("refusal.p.no_wallet", r"has no wallet|you do not have the role"),
    # the operator's console
    ("refusal.p.reason", r"a reason of at least \d+ characters|needs a reason \(at least"),
    ("refusal.p.reason_required", r"a reason is required"),
    ("refusal.p.note", r"say why the value is listed|describe the confirmed fraud"),
    ("refusal.p.resolved_by", r"exception is resolved by|applies to a suspended"),
    ("refusal.p.refund_first", r"a refund needs the gateway's refund first"),
    ("refusal.p.by_platform", r"entries are made by the platform, not by hand"),
    ("refusal.p.rate_band", r"annual_rate (?P<rate>\S+) % is outside grade (?P<grade>\S+)'s rate"
     r" band (?P<low>[\d.]+)–(?P<high>[\d.]+) %"),
    ("refusal.p.houses_only", r"offline steps are recorded for pledged houses"),
    ("refusal.p.cars_only", r"a vehicle registration belongs to a pledged car"),
    ("refusal.p.certificate", r"needs its certificate number|registration certificate number"
     r" is required"),
    ("refusal.p.plate", r"plate_number must have 5 to 10 characters"),
    ("refusal.p.future", r"cannot be in the future|is in the future"),
    ("refusal.p.override_role", r"needs the role risk_override"),
    ("refusal.p.after_today", r"business_date (?P<day>\S+) is after today"),
    ("refusal.p.never_closed", r"(?P<day>\d{4}-\d\d-\d\d) was never closed and comes before"
     r" (?P<start>\d{4}-\d\d-\d\d)"),
    # any form: dates, amounts, percentages, whole numbers, choices
    ("refusal.p.date", r"must be a date YYYY-MM-DD"),
    ("refusal.p.ceiling", r"must not exceed (?P<ceiling>\S+) yuan"),
    ("refusal.p.money_format", r"must be an amount in yuan|must be a decimal string|"
     r"must be a finite amount"),
    ("refusal.p.money_positive", r"must be (positive|greater than zero)|must be a positive"
     r" amount"),
    ("refusal.p.percent", r"must be a percentage|must be a decimal string such as \"12"),
    ("refusal.p.percent_range", r"must be above 0 % and below 100 %"),
    ("refusal.p.whole_range", r"must be a whole number from (?P<low>-?\d+) to (?P<high>\d+)"),
    ("refusal.p.whole", r"must be a whole number"),
    ("refusal.p.one_of", r"must be one of"),
    ("refusal.p.negative", r"cannot be negative"),
)
#: Named groups shown as money (yuan with separators and two decimals).
MONEY_GROUPS = frozenset({"amount", "available", "limit", "used", "capacity", "outstanding",
                          "headroom", "here", "elsewhere", "ceiling", "due", "balance",
                          "most", "remaining", "least", "step", "cap", "have", "once",
                          "total", "per_day", "left", "short", "needed"})

i18n.register({
    # by code: one refusal, one sentence
    "refusal.insufficient_balance": ("账户余额不足", "Your balance is too low"),
    "refusal.idempotency_key_reused": ("该表单已用于另一笔不同金额的操作，请刷新页面后重试",
                                       "This form was already used for a different amount: "
                                       "reload the page and try again"),
    "refusal.blacklisted": ("根据平台黑名单规则，暂不能受理您的申请",
                            "Under the platform's blacklist rule the application cannot be "
                            "taken"),
    "refusal.role_required": ("您的账户没有此操作所需的角色", "Your account lacks the role this "
                              "needs"),
    "refusal.self_investment": ("不能出借给自己的借款（禁止自融）",
                                "You cannot invest in your own listing (self-financing)"),
    "refusal.listing_closed": ("本标的已不在募集期", "This listing is no longer open"),
    "refusal.gateway_unavailable": ("支付网关暂时无响应，请稍后重试",
                                    "The payment gateway did not answer: try again later"),
    "refusal.gateway_refused": ("支付网关拒绝了该请求，资金没有变动",
                                "The payment gateway refused it: no money moved"),
    "refusal.gateway_clock_mismatch": ("平台与支付网关的时钟不一致，暂时无法支付，请联系平台",
                                       "The platform's and the gateway's clocks differ: "
                                       "payments wait until that is put right"),
    "refusal.rate_limited": ("操作过于频繁，请稍后再试", "Too many attempts: try again later"),
    "refusal.illegal_transition": ("标的当前的状态不允许这一步", "The listing's status does not "
                                   "allow this step"),
    "refusal.listing_not_editable": ("该标的已不能再修改", "This listing can no longer change"),
    "refusal.risk_decision_required": ("借款人还没有有效的风控审批结论",
                                       "The borrower has no valid risk decision"),
    "refusal.risk_decision_stale": ("借款人的风控审批结论已过有效期",
                                    "The borrower's risk decision is too old"),
    "refusal.risk_not_approved": ("风控未通过（被拒绝或仍在人工审核中）",
                                  "Risk control has not approved (refused, or still with a risk "
                                  "officer)"),
    "refusal.not_publishable": ("发布条件尚未满足（如线下手续未办完）",
                                "Conditions for publishing are not met yet (offline steps, "
                                "for instance)"),
    "refusal.already_recorded": ("该步骤已登记过", "That step is already recorded"),
    "refusal.already_resolved": ("该异常已处理，请刷新页面", "That exception is already "
                                 "resolved: reload the page"),
    "refusal.already_removed": ("该名单记录已移除", "That entry was already removed"),
    "refusal.close_day_running": ("日终处理正在进行中，请稍后再试",
                                  "Close of business is already running: wait and try again"),
    # by code, when no sentence for the message was found
    "refusal.else.listing_full": ("本标的已满标或剩余可投金额不足",
                                  "This listing is fully funded or has less than this left"),
    "refusal.else.investor_cap_exceeded": ("超过单个出借人可投本标的的上限",
                                           "More than one investor may take of this listing"),
    "refusal.else.withdrawal_transaction_limit": ("超过单笔提现限额",
                                                  "More than the limit for one withdrawal"),
    "refusal.else.withdrawal_daily_limit": ("超过每日提现限额",
                                            "More than the daily withdrawal limit"),
    "refusal.else.business_date_in_future": ("营业日晚于今天", "The business date is after "
                                             "today"),
    "refusal.else.before_last_close": ("该日尚未完成日终处理，且早于下一个待处理日",
                                       "That day was never closed and comes before the next "
                                       "day to close"),
    "refusal.else.already_registered": ("用户名、手机号或身份证号已被注册",
                                        "The username, mobile or ID number is already "
                                        "registered"),
    # by message
    "refusal.p.over_open": ("金额超过本标的剩余可投的 ¥{remaining}",
                            "The amount exceeds the ¥{remaining} still open"),
    "refusal.p.less_left": ("本标的剩余可投金额已不足 ¥{amount}（可能刚被其他出借人投满）",
                            "Less than ¥{amount} is left of this listing (others may just "
                            "have taken it)"),
    "refusal.p.fully_funded": ("本标的已满标", "This listing is fully funded"),
    "refusal.p.min_ticket": ("金额须不少于起投金额 ¥{least}",
                             "The amount must be at least ¥{least}"),
    "refusal.p.step": ("金额须为递增金额 ¥{step} 的整数倍",
                       "The amount must be a multiple of ¥{step}"),
    "refusal.p.investor_cap": ("单个出借人最多可投本标的 ¥{cap}（借款金额的 {share}%），"
                               "您已投 ¥{have}",
                               "One investor may take at most ¥{cap} of this listing "
                               "({share}%); you have ¥{have}"),
    "refusal.p.principal_range": ("本金须大于零且不超过 ¥{most}", "The principal must be above "
                                  "zero and at most ¥{most}"),
    "refusal.p.withdraw_once": ("单笔提现不得超过 ¥{once}", "One withdrawal may be at most "
                                "¥{once}"),
    "refusal.p.withdraw_day": ("本次提现后今日累计 ¥{total}，超过每日限额 ¥{per_day}"
                               "（今日还可提现 ¥{left}）",
                               "That brings today's withdrawals to ¥{total}, above the daily "
                               "limit of ¥{per_day} (¥{left} left today)"),
    "refusal.p.withdraw_channel": ("提现只能通过银行转账或第三方支付到账",
                                   "A withdrawal is paid by bank transfer or third-party "
                                   "payment"),
    "refusal.p.no_wallet": ("您的账户没有可用于此操作的钱包", "Your account has no wallet for "
                            "this"),
    "refusal.p.reason": ("请说明原因（至少 4 个字）", "Say why (at least 4 characters)"),
    "refusal.p.reason_required": ("请填写原因", "Give a reason"),
    "refusal.p.note": ("请填写备注，说明原因", "Say why in the note"),
    "refusal.p.rate_band": ("年利率 {rate}% 不在信用等级 {grade} 的可用利率区间 {low}–{high}% 内",
                            "The annual rate {rate}% is outside the rate band {low}–{high}% "
                            "of grade {grade}"),
    "refusal.p.houses_only": ("线下步骤只适用于抵押的房产", "Offline steps are recorded for "
                              "pledged houses"),
    "refusal.p.cars_only": ("机动车登记只适用于抵押的车辆", "A vehicle registration belongs to "
                            "a pledged car"),
    "refusal.p.certificate": ("请填写登记证明编号", "Give the certificate number"),
    "refusal.p.plate": ("车牌号须为 5 至 10 个字符", "A plate number has 5 to 10 characters"),
    "refusal.p.future": ("日期不能晚于今天", "The date cannot be in the future"),
    "refusal.p.override_role": ("没有有效风控结论时审核通过，须具备“风控特批”角色",
                                "Approving without a valid risk decision needs the risk "
                                "override role"),
    "refusal.p.resolved_by": ("此类支付异常不能用所选方式处理", "This kind of exception is not "
                              "resolved that way"),
    "refusal.p.refund_first": ("退款须先由支付网关退回款项", "A refund needs the gateway's "
                               "refund first"),
    "refusal.p.by_platform": ("此类名单由平台自动生成，不能手工添加",
                              "The platform makes these entries, not a person"),
    "refusal.p.after_today": ("营业日 {day} 晚于今天", "The business date {day} is after today"),
    "refusal.p.never_closed": ("{day} 尚未完成日终处理，且早于下一个待处理日 {start}",
                               "{day} was never closed and comes before {start}, the next day "
                               "to close"),
    "refusal.p.date": ("请填写有效日期（YYYY-MM-DD）", "Give a date as YYYY-MM-DD"),
    "refusal.p.ceiling": ("金额不能超过 ¥{ceiling}", "The amount may not exceed ¥{ceiling}"),
    "refusal.p.money_format": ("请填写金额（元），最多两位小数，如 1000 或 1000.50",
                               "Give an amount in yuan with at most two decimals, e.g. 1000.50"),
    "refusal.p.money_positive": ("金额须大于零", "The amount must be above zero"),
    "refusal.p.percent": ("请填写百分比数字，如 7 或 7.25", "Give a percentage, e.g. 7 or 7.25"),
    "refusal.p.percent_range": ("利率须大于 0% 且小于 100%", "A rate is above 0 % and below 100 %"),
    "refusal.p.whole_range": ("须为 {low} 至 {high} 之间的整数",
                              "A whole number from {low} to {high}"),
    "refusal.p.whole": ("须为整数", "A whole number"),
    "refusal.p.one_of": ("请从列表中选择", "Choose one of the list"),
    "refusal.p.negative": ("不能为负数", "It cannot be negative"),
    # the rule, the field, the rest
    "refusal.rule": ("依据合规规则 {rule}（{source}）：{summary}。",
                     "Rule {rule} ({source}): {summary}."),
    "refusal.rule_unknown": ("依据规则 {rule}。", "Rule {rule}."),
    "refusal.field": ("“{label}”填写不符合要求，请检查后重试。",
                      "Check “{label}” and try again."),
    "refusal.unknown": ("未能完成，请检查填写内容后重试。",
                        "Not done: check the form and try again."),
    "refusal.who.natural": ("自然人", "a natural person"),
    "refusal.who.legal": ("法人或其他组织", "a legal person or other organisation"),
    "refusal.unit.month": ("月", "months"), "refusal.unit.day": ("天", "days"),
    "refusal.label.amount": ("金额", "Amount"),
    "refusal.label.principal": ("本金", "Principal"),
    "refusal.label.max_price": ("最高价格", "Highest price"),
    "refusal.label.premium": ("溢价率", "Premium"),
    "refusal.label.channel": ("支付方式", "Channel"),
    "refusal.label.role": ("角色", "Role"),
    "refusal.label.listing_id": ("标的", "Listing"),
    "refusal.label.username": ("用户名", "Username"),
    "refusal.label.password": ("密码", "Password"),
    "refusal.label.real_name": ("真实姓名", "Real name"),
    "refusal.label.id_number": ("居民身份证号", "Resident ID number"),
    "refusal.label.mobile": ("手机号", "Mobile"),
    "refusal.label.reason": ("原因", "Reason"),
    "refusal.label.note": ("备注", "Note"),
    "refusal.label.value": ("号码", "Value"),
    "refusal.label.kind": ("类型", "Kind"),
    "refusal.label.action": ("处理方式", "Action"),
    "refusal.label.date": ("日期", "Date"),
})

_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_ENGLISH_WORD = re.compile(r"[a-z]{3,}")


def _t(request: Request, key: str, **values: Any) -> str:
    return i18n.translate(i18n.language_of(request), key, **values)


def _yuan(text: str) -> str:
    """An amount found in a service message, shown as the pages show money."""
    cleaned = text.replace(",", "").rstrip(".")
    return i18n.money(cleaned) if re.fullmatch(r"-?\d+(\.\d+)?", cleaned) else text


def _group(request: Request, name: str, value: str | None) -> str:
    if value is None:
        return ""
    if name in MONEY_GROUPS:
        return _yuan(value)
    if name == "who":
        return _t(request, "refusal.who.legal" if "legal" in value else "refusal.who.natural")
    if name == "unit":
        return _t(request, f"refusal.unit.{value}")
    return value


def rule_sentence(request: Request, rule_id: str) -> str:
    """The compliance rule a refusal rests on: its id, source and summary."""
    rule = COMPLIANCE_RULES.get(rule_id)
    if rule is None:
        return _t(request, "refusal.rule_unknown", rule=rule_id)
    zh = i18n.language_of(request) == "zh-CN"
    return _t(request, "refusal.rule", rule=rule_id, source=rule.source,
              summary=rule.summary_zh if zh else rule.summary_en)


def _label(request: Request, field: str, labels: Sequence[str]) -> str | None:
    name = re.sub(r"^assets[.\[]\d+[\].]\.?", "", field or "")
    if not name:
        return None
    keys = [f"{prefix}.{n}" for prefix in labels for n in dict.fromkeys(
        (name, name.replace(".", "_")))]
    for key in (*keys, f"refusal.label.{name}"):
        if key in i18n.MESSAGES:
            return _t(request, key)
    return None


def _as_dict(found: BiaodiError | dict[str, Any]) -> dict[str, Any]:
    if isinstance(found, dict):
        return found
    return {"code": found.code, "rule_id": getattr(found, "rule_id", None),
            "field": found.field, "message": found.message}


def say(request: Request, found: BiaodiError | dict[str, Any], *, own: str = "",
        own_patterns: Patterns = (), labels: Sequence[str] = ()) -> str:
    """A refusal (an error, or a dict with its code, message, field and rule_id) in the
    page's language. `own`: the prefix of the page's sentences by code (`own.<code>`),
    checked first; `own_patterns`: the page's sentences by message, checked before ours;
    `labels`: the prefixes of the page's form labels (`<prefix>.<field>`)."""
    refusal = _as_dict(found)
    code, message = str(refusal.get("code") or ""), str(refusal.get("message") or "")
    rule_id, field = refusal.get("rule_id"), str(refusal.get("field") or "")
    for key in ((f"{own}.{code}",) if own else ()) + (f"refusal.{code}",):
        if code and key in i18n.MESSAGES:
            return _t(request, key)
    for key, pattern in (*own_patterns, *PATTERNS):
        match = pattern.search(message)
        if match:
            values = {k: _group(request, k, v) for k, v in match.groupdict().items()}
            text = _t(request, key, **values)
            return f"{text} {rule_sentence(request, rule_id)}" if rule_id else text
    if rule_id:
        return rule_sentence(request, rule_id)
    zh = i18n.language_of(request) == "zh-CN"
    if zh and _CHINESE.search(message) and not _ENGLISH_WORD.search(message):
        return message  # the page's own sentence, already in Chinese
    if f"refusal.else.{code}" in i18n.MESSAGES:
        return _t(request, f"refusal.else.{code}")
    if not zh:
        return message or _t(request, "refusal.unknown")
    label = _label(request, field, labels)
    return (_t(request, "refusal.field", label=label) if label
            else _t(request, "refusal.unknown"))
