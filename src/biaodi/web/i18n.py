"""A small message catalogue (zh-CN, en), the language of a request, and the formats of money
and dates shown on pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANG_COOKIE = "lang"
BEIJING = timezone(timedelta(hours=8))

#: key → (Simplified Chinese, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    "site.name": ("标的", "Biaodi"),
    "site.tagline": ("按标的类型看清每一笔借款的保障",
                     "See what protects each loan, by listing type"),
    "site.footer": ("标的 Biaodi：开源网络借贷平台。投资有风险，出借需谨慎。",
                    "Biaodi (标的): an open-source lending marketplace. Lending carries risk."),
    "nav.marketplace": ("散标市场", "Marketplace"),
    "nav.operator": ("运营后台", "Operator console"),
    "nav.login": ("登录", "Sign in"),
    "nav.logout": ("退出", "Sign out"),
    "nav.signup": ("注册", "Sign up"),
    "nav.language": ("语言", "Language"),
    "nav.signed_in_as": ("当前用户：{name}", "Signed in as {name}"),
    "role.investor": ("出借人", "Investor"),
    "role.borrower": ("借款人", "Borrower"),
    "role.guarantor": ("担保方", "Guarantor"),
    "role.originator": ("债权转让方", "Originator"),
    "role.operator": ("运营人员", "Operator"),
    "role.risk_override": ("风控特批", "Risk override"),
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名或手机号", "Username or mobile"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.disabled": ("该账户已停用", "This account is disabled"),
    "login.no_account": ("还没有账户？", "No account yet?"),
    "signup.title": ("注册（实名）", "Sign up (real name)"),
    "signup.intro": ("依规定，出借人与借款人须实名注册。身份证号加密保存，仅显示脱敏后的号码。",
                     "By law, investors and borrowers register under their real name. The ID "
                     "number is stored encrypted and shown masked."),
    "signup.username": ("用户名", "Username"),
    "signup.password": ("密码", "Password"),
    "signup.password_hint": ("8–128 位，须包含字母和数字", "8–128 characters, letters and digits"),
    "signup.real_name": ("真实姓名", "Real name"),
    "signup.id_number": ("居民身份证号", "Resident ID number"),
    "signup.mobile": ("手机号", "Mobile"),
    "signup.role": ("我要", "I want to"),
    "signup.role.investor": ("出借（投资）", "lend (invest)"),
    "signup.role.borrower": ("借款", "borrow"),
    "signup.submit": ("注册并登录", "Sign up and sign in"),
    "signup.error.username": ("用户名须为 3–32 位：字母开头，由字母、数字或下划线组成",
                              "3–32 characters: a letter, then letters, digits or _"),
    "signup.error.password": ("密码须为 8–128 位，且包含字母和数字",
                              "8–128 characters with letters and digits"),
    "signup.error.real_name": ("请填写 2–32 个字的真实姓名", "A person's name of 2–32 characters"),
    "signup.error.id_number": ("请填写有效的 18 位居民身份证号（年满 18 周岁）",
                               "A valid 18-character resident ID number (aged 18 or over)"),
    "signup.error.mobile": ("请填写有效的 11 位中国大陆手机号",
                            "A valid 11-digit mainland China mobile number"),
    "signup.error.roles": ("请选择出借或借款", "Choose to lend or to borrow"),
    "signup.error.taken": ("已被注册", "is already registered"),
    "asset.house": ("房产", "a house"),
    "asset.car": ("车辆", "a car"),
    "asset.art": ("艺术品", "art"),
    "asset.other": ("其他资产", "other assets"),
    "protection.credit": ("无抵押、无担保，还款仅依赖借款人的信用。",
                          "No collateral and no guarantee: repayment rests on the borrower's "
                          "credit alone."),
    "protection.instant": ("警示：秒标满标即还，常被用作虚假标、自融的伪装，收益虚高，请高度警惕。",
                           "Red flag: an instant listing is repaid as soon as it is funded and is "
                           "often a disguise for fake or self-financing loans."),
    "kind.credit": ("信用标", "Credit"),
    "kind.collateral": ("抵押标", "Collateral"),
    "kind.guarantee": ("担保标", "Guarantee"),
    "kind.transfer": ("流转标", "Transfer"),
    "kind.instant": ("秒标", "Instant"),
    "status.published": ("募集中", "Open"),
    "status.funded": ("已满标", "Funded"),
    "status.failed": ("流标", "Failed"),
    "status.repaying": ("还款中", "Repaying"),
    "status.overdue": ("逾期", "Overdue"),
    "status.settled": ("已结清", "Settled"),
    "status.defaulted": ("已违约", "Defaulted"),
    "status.recovered": ("已追回", "Recovered"),
    "status.written_off": ("已核销", "Written off"),
    "status.draft": ("草稿", "Draft"),
    "status.submitted": ("待审核", "Submitted"),
    "status.approved": ("已审核", "Approved"),
    "status.rejected": ("已拒绝", "Rejected"),
    "board.filters": ("筛选", "Filters"),
    "board.kind": ("类型", "Type"),
    "board.collateral_class": ("抵押物", "Collateral"),
    "board.min_rate": ("最低年利率 %", "Min rate %"),
    "board.max_rate": ("最高年利率 %", "Max rate %"),
    "board.term_unit": ("期限单位", "Term unit"),
    "board.max_term": ("最长期限", "Max term"),
    "board.grade": ("信用等级", "Grade"),
    "board.min_remaining": ("最少可投金额（元）", "Min remaining (yuan)"),
    "board.status": ("状态", "Status"),
    "board.status.open": ("募集中", "Open for investment"),
    "board.status.all": ("全部公开标的", "All public listings"),
    "board.sort": ("排序", "Sort"),
    "board.sort.-published_at": ("最新发布", "Newest"),
    "board.sort.-rate": ("利率从高到低", "Rate, high to low"),
    "board.sort.rate": ("利率从低到高", "Rate, low to high"),
    "board.sort.term": ("期限从短到长", "Shortest term"),
    "board.sort.-remaining": ("可投金额最多", "Most remaining"),
    "board.any": ("不限", "Any"),
    "board.apply": ("筛选", "Apply"),
    "board.reset": ("清除", "Reset"),
    "board.total": ("共 {total} 个标的", "{total} listings"),
    "board.empty": ("没有符合条件的标的。", "No listing matches these filters."),
    "board.prev": ("上一页", "Previous"),
    "board.next": ("下一页", "Next"),
    "board.page": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "board.invalid": ("无效，已忽略（{hint}）", "ignored: not valid ({hint})"),
    "listing.unit.month": ("按月", "months"),
    "listing.unit.day": ("按天", "days"),
    "listing.rate": ("年利率", "Annual rate"),
    "listing.amount": ("借款金额", "Amount"),
    "listing.remaining": ("剩余可投", "Remaining"),
    "listing.term": ("期限", "Term"),
    "listing.term.month": ("{n} 个月", "{n} months"),
    "listing.term.day": ("{n} 天", "{n} days"),
    "listing.grade": ("信用等级", "Grade"),
    "listing.risk_level": ("风险等级", "Risk level"),
    "listing.funded": ("已投 {percent}%", "{percent}% funded"),
    "listing.details": ("查看详情", "Details"),
    "listing.protection": ("投资人保障", "What protects you"),
    "listing.security": ("保障措施", "Security"),
    "listing.risk_labels": ("风险提示", "Risk notes"),
    "listing.description": ("借款说明", "About the loan"),
    "listing.funding": ("募集规则", "Funding rules"),
    "listing.min_ticket": ("起投金额", "Minimum ticket"),
    "listing.step": ("递增金额", "Step"),
    "listing.deadline": ("募集截止", "Funding deadline"),
    "listing.published_at": ("发布时间", "Published"),
    "listing.schedule": ("还款计划预览（借款人视角，含费用）",
                         "Repayment schedule preview (the borrower's, with fees)"),
    "listing.seq": ("期数", "No."),
    "listing.due_date": ("应还日", "Due"),
    "listing.principal": ("本金", "Principal"),
    "listing.interest": ("利息", "Interest"),
    "listing.service_fee": ("服务费", "Service fee"),
    "listing.guarantee_fee": ("担保费", "Guarantee fee"),
    "listing.payment_with_fees": ("应还合计", "Total due"),
    "listing.balance": ("剩余本金", "Balance"),
    "listing.total": ("合计", "Total"),
    "listing.fees": ("费用与综合成本", "Fees and all-in cost"),
    "listing.service_fee_rate": ("服务费年费率", "Service fee, yearly"),
    "listing.guarantee_fee_rate": ("担保费年费率", "Guarantee fee, yearly"),
    "listing.fees_charged": ("随每期还款按剩余本金收取", "Charged with each instalment on the "
                             "principal still owed"),
    "listing.all_in_cost": ("借款人综合年化成本", "Borrower's all-in yearly cost"),
    "listing.history": ("标的历程", "History"),
    "listing.live": ("进度每 5 秒自动更新", "Progress updates every 5 seconds"),
    "listing.back": ("返回列表", "Back to the board"),
    "method.equal_installment": ("等额本息", "Equal instalments"),
    "method.equal_principal": ("等额本金", "Equal principal"),
    "method.interest_first": ("先息后本", "Interest only, principal at the end"),
    "method.bullet": ("到期还本付息", "All at maturity"),
    "listing.method": ("还款方式", "Repayment"),
    "error.forbidden.title": ("无权访问", "Not allowed"),
    "error.forbidden.text": ("此页面需要以下角色：{roles}。", "This page needs the role: {roles}."),
    "error.nul.title": ("输入无效", "Invalid input"),
    "error.nul.text": ("字段 {field} 含有不允许的字符（NUL），请返回修改后重新提交。",
                       "The field {field} contains a character that is not allowed (NUL); go "
                       "back, correct it and submit again."),
    "error.csrf.title": ("请求已过期", "The form has expired"),
    "error.csrf.text": ("表单校验失败，请返回刷新页面后重试。",
                        "The form could not be verified: go back, reload the page and try again."),
    "error.not_found.title": ("页面不存在", "Page not found"),
    "error.not_found.text": ("找不到您要的内容。", "We could not find what you asked for."),
    "error.bad_request.title": ("请求有误", "Bad request"),
    "error.bad_request.text": ("链接中的参数无效，请返回上一页重试。",
                               "A value in the address is not valid: go back and try again."),
    "error.rate_limited.title": ("操作过于频繁", "Too many attempts"),
    "error.rate_limited.text": ("为保护账户安全，请在 {seconds} 秒后再试。",
                                "To keep accounts safe, please try again in {seconds} seconds."),
    "error.back_home": ("返回首页", "Back to the marketplace"),
    "operator.title": ("运营后台", "Operator console"),
    "operator.review_queue": ("待审核的借款申请", "Applications awaiting review"),
    "operator.empty": ("暂无待审核的申请。", "No application is waiting."),
}


def language_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Add a page module's own messages (key → (zh-CN, en)) to the catalogue; a key may be
    defined once."""
    clash = sorted(set(messages) & set(MESSAGES))
    if clash:
        raise ValueError(f"messages defined twice: {', '.join(clash)}")
    MESSAGES.update(messages)


def translate(lang: str, key: str, **values: Any) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry[0] if lang == "zh-CN" else entry[1]
    return text.format(**values) if values else text


def money(value: Any) -> str:
    """Yuan with thousands separators and two decimals: '1234567.8' → '1,234,567.80'."""
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount:,.2f}"


def day(value: Any) -> str:
    """A date as YYYY-MM-DD (a datetime in Beijing time)."""
    if not value:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return (value.astimezone(BEIJING) if value.tzinfo else value).date().isoformat()
    return value.isoformat()


def moment(value: Any) -> str:
    """A time as YYYY-MM-DD HH:MM in Beijing time."""
    if not value:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")

