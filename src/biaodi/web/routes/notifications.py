"""The inbox page (/me/inbox): a signed-in user's messages, newest first, marked read one by
one or all at once, and where messages go (e-mail address, language, channels per kind)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from biaodi.domain.notifications.kinds import KINDS, Channel
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.notifications import inbox
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import Form, SignedIn, platform_of, redirect, render

router = APIRouter()
SHOWN_KINDS = tuple(k for k in KINDS if k != "security.code")

MESSAGES: dict[str, tuple[str, str]] = {
    "nav": ("消息", "Inbox"),
    "title": ("消息中心", "Inbox"),
    "unread": ("{n} 条未读", "{n} unread"),
    "empty": ("还没有消息。", "No messages yet."),
    "read": ("标为已读", "Mark read"),
    "read_all": ("全部标为已读", "Mark all read"),
    "is_read": ("已读", "Read"),
    "sent.email": ("邮件", "e-mail"),
    "sent.sms": ("短信", "SMS"),
    "state.pending": ("待发送", "waiting"),
    "state.sent": ("已发送", "sent"),
    "state.dead": ("发送失败", "failed"),
    "settings": ("接收设置", "Where messages go"),
    "settings.intro": ("站内消息总会保留；邮件和短信按下面的选择发送。短信发送到注册手机号。",
                       "Every message stays in the inbox; e-mail and SMS go as chosen below. "
                       "SMS goes to your registered mobile."),
    "email": ("邮箱（留空则不发邮件）", "E-mail address (empty: no e-mail)"),
    "language": ("消息语言", "Language of messages"),
    "kind": ("消息类型", "Kind of message"),
    "save": ("保存设置", "Save"),
    "saved": ("设置已保存。", "Saved."),
    "security": ("账户安全", "Account security"),
    **{f"kind.{k}": (KINDS[k].zh[0], KINDS[k].en[0]) for k in SHOWN_KINDS},
}
i18n.register({f"notify.{key}": text for key, text in MESSAGES.items()})


def _page(request: Request, user_id: int, *, errors: dict[str, str] | None = None,
          notice: str | None = None, status: int = 200) -> Response:
    with platform_of(request).reader() as uow:
        items, total, unread = inbox.messages(uow, user_id, page_size=100)
        prefs = inbox.preferences(uow, user_id)
    return render(request, "notify/inbox.html", {
        "items": items, "total": total, "unread": unread, "prefs": prefs,
        "kinds": SHOWN_KINDS, "channels": [c.value for c in Channel],
        "errors": errors or {}, "notice": notice}, status)


@router.get("/me/inbox")
def inbox_page(request: Request, user: SignedIn, saved: int = 0) -> Response:
    lang = i18n.language_of(request)
    return _page(request, user.id, notice=i18n.translate(lang, "notify.saved") if saved else None)


@router.post("/me/inbox/{message_id}/read")
def read_one(message_id: RowId, request: Request, user: SignedIn, form: Form) -> Response:
    in_transaction(platform_of(request).uow, lambda uow: inbox.mark_read(uow, user.id,
                                                                         message_id))
    return redirect("/me/inbox")


@router.post("/me/inbox/read-all")
def read_all(request: Request, user: SignedIn, form: Form) -> Response:
    in_transaction(platform_of(request).uow, lambda uow: inbox.mark_read(uow, user.id))
    return redirect("/me/inbox")


@router.post("/me/inbox/settings")
def save_settings(request: Request, user: SignedIn, form: Form) -> Response:
    email = str(form.get("email", "")).strip()[:300]
    language = str(form.get("language", "")) or None
    chosen = {str(v) for v in form.getlist("channel")}

    def act(uow: Any) -> None:
        inbox.set_contact(uow, user.id, email=email, language=language)
        for kind in SHOWN_KINDS:
            for channel in Channel:
                inbox.set_channel(uow, user.id, kind, channel.value,
                                  f"{kind}:{channel.value}" in chosen)

    try:
        in_transaction(platform_of(request).uow, act)
    except BiaodiError as refused:
        field = refused.field or "email"
        return _page(request, user.id, errors={field: refusals.say(request, refused)},
                     status=422)
    return redirect("/me/inbox?saved=1")
