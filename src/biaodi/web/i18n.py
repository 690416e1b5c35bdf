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
    "error.forbidden.title": ("无权访问", "Not allowed"),
    "error.forbidden.text": ("此页面需要以下角色：{roles}。", "This page needs the role: {roles}."),
    "error.csrf.title": ("请求已过期", "The form has expired"),
    "error.csrf.text": ("表单校验失败，请返回刷新页面后重试。",
                        "The form could not be verified: go back, reload the page and try again."),
    "error.not_found.title": ("页面不存在", "Page not found"),
    "error.not_found.text": ("找不到您要的内容。", "We could not find what you asked for."),
    "error.back_home": ("返回首页", "Back to the marketplace"),
    "operator.title": ("运营后台", "Operator console"),
    "operator.review_queue": ("待审核的借款申请", "Applications awaiting review"),
    "operator.empty": ("暂无待审核的申请。", "No application is waiting."),
}


def language_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


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

