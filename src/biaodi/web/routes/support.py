"""Customer service pages: /support (the FAQ and the complaints figures for everyone; a
signed-in user's tickets and the form to open one), /support/tickets/{id} (the conversation
and the reply), and the operators' /operator/support (the queue, canned answers, the FAQ) and
/operator/support/tickets/{id} (answer, assign, set the priority, resolve)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import BiaodiError, NotFound
from biaodi.domain.support.tickets import CATEGORIES, PRIORITIES, REFERENCE_KINDS
from biaodi.services.shared.tx import in_transaction
from biaodi.services.support import knowledge, tickets
from biaodi.web import i18n, refusals
from biaodi.web.pages import (
    Form,
    OperatorUser,
    PageError,
    SignedIn,
    current_user,
    form_values,
    platform_of,
    redirect,
    render,
)

router = APIRouter()

i18n.register({f"support.{key}": text for key, text in {
    "nav": ("客服", "Help"),
    "title": ("客服中心", "Help centre"),
    "faq": ("常见问题", "Questions and answers"),
    "faq.none": ("暂无常见问题。", "No questions yet."),
    "complaints": ("投诉处理情况", "Complaints handled"),
    "complaints.intro": ("全部投诉的公开统计：收到、已处理、处理时长、"
                         "超过 15 日作出处理决定的件数。",
                         "Public figures of every complaint: received, resolved, time to "
                         "resolve, decided after 15 days."),
    "received": ("收到", "Received"),
    "resolved_n": ("已处理", "Resolved"),
    "open_n": ("处理中", "Open"),
    "median": ("处理时长中位数（小时）", "Median hours to resolve"),
    "late": ("超过 15 日", "Decided after 15 days"),
    "missed": ("未按时首次答复", "First answer late"),
    "mine": ("我的工单", "My tickets"),
    "none": ("还没有工单。", "No ticket yet."),
    "new": ("提交工单", "Open a ticket"),
    "login": ("登录后可提交工单。", "Sign in to open a ticket."),
    "category": ("类别", "Category"),
    "priority": ("优先级", "Priority"),
    "subject": ("主题", "Subject"),
    "body": ("内容", "Message"),
    "complaint": ("作为投诉提交", "File as a complaint"),
    "about": ("涉及对象（可选）", "About (optional)"),
    "about.id": ("编号", "Number"),
    "submit": ("提交", "Submit"),
    "status": ("状态", "Status"),
    "respond_by": ("答复时限", "Answer due"),
    "overdue": ("已超时", "Overdue"),
    "status.open": ("待客服答复", "Waiting for us"),
    "status.answered": ("待您回复", "Answered"),
    "status.resolved": ("已解决", "Resolved"),
    "conversation": ("对话记录", "Conversation"),
    "staff": ("客服", "Service"),
    "you": ("您", "You"),
    "reply": ("回复", "Reply"),
    "resolution": ("处理结果", "Resolution"),
    "queue": ("工单队列", "Ticket queue"),
    "queue.none": ("没有待处理的工单。", "No open ticket."),
    "user": ("用户", "User"),
    "assignee": ("处理人", "Assigned to"),
    "canned": ("常用回复", "Canned answers"),
    "canned.use": ("使用常用回复（内容为空时发送）",
                   "Canned answer (sent when the message is empty)"),
    "canned.title": ("标题", "Title"),
    "save": ("保存", "Save"),
    "assign_me": ("分配给我", "Assign to me"),
    "set_priority": ("设置优先级", "Set priority"),
    "resolve": ("标记为已解决", "Resolve"),
    "faq.add": ("新增常见问题", "Add a question"),
    "faq.question": ("问题", "Question"),
    "faq.answer": ("回答", "Answer"),
    "faq.lang": ("语言", "Language"),
    "faq.position": ("顺序", "Position"),
    "faq.hide": ("下架", "Unpublish"),
    "faq.hidden": ("已下架", "Unpublished"),
    **{f"cat.{name}": (c.label_zh, name) for name, c in CATEGORIES.items()},
    **{f"prio.{p}": (zh, p) for p, zh in zip(PRIORITIES, ("低", "普通", "高", "紧急"),
                                              strict=True)},
    **{f"ref.{k}": (zh, k.replace("_", " ")) for k, zh in zip(
        REFERENCE_KINDS, ("借款标的", "借款", "支付订单", "持有债权"), strict=True)},
}.items()})


i18n.register({f"support.code.{code}": text for code, text in {
    "empty": ("请填写此项，不能只有空格。", "Fill this in: it must not be only spaces."),
    "too_long": ("内容过长。", "That is too long."),
    "unknown_category": ("请选择列出的类别。", "Choose one of the categories listed."),
    "unknown_priority": ("请选择列出的优先级。", "Choose one of the priorities listed."),
    "unknown_reference": ("请选择列出的对象类型。", "Choose one of the kinds listed."),
    "reference_not_found": ("没有找到您名下的这个对象，请核对编号。",
                            "None of yours has that number: check it."),
    "not_an_operator": ("只能分配给运营人员。", "Only an operator can be assigned."),
    "already_resolved": ("该工单已解决。", "The ticket is already resolved."),
    "canned_answer_not_found": ("没有这条常用回复。", "No such canned answer."),
    "title_taken": ("已有同名的常用回复。", "A canned answer has that title already."),
    "faq_entry_not_found": ("没有这条常见问题。", "No such question."),
}.items()})


def _say(request: Request, refused: BiaodiError) -> str:
    return refusals.say(request, refused, own="support.code", labels=("support",))


def _faq_lang(request: Request) -> str:
    return "zh" if i18n.language_of(request) == "zh-CN" else "en"


def _support_page(request: Request, *, errors: dict[str, str] | None = None,
                  values: dict[str, str] | None = None, status: int = 200) -> Response:
    user = current_user(request)
    with platform_of(request).reader() as uow:
        faq = knowledge.faq(uow, _faq_lang(request))
        figures = tickets.complaints_summary(uow)
        mine = tickets.my_tickets(uow, user.id) if user else []
    return render(request, "support/support.html", {
        "faq": faq, "figures": figures, "mine": mine, "signed_in": user is not None,
        "categories": list(CATEGORIES), "priorities": PRIORITIES,
        "reference_kinds": REFERENCE_KINDS, "errors": errors or {}, "values": values or {}},
        status)


@router.get("/support")
def support_page(request: Request) -> Response:
    return _support_page(request)


@router.post("/support/tickets")
def open_ticket(request: Request, user: SignedIn, form: Form) -> Response:
    values = form_values(form)
    kind = values.get("reference_kind") or None
    ref = values.get("reference_id", "").strip()
    try:
        if kind and not ref.isdigit():
            raise NotFound("give the number of the object", field="reference_id")
        cmd = tickets.OpenTicket(user.id, values.get("category", ""), values.get("subject", ""),
                                 values.get("body", ""), values.get("priority", "normal"),
                                 values.get("complaint") == "1", kind,
                                 int(ref) if kind else None)
        ticket_id = in_transaction(platform_of(request).uow,
                                   lambda uow: tickets.open_ticket(uow, cmd))
    except BiaodiError as refused:
        return _support_page(request, errors={refused.field or "body": _say(request, refused)},
                             values=values, status=422)
    return redirect(f"/support/tickets/{ticket_id}")


def _detail(request: Request, ticket_id: int, viewer_id: int, staff: bool) -> dict[str, Any]:
    try:
        with platform_of(request).reader() as uow:
            return tickets.ticket_detail(uow, ticket_id, viewer_id, staff)
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None


@router.get("/support/tickets/{ticket_id}")
def ticket_page(ticket_id: RowId, request: Request, user: SignedIn) -> Response:
    return render(request, "support/ticket.html", {
        "ticket": _detail(request, ticket_id, user.id, False), "staff": False,
        "action": f"/support/tickets/{ticket_id}/reply", "errors": {}})


def _reply(request: Request, ticket_id: int, user_id: int, staff: bool, form: Any,
           back: str) -> Response:
    values = form_values(form)
    canned = values.get("canned_answer_id", "")
    return _on_ticket(request, ticket_id, user_id, staff, lambda uow: tickets.reply(
        uow, ticket_id, user_id, staff=staff, body=values.get("body", ""),
        canned_answer_id=int(canned) if staff and canned.isdigit() else None), back)


def _on_ticket(request: Request, ticket_id: int, user_id: int, staff: bool,
               act: Callable[[Any], object], back: str) -> Response:
    """Run one change to a ticket in a transaction and go `back`; an unknown ticket is the
    404 page, a refusal the ticket again with the reason in the page's language."""
    try:
        in_transaction(platform_of(request).uow, act)
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    except BiaodiError as refused:
        return _ticket_with_error(request, ticket_id, user_id, staff,
                                  _say(request, refused))
    return redirect(back)


def _ticket_with_error(request: Request, ticket_id: int, user_id: int, staff: bool,
                       error: str) -> Response:
    context: dict[str, Any] = {"ticket": _detail(request, ticket_id, user_id, staff),
                               "staff": staff, "errors": {"body": error}}
    if staff:
        context |= _operator_extras(request)
        context["action"] = f"/operator/support/tickets/{ticket_id}/reply"
    else:
        context["action"] = f"/support/tickets/{ticket_id}/reply"
    return render(request, "support/ticket.html", context, 422)


@router.post("/support/tickets/{ticket_id}/reply")
def user_reply(ticket_id: RowId, request: Request, user: SignedIn, form: Form) -> Response:
    return _reply(request, ticket_id, user.id, False, form, f"/support/tickets/{ticket_id}")


# --- operators --------------------------------------------------------------------------
def _operator_extras(request: Request) -> dict[str, Any]:
    with platform_of(request).reader() as uow:
        return {"canned": knowledge.canned_answers(uow), "priorities": PRIORITIES}


def _queue(request: Request, *, overdue: bool = False, error: str | None = None,
           status: int = 200) -> Response:
    with platform_of(request).reader() as uow:
        queue = tickets.queue(uow, overdue_only=overdue)
        faq = knowledge.faq(uow, _faq_lang(request), everything=True)
        counts = tickets.counts(uow)
    return render(request, "support/queue.html", {
        "queue": queue, "faq": faq, "counts": counts, "overdue": overdue, "error": error,
        "categories": list(CATEGORIES), **_operator_extras(request)}, status)


@router.get("/operator/support")
def queue_page(request: Request, user: OperatorUser, overdue: int = 0) -> Response:
    return _queue(request, overdue=bool(overdue))


@router.get("/operator/support/tickets/{ticket_id}")
def operator_ticket(ticket_id: RowId, request: Request, user: OperatorUser) -> Response:
    return render(request, "support/ticket.html", {
        "ticket": _detail(request, ticket_id, user.id, True), "staff": True,
        "action": f"/operator/support/tickets/{ticket_id}/reply", "errors": {},
        **_operator_extras(request)})


@router.post("/operator/support/tickets/{ticket_id}/reply")
def operator_reply(ticket_id: RowId, request: Request, user: OperatorUser,
                   form: Form) -> Response:
    return _reply(request, ticket_id, user.id, True, form,
                  f"/operator/support/tickets/{ticket_id}")


@router.post("/operator/support/tickets/{ticket_id}/triage")
def operator_triage(ticket_id: RowId, request: Request, user: OperatorUser,
                    form: Form) -> Response:
    values = form_values(form)
    return _on_ticket(request, ticket_id, user.id, True, lambda uow: tickets.triage(
        uow, ticket_id, user.id, assignee_id=user.id if values.get("assign") == "me" else None,
        priority=values.get("priority") or None), f"/operator/support/tickets/{ticket_id}")


@router.post("/operator/support/tickets/{ticket_id}/resolve")
def operator_resolve(ticket_id: RowId, request: Request, user: OperatorUser,
                     form: Form) -> Response:
    resolution = form_values(form).get("resolution", "")
    return _on_ticket(request, ticket_id, user.id, True, lambda uow: tickets.resolve(
        uow, ticket_id, user.id, resolution), f"/operator/support/tickets/{ticket_id}")


@router.post("/operator/support/canned")
def operator_canned(request: Request, user: OperatorUser, form: Form) -> Response:
    values = form_values(form)
    try:
        in_transaction(platform_of(request).uow, lambda uow: knowledge.save_canned(
            uow, user.id, values.get("title", ""), values.get("body", ""),
            values.get("category") or None))
    except BiaodiError as refused:
        return _queue(request, error=_say(request, refused), status=422)
    return redirect("/operator/support")


@router.post("/operator/support/faq")
def operator_faq(request: Request, user: OperatorUser, form: Form) -> Response:
    values = form_values(form)
    entry = values.get("entry_id", "")
    position = values.get("position", "0")
    try:
        in_transaction(platform_of(request).uow, lambda uow: knowledge.save_faq(
            uow, user.id, lang=values.get("lang", "zh"), question=values.get("question", ""),
            answer=values.get("answer", ""),
            position=int(position) if position.isdigit() else 0,
            published=values.get("published", "1") == "1",
            entry_id=int(entry) if entry.isdigit() else None))
    except BiaodiError as refused:
        return _queue(request, error=_say(request, refused), status=422)
    return redirect("/operator/support")
