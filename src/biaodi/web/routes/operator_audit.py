"""The operator console's audit trail: every record about one listing, loan, user, payment
order or sale (`/operator/audit?subject=listing:5`): when, who, in which request, what was
done and what changed. Operators and auditors read it; nobody acts on it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.accounts.users import UserView
from biaodi.services.shared import audit
from biaodi.web import i18n
from biaodi.web.pages import platform_of, render, require_role
from biaodi.web.routes import operator_books

router = APIRouter(prefix="/operator")

AuditReader = Annotated[UserView, Depends(require_role(*operator_books.READ["audit"]))]

i18n.register({
    "op.tab.audit": ("审计轨迹", "Audit trail"),
    "op.audit.title": ("审计轨迹", "Audit trail"),
    "op.audit.of": ("{kind} #{id} 的审计轨迹", "Audit trail of {kind} #{id}"),
    "op.audit.intro": ("每笔提交的交易写一条审计记录，按哈希链接（每条含上一条的哈希），只增不改；"
                       "`biaodi audit verify` 可发现被改动、删除或调换顺序的记录。金额单位为分。",
                       "Every committed transaction writes one audit record, chained by hash "
                       "(each holds the previous record's hash), never changed; `biaodi audit "
                       "verify` finds a record changed, deleted or reordered. Amounts in fen."),
    "op.audit.subject": ("对象", "Subject"),
    "op.audit.show": ("查看", "Show"),
    "op.audit.bad_subject": ("对象的格式为 类型:编号，类型为 {kinds} 之一（例如 listing:5）。",
                             "A subject is kind:id, the kind one of {kinds} (e.g. listing:5)."),
    "op.audit.none": ("没有关于该对象的审计记录。", "No audit record about this subject."),
    "op.audit.seq": ("序号", "No."),
    "op.audit.at": ("时间", "When"),
    "op.audit.actor": ("操作者", "Actor"),
    "op.audit.request": ("请求号", "Request"),
    "op.audit.action": ("操作", "Action"),
    "op.audit.changes": ("变更内容", "What changed"),
    "op.audit.link": ("审计轨迹", "Audit trail"),
    "op.audit.kind.listing": ("借款标的", "listing"),
    "op.audit.kind.loan": ("贷款", "loan"),
    "op.audit.kind.user": ("用户", "user"),
    "op.audit.kind.payment_order": ("支付订单", "payment order"),
    "op.audit.kind.sale": ("转让", "sale"),
    "op.audit.actor.user": ("用户 #{id}", "user #{id}"),
    "op.audit.actor.cli": ("命令行", "command line"),
    "op.audit.actor.system": ("系统（日终等）", "system (close of business …)"),
    "op.audit.actor.anonymous": ("未登录请求", "anonymous request"),
})


def _actor(lang: str, entry: audit.TrailEntry) -> str:
    if entry.actor == "user" and entry.actor_id is not None:
        return i18n.translate(lang, "op.audit.actor.user", id=entry.actor_id)
    key = f"op.audit.actor.{entry.actor}"
    return i18n.translate(lang, key) if key in i18n.MESSAGES else entry.actor


@router.get("/audit")
def audit_page(request: Request, user: AuditReader, subject: str | None = None) -> Response:
    lang = i18n.language_of(request)
    rows: list[dict[str, Any]] = []
    chosen: tuple[str, int] | None = None
    error = None
    status = 200
    if subject:
        try:
            chosen = audit.parse_subject(subject.strip())
        except InvalidInput:
            error = i18n.translate(lang, "op.audit.bad_subject",
                                   kinds=", ".join(audit.SUBJECT_KINDS))
            status = 422
        else:
            with platform_of(request).reader() as uow:
                entries = audit.trail(uow, *chosen)
            rows = [{"seq": e.seq, "at": e.at, "actor": _actor(lang, e),
                     "request_id": e.request_id or "–",
                     "events": [{"action": ev["action"],
                                 "changes": audit.readable(ev["changes"])}
                                for ev in e.events]} for e in entries]
    chrome = operator_books.chrome(request, user, "audit")
    chrome["can_act"] = "operator" in user.roles  # read-only for all: no note for operators
    return render(request, "operator/audit.html", {
        "rows": rows, "subject": subject or "", "error": error,
        "kind": chosen[0] if chosen else None, "subject_id": chosen[1] if chosen else None,
        "kinds": audit.SUBJECT_KINDS, **chrome}, status)
