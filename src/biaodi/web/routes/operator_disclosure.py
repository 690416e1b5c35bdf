"""The operator console's information disclosure (信息披露): record a major event (public at
once on /disclosure, flagged when over 48 hours late) and read the recorded ones; keep the
related parties with the days they are related (add, end); record each funded loan's
post-loan update for a period and see the ones due or late. Operators only: the pages call
`services/disclosure/events` and `listing`, and show their refusals in the page's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.adapters.clock import CST
from biaodi.domain.disclosure.postloan import ITEMS
from biaodi.domain.shared.errors import BiaodiError, InvalidInput
from biaodi.services.accounts.users import UserView
from biaodi.services.disclosure import events, listing
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import Form, form_values, platform_of, redirect, render, require_role
from biaodi.web.routes.operator_books import READ, chrome, refusal, require_act

router = APIRouter(prefix="/operator/disclosure")

DisclosureReader = Annotated[UserView, Depends(require_role(*READ["disclosure"]))]

i18n.register({f"opx.{key}": text for key, text in {
    "tab": ("信息披露", "Disclosure"),
    "nav.events": ("重大事项", "Major events"),
    "nav.related": ("关联方", "Related parties"),
    "nav.updates": ("借后信息", "Post-loan updates"),
    "public": ("查看公开披露页面", "See the public disclosure page"),
    "events.title": ("重大事项", "Major events"),
    "events.intro": ("登记后立即在信息披露页面公开，且不能修改；发生后超过 48 小时才登记的标记为"
                     "逾期披露。",
                     "An event is public on the disclosure page as soon as it is recorded and "
                     "never changes; one recorded over 48 hours after it happened is flagged "
                     "late."),
    "events.record": ("登记重大事项", "Record a major event"),
    "events.recorded": ("已登记的重大事项", "Recorded events"),
    "events.done": ("重大事项已登记并公开。", "The event is recorded and public."),
    "events.done_late": ("重大事项已登记并公开；发生已超过 48 小时，标记为逾期披露。",
                         "The event is recorded and public; it happened over 48 hours ago, "
                         "so it is flagged late."),
    "f.kind": ("事项类型", "Kind"),
    "f.title": ("标题", "Title"),
    "f.body": ("内容", "What happened"),
    "f.occurred_at": ("发生时间（北京时间）", "Happened at (Beijing time)"),
    "f.user_id": ("用户编号", "User id"),
    "f.relation": ("关联关系", "Relation"),
    "f.relation_hint": ("如：股东、董事、高管的近亲属", "e.g. shareholder, director, an "
                        "officer's relative"),
    "f.since": ("关联起始日", "Related from"),
    "f.until": ("关联终止日（可不填）", "Related until (optional)"),
    "f.end_until": ("最后关联日", "Last related day"),
    "f.listing_id": ("标的编号", "Listing"),
    "f.period_end": ("报告期末", "Period ending"),
    "f.funds_use": ("借款资金运用情况", "How the money was used"),
    "f.finances": ("借款人经营状况及财务状况", "The borrower's business and finances"),
    "f.repayment_ability": ("借款人还款能力变化情况", "Changes in the ability to repay"),
    "f.overdue": ("借款人逾期情况", "Overdue payments"),
    "f.litigation": ("借款人涉诉及受行政处罚情况", "Lawsuits and administrative penalties"),
    "related.title": ("关联方", "Related parties"),
    "related.intro": ("月度运营数据中的关联方借贷余额和笔数，只计算在该月最后一天处于关联期内的"
                      "借款人（起止日均含当日）。",
                      "A monthly report's related-party balance and count include a borrower "
                      "only when related on the month's last day (both dates included)."),
    "related.add": ("登记关联方", "Add a related party"),
    "related.none": ("尚未登记关联方。", "No related party recorded."),
    "related.user": ("用户", "User"),
    "related.now": ("当前关联", "related today"),
    "related.ended": ("已终止", "ended"),
    "related.open": ("至今", "now"),
    "related.end": ("终止关联", "End the relation"),
    "related.done.add": ("关联方已登记。", "The related party is recorded."),
    "related.done.end": ("关联关系已终止。", "The relation is ended."),
    "updates.title": ("借后信息", "Post-loan updates"),
    "updates.intro": ("放款后每 3 个月披露一次借后信息，应在报告期末起 5 个工作日内登记；逾期未登记"
                      "的标记为逾期。",
                      "Each funded loan gets an update every 3 months, due within 5 working "
                      "days of the period's end; one not recorded by then is late."),
    "updates.owed": ("待登记的借后信息", "Updates due"),
    "updates.none": ("没有待登记的借后信息。", "No update is due."),
    "updates.due": ("截止日", "Due"),
    "updates.funded": ("放款日", "Funded"),
    "updates.late": ("已逾期", "late"),
    "updates.pending": ("待登记", "due"),
    "updates.fill": ("填写", "Fill in"),
    "updates.record": ("登记借后信息", "Record the update"),
    "updates.done": ("标的 #{id} 的借后信息已登记。", "The update for listing #{id} is "
                     "recorded."),
    "save": ("提交", "Submit"),
    "code.already_related": ("该用户在所填期间已登记为关联方", "That user is already recorded as "
                             "a related party for those days"),
    "code.already_ended": ("该关联关系已经终止", "That relation has already ended"),
    "code.already_recorded": ("该报告期的借后信息已经登记", "The update for that period is "
                              "already recorded"),
    "p.until": ("终止日不能早于起始日（{since}）", "The end cannot be before the start "
                "({since})"),
    "p.since_future": ("起始日不能晚于今天", "The start cannot be after today"),
    "p.period": ("报告期末须为放款后已届满的 3 个月周期末：{ends}", "The period must end a "
                 "3-month period since funding that has passed: {ends}"),
    "p.item": ("请填写“{item}”", "Fill in “{item}”"),
    "p.no_loan": ("该标的没有已放款的借款", "That listing has no funded loan"),
    "p.no_user": ("没有该用户", "There is no such user"),
    "p.no_party": ("没有该关联方记录", "There is no such related party"),
    "p.moment": ("请填写发生时间（年-月-日 时:分）", "Give the time it happened "
                 "(YYYY-MM-DD HH:MM)"),
}.items()})

#: The service's refusals by message, in the page's words (before the shared sentences).
PATTERNS = refusals.patterns(
    ("opx.p.until", r"until \S+ is before since (?P<since>\S+)"),
    ("opx.p.since_future", r"since \S+ is in the future"),
    ("opx.p.period", r"period_end must end a 3-month period since funding that has passed "
     r"\((?P<ends>[^)]*)\)"),
    ("opx.p.no_loan", r"has no funded loan"),
    ("opx.p.no_user", r"^no user \d+"),
    ("opx.p.no_party", r"^no related party \d+"),
    ("opx.p.moment", r"occurred_at must be a date and time"),
)


def _say(request: Request, exc: BiaodiError) -> dict[str, Any]:
    lang = i18n.language_of(request)
    error = refusal(request, exc)
    field = exc.field or ""
    if field.startswith("items.") and exc.code == "invalid_input" and "required" in exc.message:
        error["message"] = i18n.translate(lang, "opx.p.item", item=i18n.translate(
            lang, f"opx.f.{field[6:]}"))
    else:
        error["message"] = refusals.say(request, exc, own="opx.code", own_patterns=PATTERNS,
                                        labels=("opx.f",))
    error["field"] = field[6:] if field.startswith("items.") else field
    return error


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", field=field) from None


def _id(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 19 else 0


def _page(request: Request, user: UserView, template: str, context: dict[str, Any], *,
          error: dict[str, Any] | None, form: dict[str, str] | None, status: int) -> Response:
    return render(request, f"operator/{template}", {
        **context, "error": error, "form": form or {}, "done": request.query_params.get("done"),
        "item_keys": ITEMS, **chrome(request, user, "disclosure")}, status)


# --- major events ---------------------------------------------------------------------------
def _events_page(request: Request, user: UserView, *, error: dict[str, Any] | None = None,
                 form: dict[str, str] | None = None, status: int = 200) -> Response:
    with platform_of(request).reader() as uow:
        recorded = events.events(uow, limit=200)
    now = platform_of(request).clock.now().astimezone(CST)
    return _page(request, user, "disclosure_events.html", {
        "events": recorded, "kinds": events.EVENT_KINDS,
        "now": now.strftime("%Y-%m-%dT%H:%M")}, error=error, form=form, status=status)


@router.get("")
def events_page(request: Request, user: DisclosureReader) -> Response:
    return _events_page(request, user)


@router.post("/events")
def record_event(request: Request, user: DisclosureReader, form: Form) -> Response:
    require_act(request, user, "disclosure")
    values = form_values(form)
    try:
        try:
            occurred = datetime.fromisoformat(values.get("occurred_at", ""))
        except ValueError:
            raise InvalidInput("occurred_at must be a date and time",
                               field="occurred_at") from None
        if occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=CST)  # the form's time is Beijing time
        cmd = events.RecordEvent(values.get("kind", ""), values.get("title", ""),
                                 values.get("body", ""), occurred)
        made = in_transaction(platform_of(request).uow, lambda uow: events.record_event(
            uow, cmd, actor_id=user.id))
    except BiaodiError as exc:
        return _events_page(request, user, error=_say(request, exc), form=values,
                            status=exc.status)
    return redirect(f"/operator/disclosure?done={'late' if made['late'] else 'event'}"
                    f"#event-{made['id']}")


# --- related parties ------------------------------------------------------------------------
def _related_page(request: Request, user: UserView, *, error: dict[str, Any] | None = None,
                  form: dict[str, str] | None = None, status: int = 200) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        parties = events.related_parties(uow)
    return _page(request, user, "disclosure_related.html", {
        "parties": parties, "today": platform.clock.now().astimezone(CST).date().isoformat()},
        error=error, form=form, status=status)


@router.get("/related")
def related_page(request: Request, user: DisclosureReader) -> Response:
    return _related_page(request, user)


@router.post("/related")
def change_related(request: Request, user: DisclosureReader, form: Form) -> Response:
    """Add a related party (`op=add`) or end a relation (`op=end`)."""
    require_act(request, user, "disclosure")
    platform = platform_of(request)
    values = form_values(form)
    op = values.get("op", "")
    try:
        if op == "add":
            since, until = _day(values.get("since", ""), "since"), _day(
                values.get("until", ""), "until")
            user_id = _id(values.get("user_id", ""))
            in_transaction(platform.uow, lambda uow: events.record_related_party(
                uow, user_id, values.get("relation", ""), actor_id=user.id, since=since,
                until=until))
        elif op == "end":
            until = _day(values.get("until", ""), "until")
            party = _id(values.get("party_id", ""))
            in_transaction(platform.uow, lambda uow: events.end_related_party(
                uow, party, until, actor_id=user.id))
        else:
            raise InvalidInput("op must be one of add, end", field="op")
    except BiaodiError as exc:
        return _related_page(request, user, error=_say(request, exc) | {
            "op": op, "party_id": _id(values.get("party_id", ""))}, form=values,
            status=exc.status)
    return redirect(f"/operator/disclosure/related?done={op}")


# --- post-loan updates ----------------------------------------------------------------------
def _updates_page(request: Request, user: UserView, *, error: dict[str, Any] | None = None,
                  form: dict[str, str] | None = None, status: int = 200) -> Response:
    with platform_of(request).reader() as uow:
        owed = listing.updates_owed(uow)
    chosen = form or {"listing_id": request.query_params.get("listing", ""),
                      "period_end": request.query_params.get("period", "")}
    return _page(request, user, "disclosure_updates.html", {
        "owed": owed, "chosen": chosen,
        "done_id": request.query_params.get("listing", "")},
        error=error, form=form, status=status)


@router.get("/updates")
def updates_page(request: Request, user: DisclosureReader) -> Response:
    return _updates_page(request, user)


@router.post("/updates")
def record_update(request: Request, user: DisclosureReader, form: Form) -> Response:
    require_act(request, user, "disclosure")
    values = form_values(form)
    listing_id = _id(values.get("listing_id", ""))
    try:
        period_end = _day(values.get("period_end", ""), "period_end")
        if period_end is None:
            raise InvalidInput("period_end must be a date YYYY-MM-DD", field="period_end")
        cmd = listing.RecordUpdate(listing_id, period_end,
                                   {k: values.get(k, "") for k in ITEMS})
        in_transaction(platform_of(request).uow, lambda uow: listing.record_update(
            uow, cmd, actor_id=user.id))
    except BiaodiError as exc:
        return _updates_page(request, user, error=_say(request, exc), form=values,
                             status=exc.status)
    return redirect(f"/operator/disclosure/updates?done=update&listing={listing_id}")
