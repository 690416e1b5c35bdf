"""The operator console's cash-wallet reconciliation: the breaks with the fund's statement that
no one has resolved yet, each resolved with a reason — the fund's figure taken (an adjusting
entry) or a timing difference that a later statement cleared — and the orders the fund has not
taken yet. Operators act; auditors read."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.errors import BiaodiError, InvalidInput, NotFound
from biaodi.services.accounts.users import UserView
from biaodi.services.funds import wallet
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n
from biaodi.web.pages import (
    Form,
    PageError,
    form_values,
    platform_of,
    redirect,
    render,
    require_role,
)
from biaodi.web.routes.operator_books import READ, chrome, refusal, require_act

router = APIRouter(prefix="/operator/cash-wallet")
WalletReader = Annotated[UserView, Depends(require_role(*READ["cash_wallet"]))]

i18n.register({f"opw.{key}": text for key, text in {
    "tab": ("零钱理财对账", "Cash wallet"),
    "title": ("零钱理财：与基金对账单的差异", "Cash wallet: breaks with the fund's statement"),
    "intro": ("每日日终将平台记录与基金公司对账单逐户核对。处理差异须填写理由：采用基金数字"
              "（差额记入 suspense:fund 与 platform:fund_adjustment），或认定为时间差"
              "（须有之后一日已对账且不再出现该差异）。",
              "Close of business checks every account against the fund company's statement. "
              "Resolve a break with a reason: take the fund's figure (the difference is posted "
              "between suspense:fund and platform:fund_adjustment), or a timing difference "
              "(a later day's reconciliation must no longer show it)."),
    "none": ("没有未处理的差异。", "No open break."),
    "date": ("对账日", "Business date"), "account": ("基金账户", "Fund account"),
    "kind": ("差异", "Break"), "ours": ("平台记录", "Ours"), "theirs": ("基金记录", "Fund's"),
    "resolution": ("处理方式", "Resolution"),
    "as.adjust": ("采用基金数字并调账", "Take the fund's figure (adjusting entry)"),
    "as.timing": ("时间差，已由之后的对账单消除", "Timing difference, cleared later"),
    "cleared_on": ("消除日（时间差必填）", "Cleared on (for a timing difference)"),
    "reason": ("理由", "Reason"), "resolve": ("处理", "Resolve"),
    "done": ("差异 #{id} 已处理。", "Break #{id} is resolved."),
    "waiting": ("尚未被基金接收的订单", "Orders the fund has not taken yet"),
    "waiting.none": ("没有等待发送的订单。", "No order is waiting."),
    "tries": ("尝试 {n} 次", "{n} tries"),
}.items()})


def _page(request: Request, user: UserView, *, error: dict[str, Any] | None = None,
          form: dict[str, str] | None = None, code: int = 200) -> Response:
    with platform_of(request).reader() as uow:
        breaks, waiting = wallet.open_breaks(uow), wallet.orders_waiting(uow)
    done = request.query_params.get("done", "")
    return render(request, "operator/cash_wallet.html", {
        "breaks": breaks, "waiting": waiting, "error": error, "form": form or {},
        "done": done if done.isdigit() else None,
        **chrome(request, user, "cash_wallet")}, code)


@router.get("")
def breaks_page(request: Request, user: WalletReader) -> Response:
    return _page(request, user)


@router.post("")
def resolve(request: Request, user: WalletReader, form: Form) -> Response:
    require_act(request, user, "cash_wallet")
    values = form_values(form)
    try:
        break_id = int(values.get("break_id", ""))
    except ValueError:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    try:
        text = values.get("cleared_on", "")
        try:
            cleared = date.fromisoformat(text[:10]) if text else None
        except ValueError:
            raise InvalidInput("cleared_on must be YYYY-MM-DD", field="cleared_on") from None
        cmd = wallet.ResolveBreak(break_id, user.id, values.get("resolution", "")[:16],
                                  values.get("reason", "")[:400], cleared)
        in_transaction(platform_of(request).uow, lambda uow: wallet.resolve_break(uow, cmd))
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    except BiaodiError as exc:
        return _page(request, user, code=exc.status, form=values,
                     error=refusal(request, exc) | {"id": break_id})
    return redirect(f"/operator/cash-wallet?done={break_id}")
