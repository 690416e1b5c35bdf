"""Reward-crowdfunding pages: projects (/crowdfunding), one project with its tiers and a form
to back it, and a user's pledges and projects (/me/crowdfunding) with delivery: the owner
ships, the backer confirms or complains."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import BiaodiError, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.crowdfunding import projects, queries
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import (
    Form,
    PageError,
    SignedIn,
    current_user,
    platform_of,
    redirect,
    render,
    require_role,
)

router = APIRouter()
InvestorUser = Annotated[UserView, Depends(require_role("investor"))]
STAFF = {"operator", "risk_officer", "auditor"}

MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("奖励众筹", "Reward crowdfunding"),
    "intro": ("众筹是独立于网络借贷的产品：支持者以支持款换取回报，不是出借，不产生利息。"
              "支持款存于众筹专用托管账户，到期未达目标全额退回。",
              "Crowdfunding is a product apart from lending: backers pay for rewards, they do not"
              " lend and earn no interest. Support is held in the crowdfunding escrow and fully"
              " refunded if the goal is not reached by the deadline."),
    "empty": ("暂无众筹项目。", "No project yet."),
    "goal": ("目标", "Goal"),
    "raised": ("已筹", "Raised"),
    "deadline": ("截止日", "Deadline"),
    "status.live": ("筹款中", "live"),
    "status.succeeded": ("已成功", "succeeded"),
    "status.failed": ("未成功，已退款", "failed, refunded"),
    "status.review": ("审核中", "in review"),
    "status.rejected": ("未通过审核", "rejected"),
    "tiers": ("回报档位", "Reward tiers"),
    "price": ("价格", "Price"),
    "left": ("剩余名额", "Left"),
    "ship": ("预计发货", "Estimated shipping"),
    "back": ("支持此档", "Back this tier"),
    "no_reward": ("无回报支持", "Support without a reward"),
    "amount": ("金额（元）", "Amount (yuan)"),
    "support": ("支持", "Support"),
    "rules": ("项目规则", "Project rules"),
    "backed": ("支持成功。", "Thank you: your support is in."),
    "mine": ("我的众筹", "My crowdfunding"),
    "pledges": ("我的支持", "My support"),
    "pledges.empty": ("还没有支持过项目。", "You have not backed a project."),
    "projects": ("我发起的项目", "My projects"),
    "delivery": ("回报", "Reward"),
    "delivery.none": ("无回报", "no reward"),
    "delivery.awaiting": ("待发货", "to ship"),
    "delivery.shipped": ("已发货", "shipped"),
    "delivery.confirmed": ("已收货", "delivered"),
    "delivery.complained": ("有投诉", "complained"),
    "tracking": ("运单号", "Tracking number"),
    "do.ship": ("发货", "Ship"),
    "do.confirm": ("确认收货", "Confirm delivery"),
    "do.complain": ("投诉", "Complain"),
    "complaint": ("投诉内容", "Complaint"),
    "error.amount": ("请输入正数金额，最多两位小数", "Enter a positive amount with at most two"
                     " decimals"),
    "own.tier_sold_out": ("该档位名额已满", "This tier is sold out"),
    "own.project_not_live": ("项目不在筹款期内", "The project is not taking support"),
    "own.insufficient_balance": ("可用余额不足", "Not enough available money in your wallet"),
    "new": ("发起众筹项目", "Start a project"),
    "field.title": ("项目名称", "Title"),
    "field.description": ("项目介绍", "Description"),
    "field.goal": ("目标金额（元）", "Goal (yuan)"),
    "field.days": ("筹款天数（1–60）", "Days of fundraising (1–60)"),
    "field.tier": ("回报档位 {n}（可不填）", "Reward tier {n} (optional)"),
    "field.tier_title": ("名称", "Title"),
    "field.quota": ("名额", "Quota"),
    "field.ship_date": ("预计发货日（YYYY-MM-DD）", "Estimated ship date (YYYY-MM-DD)"),
    "do.submit": ("提交审核", "Submit for review"),
    "review": ("众筹项目审核", "Crowdfunding review"),
    "review.empty": ("没有待审核的项目。", "No project waiting for review."),
    "do.approve": ("通过并上线", "Approve: go live"),
    "do.reject": ("驳回", "Reject"),
    "note": ("审核意见（驳回必填）", "Note (required to reject)"),
    "error.form": ("请检查：{field}", "Please check: {field}"),
    "complaints": ("投诉处理：暂扣的 30 %", "Complaints holding the 30 %"),
    "complaints.empty": ("没有因投诉暂扣的款项。", "No held money waiting on a complaint."),
    "complaints.held": ("暂扣 ¥{held}，另有 {n} 份回报在途（在途时不能处理）",
                        "¥{held} held; {n} other rewards on their way (settle once none is)"),
    "complaints.backer": ("支持者 #{id} · ¥{amount}：{text}", "Backer #{id} · ¥{amount}: {text}"),
    "reason": ("处理理由（必填）", "Reason (required)"),
    "do.release": ("放款给发起人", "Release to the owner"),
    "do.refund": ("按比例退还投诉者", "Refund the complaining backers pro rata"),
}
i18n.register({f"cf.{key}": text for key, text in MESSAGES.items()})


@router.get("/crowdfunding")
def projects_page(request: Request) -> Response:
    with platform_of(request).reader() as uow:
        found = queries.projects(uow)
    return render(request, "crowdfunding/list.html", {"projects": found})


def _detail(request: Request, project_id: int, *, error: str | None = None,
            status: int = 200) -> Response:
    user = current_user(request)
    try:
        with platform_of(request).reader() as uow:
            project = queries.project(uow, project_id, user.id if user else None,
                                      staff=bool(user and STAFF & set(user.roles)))
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    can_back = bool(user and "investor" in user.roles and project["status"] == "live"
                    and user.id != project["owner_id"])
    return render(request, "crowdfunding/project.html", {
        "p": project, "can_back": can_back, "error": error}, status)


# --- starting a project, and its review ---------------------------------------------------
TIER_ROWS = 3


def _new_page(request: Request, values: dict[str, str], error: str | None = None,
              status: int = 200) -> Response:
    return render(request, "crowdfunding/new.html", {
        "values": values, "error": error, "rows": range(TIER_ROWS)}, status)


@router.get("/crowdfunding/new")
def new_project_page(request: Request, user: SignedIn) -> Response:
    return _new_page(request, {"days": "30"})


def _parse_project(owner_id: int, values: dict[str, str]) -> projects.CreateProject:
    from datetime import date as _date

    def money(name: str) -> Money:
        return Money.parse(values.get(name, "")[:20], field=name)

    days = values.get("days", "")
    if not (days.isdigit() and len(days) <= 3):
        raise InvalidInput("days must be a whole number", field="days")
    tiers = []
    for n in range(TIER_ROWS):
        title = values.get(f"tier{n}_title", "")
        if not title:
            continue
        quota = values.get(f"tier{n}_quota", "")
        if not (quota.isdigit() and len(quota) <= 7):
            raise InvalidInput("quota must be a whole number", field=f"tier{n}_quota")
        try:
            ship = _date.fromisoformat(values.get(f"tier{n}_ship_date", "")[:10])
        except ValueError:
            raise InvalidInput("ship date must be YYYY-MM-DD", field=f"tier{n}_ship_date"
                               ) from None
        tiers.append(projects.TierInput(title[:120], money(f"tier{n}_price"), int(quota), ship))
    return projects.CreateProject(owner_id, values.get("title", "")[:120],
                                  values.get("description", "")[:4000], money("goal"),
                                  int(days), tiers)


@router.post("/crowdfunding/new")
def create_project(request: Request, user: SignedIn, form: Form) -> Response:
    lang = i18n.language_of(request)
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    platform = platform_of(request)
    try:
        cmd = _parse_project(user.id, values)
        project_id = in_transaction(platform.uow, lambda uow: projects.create(
            uow, cmd, platform.crowdfunding_rules).id)
    except BiaodiError as refusal:
        key = f"cf.field.{refusal.field}"
        label = i18n.translate(lang, key) if key in i18n.MESSAGES else (refusal.field or "")
        said = i18n.translate(lang, "cf.error.form", field=label) + " — " + \
            refusals.say(request, refusal, own="cf.own")
        return _new_page(request, values, said, 422)
    return redirect(f"/crowdfunding/{project_id}")


@router.get("/operator/crowdfunding")
def review_page(request: Request, user: Annotated[UserView, Depends(require_role(
        "operator", "risk_officer", "auditor"))]) -> Response:
    with platform_of(request).reader() as uow:
        waiting, complained = queries.in_review(uow), queries.with_complaints(uow)
    return render(request, "crowdfunding/review.html", {
        "waiting": waiting, "complained": complained, "can_act": "operator" in user.roles,
        "error": None})


@router.post("/operator/crowdfunding/{project_id}/review")
def review(request: Request, project_id: RowId,
           user: Annotated[UserView, Depends(require_role("operator"))], form: Form
           ) -> Response:
    platform = platform_of(request)
    approve = form.get("decision") == "approve"
    note = str(form.get("note", "")).strip()[:400]
    try:
        in_transaction(platform.uow, lambda uow: projects.review(
            uow, project_id, approve=approve, note=note, rules=platform.crowdfunding_rules))
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    except BiaodiError as refusal:
        return _refused(request, refusal)
    return redirect("/operator/crowdfunding")


def _refused(request: Request, refusal: BiaodiError) -> Response:
    with platform_of(request).reader() as uow:
        waiting, complained = queries.in_review(uow), queries.with_complaints(uow)
    status = 422 if isinstance(refusal, InvalidInput) else 409
    return render(request, "crowdfunding/review.html", {
        "waiting": waiting, "complained": complained, "can_act": True,
        "error": refusals.say(request, refusal, own="cf.own")}, status)


@router.post("/operator/crowdfunding/{project_id}/settle")
def settle(request: Request, project_id: RowId,
           user: Annotated[UserView, Depends(require_role("operator"))], form: Form
           ) -> Response:
    """Settle the complaints holding a project's 30 %: release or refund, with a reason."""
    platform = platform_of(request)
    cmd = projects.SettleComplaints(project_id, user.id, str(form.get("outcome", ""))[:16],
                                    str(form.get("reason", ""))[:400])
    try:
        in_transaction(platform.uow, lambda uow: projects.settle_complaints(uow, cmd))
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    except BiaodiError as refusal:
        return _refused(request, refusal)
    return redirect("/operator/crowdfunding")


@router.get("/crowdfunding/{project_id}")
def project_page(request: Request, project_id: RowId) -> Response:
    return _detail(request, project_id)


@router.post("/crowdfunding/{project_id}/back")
def back(request: Request, project_id: RowId, user: InvestorUser, form: Form) -> Response:
    lang = i18n.language_of(request)
    tier = str(form.get("tier_id", "")).strip()
    amount = None
    if not tier:
        try:
            amount = Money.parse(str(form.get("amount", "")).strip()[:20], field="amount")
        except InvalidInput:
            return _detail(request, project_id, error=i18n.translate(lang, "cf.error.amount"),
                           status=422)
    tier_id = int(tier) if tier.isdigit() and len(tier) < 12 else None
    if tier and tier_id is None:
        raise PageError(404, "error.not_found.title", "error.not_found.text")
    try:
        in_transaction(platform_of(request).uow, lambda uow: projects.back(
            uow, project_id, user.id, tier_id=tier_id, amount=amount))
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    except BiaodiError as refusal:
        return _detail(request, project_id, error=refusals.say(request, refusal, own="cf.own"),
                       status=409)
    return redirect("/me/crowdfunding?done=backed")


@router.get("/me/crowdfunding")
def mine_page(request: Request, user: SignedIn) -> Response:
    with platform_of(request).reader() as uow:
        found = queries.mine(uow, user.id)
    return render(request, "crowdfunding/mine.html", {"m": found, "error": None})


def _delivery(request: Request, user: UserView, pledge_id: int, action: str, form: Any
              ) -> Response:
    platform = platform_of(request)
    text = str(form.get("tracking_no" if action == "ship" else "complaint", ""))

    def act(uow):  # type: ignore[no-untyped-def]
        if action == "ship":
            return projects.ship(uow, pledge_id, user.id, text.strip()[:64])
        if action == "confirm":
            return projects.confirm_delivery(uow, pledge_id, user.id)
        return projects.complain(uow, pledge_id, user.id, text.strip()[:400])

    try:
        in_transaction(platform.uow, act)
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    except BiaodiError as refusal:
        with platform.reader() as uow:
            found = queries.mine(uow, user.id)
        return render(request, "crowdfunding/mine.html", {
            "m": found, "error": refusals.say(request, refusal, own="cf.own")}, 409)
    return redirect("/me/crowdfunding")


@router.post("/me/crowdfunding/pledges/{pledge_id}/ship")
def ship(request: Request, pledge_id: RowId, user: SignedIn, form: Form) -> Response:
    return _delivery(request, user, pledge_id, "ship", form)


@router.post("/me/crowdfunding/pledges/{pledge_id}/confirm")
def confirm(request: Request, pledge_id: RowId, user: SignedIn, form: Form) -> Response:
    return _delivery(request, user, pledge_id, "confirm", form)


@router.post("/me/crowdfunding/pledges/{pledge_id}/complain")
def complain(request: Request, pledge_id: RowId, user: SignedIn, form: Form) -> Response:
    return _delivery(request, user, pledge_id, "complain", form)

