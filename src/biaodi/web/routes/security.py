"""Account security pages: /me/security (mobile verification by SMS code, password change,
sessions listed and ended, the security log) and the password reset by a one-time code
(/password-reset, for visitors)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from biaodi.adapters.crypto import token_digest
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.accounts import security
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import SESSION_COOKIE, Form, SignedIn, platform_of, redirect, render

router = APIRouter()

MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("账户安全", "Account security"),
    "mobile": ("手机验证", "Mobile"),
    "mobile.yes": ("手机号已验证（{at}）。", "Your mobile is verified ({at})."),
    "mobile.no": ("手机号尚未验证：输入短信验证码完成验证。",
                  "Your mobile is not verified yet: enter the code we sent by SMS."),
    "mobile.send": ("重新发送验证码", "Send a new code"),
    "mobile.sent": ("验证码已发送。", "A code is on its way."),
    "mobile.verified": ("手机号已验证。", "Mobile verified."),
    "code": ("验证码", "Code"),
    "confirm": ("确认", "Confirm"),
    "password": ("修改密码", "Change password"),
    "password.current": ("当前密码", "Current password"),
    "password.new": ("新密码", "New password"),
    "password.changed": ("密码已修改。", "Password changed."),
    "sessions": ("登录中的会话", "Signed-in sessions"),
    "session.started": ("登录时间", "Signed in"),
    "session.expires": ("过期时间", "Expires"),
    "session.this": ("当前会话", "this session"),
    "session.end": ("退出该会话", "End it"),
    "session.ended": ("会话已退出。", "Session ended."),
    "log": ("安全日志", "Security log"),
    "log.when": ("时间", "When"),
    "log.what": ("事件", "What"),
    "log.empty": ("暂无记录。", "Nothing yet."),
    "event.signed_in": ("登录成功", "signed in"),
    "event.sign_in_failed": ("登录失败", "failed sign-in"),
    "event.locked": ("账户已锁定", "account locked"),
    "event.code_sent": ("发送验证码", "code sent"),
    "event.code_failed": ("验证码错误", "wrong code"),
    "event.password_reset": ("通过验证码重置密码", "password reset by code"),
    "event.password_changed": ("修改密码", "password changed"),
    "event.mobile_verified": ("手机号验证", "mobile verified"),
    "event.session_revoked": ("退出会话", "session ended"),
    "reset": ("找回密码", "Reset your password"),
    "reset.intro": ("输入用户名或手机号，我们会把验证码发到您的手机或邮箱。",
                    "Enter your username or mobile; we send a code to your mobile or e-mail."),
    "reset.login": ("用户名或手机号", "Username or mobile"),
    "reset.channel": ("验证码发送到", "Send the code by"),
    "reset.sms": ("短信", "SMS"),
    "reset.email": ("邮件", "e-mail"),
    "reset.send": ("发送验证码", "Send the code"),
    "reset.sent": ("如果该账户存在，验证码已发出，{minutes} 分钟内有效。",
                   "If the account exists, a code is on its way; it is valid for {minutes} "
                   "minutes."),
    "reset.submit": ("设置新密码", "Set the new password"),
    "reset.done": ("密码已重置，请用新密码登录。", "Password reset: sign in with the new one."),
    "forgot": ("忘记密码？", "Forgot your password?"),
    "locked": ("登录失败次数过多，账户已暂时锁定。请稍后再试，或找回密码。",
               "Too many failed sign-ins: the account is locked for a while. Try again later, "
               "or reset your password."),
}
i18n.register({f"security.{key}": text for key, text in MESSAGES.items()})


def _page(request: Request, user_id: int, *, errors: dict[str, str] | None = None,
          notice: str | None = None, status: int = 200) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    with platform_of(request).reader() as uow:
        state = security.overview(uow, user_id)
        sessions = security.sessions(uow, user_id, token_digest(cookie) if cookie else None)
        log = security.events(uow, user_id)
    return render(request, "notify/security.html", {
        "state": state, "sessions": sessions, "log": log, "errors": errors or {},
        "notice": notice}, status)


def _refused(request: Request, user_id: int, refused: BiaodiError, default: str) -> Response:
    field = {"password": "new_password"}.get(refused.field or "", refused.field or default)
    return _page(request, user_id, errors={field: refusals.say(request, refused)}, status=422)


def _notice(request: Request, key: str, **values: Any) -> str:
    return i18n.translate(i18n.language_of(request), f"security.{key}", **values)


@router.get("/me/security")
def security_page(request: Request, user: SignedIn, done: str = "") -> Response:
    known = ("mobile.sent", "mobile.verified", "password.changed", "session.ended")
    return _page(request, user.id, notice=_notice(request, done) if done in known else None)


@router.post("/me/security/mobile-code")
def send_mobile_code(request: Request, user: SignedIn, form: Form) -> Response:
    platform = platform_of(request)
    rules = security.SecurityRules.from_settings(platform.settings)
    in_transaction(platform.uow, lambda uow: security.send_code(
        uow, user.id, "mobile", "sms", platform.cipher, rules))
    return redirect("/me/security?done=mobile.sent")


@router.post("/me/security/mobile")
def verify_mobile(request: Request, user: SignedIn, form: Form) -> Response:
    platform = platform_of(request)
    try:
        security.verify_mobile(platform.uow, user.id, str(form.get("code", ""))[:20],
                               platform.cipher, security.SecurityRules.from_settings(
                                   platform.settings))
    except BiaodiError as refused:
        return _refused(request, user.id, refused, "code")
    return redirect("/me/security?done=mobile.verified")


@router.post("/me/security/password")
def change_password(request: Request, user: SignedIn, form: Form) -> Response:
    current, new = (str(form.get(k, ""))[:200] for k in ("current_password", "new_password"))
    try:
        in_transaction(platform_of(request).uow, lambda uow: security.change_password(
            uow, user.id, current, new))
    except BiaodiError as refused:
        return _refused(request, user.id, refused, "new_password")
    return redirect("/me/security?done=password.changed")


@router.post("/me/security/sessions/{session_id}/end")
def end_session(session_id: str, request: Request, user: SignedIn, form: Form) -> Response:
    try:
        in_transaction(platform_of(request).uow, lambda uow: security.revoke_session(
            uow, user.id, session_id[:64]))
    except BiaodiError as refused:
        return _refused(request, user.id, refused, "session_id")
    return redirect("/me/security?done=session.ended")


# --- password reset (visitors) ---------------------------------------------------------------
def _reset_page(request: Request, *, step: str, login: str = "", errors: dict[str, str] |
                None = None, notice: str | None = None, status: int = 200) -> Response:
    return render(request, "notify/reset.html", {
        "step": step, "login": login, "errors": errors or {}, "notice": notice}, status)


@router.get("/password-reset")
def reset_page(request: Request) -> Response:
    return _reset_page(request, step="request")


@router.post("/password-reset")
def request_reset(request: Request, form: Form) -> Response:
    platform = platform_of(request)
    login = str(form.get("login", "")).strip()[:64]
    channel = "email" if form.get("channel") == "email" else "sms"
    rules = security.SecurityRules.from_settings(platform.settings)
    if login:
        in_transaction(platform.uow, lambda uow: security.request_reset(
            uow, login, channel, platform.cipher, rules))
    minutes = int(rules.code_ttl.total_seconds() // 60)
    return _reset_page(request, step="confirm", login=login,
                       notice=_notice(request, "reset.sent", minutes=minutes))


@router.get("/password-reset/confirm")
def confirm_page(request: Request, login: str = "") -> Response:
    return _reset_page(request, step="confirm", login=login[:64])


@router.post("/password-reset/confirm")
def confirm_reset(request: Request, form: Form) -> Response:
    platform = platform_of(request)
    login = str(form.get("login", "")).strip()[:64]
    code, new = str(form.get("code", ""))[:20], str(form.get("new_password", ""))[:200]
    try:
        security.reset_password(platform.uow, login, code, new, platform.cipher,
                                security.SecurityRules.from_settings(platform.settings))
    except BiaodiError as refused:
        field = {"password": "new_password"}.get(refused.field or "", refused.field or "")
        field = field if field in ("code", "new_password") else "code"
        return _reset_page(request, step="confirm", login=login,
                           errors={field: refusals.say(request, refused)}, status=422)
    return _reset_page(request, step="done", notice=_notice(request, "reset.done"))
