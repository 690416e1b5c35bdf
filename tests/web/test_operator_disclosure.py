"""The operator console's disclosure pages, on SQLite and PostgreSQL: a major event recorded
through the form is public at once on /disclosure and in the JSON (late after 48 hours);
related parties added with their dates and ended; a funded loan's post-loan update due after
three months, listed as due then late, recorded through the form and shown on the listing's
disclosure; refusals shown next to their field in the page's language; operators only."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.domain.disclosure.postloan import ITEMS, add_months
from biaodi.services.disclosure import events
from investing_support import user
from operator_support import sign_in
from servicing_support import funded_loan, run_close, set_day
from web_support import CSRF

ITEM_TEXT = {"funds_use": "用于门店装修", "finances": "经营正常", "repayment_ability": "无变化",
             "overdue": "无逾期", "litigation": "无"}


def post(client: TestClient, page: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Post `data` to `action` with the token of the page's form that posts there."""
    html = client.get(page).text
    form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>',
                     html, re.S)
    assert form, html[html.find("<main"):][:2000]
    token = CSRF.search(form.group(1))
    assert token
    return client.post(action, data=data | {"csrf_token": token.group(1)},
                       follow_redirects=False)


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="error"[^>]*data-field="{field}">([^<]*)</p>', html)
    assert found, html[html.find("<main"):][:3000]
    return found.group(1)


def test_an_event_recorded_in_the_console_is_public_at_once(client: TestClient,
                                                            platform: Platform,
                                                            clock: FixedClock) -> None:
    set_day(clock, date(2026, 11, 20))
    sign_in(client, platform, "operator")
    client.cookies.set("lang", "zh-CN")
    console = client.get("/operator").text
    assert 'href="/operator/disclosure"' in console  # in the console's tabs
    # three days ago, Beijing time: late
    made = post(client, "/operator/disclosure", "/operator/disclosure/events", {
        "kind": "litigation", "title": "平台涉诉公告", "body": "平台收到起诉状。",
        "occurred_at": "2026-11-17T09:30"})
    assert made.status_code == 303 and "done=late" in made.headers["location"]
    on_time = post(client, "/operator/disclosure", "/operator/disclosure/events", {
        "kind": "executive_change", "title": "高管变更", "body": "新任首席风险官。",
        "occurred_at": "2026-11-20T08:00"})
    assert "done=event" in on_time.headers["location"]
    public = client.get("/disclosure").text
    assert "平台涉诉公告" in public and "高管变更" in public
    listed = {e["title"]: e for e in client.get("/api/v1/disclosure/events").json()}
    assert listed["平台涉诉公告"]["late"] is True and listed["高管变更"]["late"] is False
    assert listed["平台涉诉公告"]["occurred_at"].startswith("2026-11-17T01:30")  # 09:30 +08:00
    # refusals next to their field, in the page's language; nothing recorded
    future = post(client, "/operator/disclosure", "/operator/disclosure/events", {
        "kind": "outage", "title": "故障", "body": "系统故障。",
        "occurred_at": "2026-11-21T09:00"})
    assert future.status_code == 422
    assert re.search(r"[\u4e00-\u9fff]", field_error(future.text, "occurred_at"))
    client.cookies.set("lang", "en")
    blank = post(client, "/operator/disclosure", "/operator/disclosure/events", {
        "kind": "outage", "title": "  ", "body": "x", "occurred_at": "2026-11-20T09:00"})
    assert blank.status_code == 422 and "title" in field_error(blank.text, "title")
    bad_time = post(client, "/operator/disclosure", "/operator/disclosure/events", {
        "kind": "outage", "title": "t", "body": "x", "occurred_at": "yesterday"})
    assert field_error(bad_time.text, "occurred_at").startswith("Give the time")
    nul = post(client, "/operator/disclosure", "/operator/disclosure/events", {
        "kind": "outage", "title": "a\x00b", "body": "x", "occurred_at": "2026-11-20T09:00"})
    assert nul.status_code == 422  # every form refuses a NUL character, naming the field
    assert "The field title contains a character that is not allowed" in nul.text
    assert len(client.get("/api/v1/disclosure/events").json()) == 2


def test_related_parties_are_added_with_dates_and_ended(client: TestClient,
                                                        platform: Platform,
                                                        clock: FixedClock) -> None:
    set_day(clock, date(2026, 11, 20))
    kin = user(platform, "borrower")
    sign_in(client, platform, "operator")
    client.cookies.set("lang", "zh-CN")
    page, action = "/operator/disclosure/related", "/operator/disclosure/related"
    backwards = post(client, page, action, {"op": "add", "user_id": str(kin),
                                            "relation": "股东近亲属", "since": "2026-11-10",
                                            "until": "2026-11-01"})
    assert backwards.status_code == 422
    assert field_error(backwards.text, "until") == "终止日不能早于起始日（2026-11-10）"
    assert 'value="股东近亲属"' in backwards.text  # what was typed is kept
    nobody = post(client, page, action, {"op": "add", "user_id": "999999",
                                         "relation": "股东", "since": "2026-11-10"})
    assert field_error(nobody.text, "user_id") == "没有该用户"
    added = post(client, page, action, {"op": "add", "user_id": str(kin),
                                        "relation": "股东近亲属", "since": "2026-11-10"})
    assert added.status_code == 303
    again = post(client, page, action, {"op": "add", "user_id": str(kin), "relation": "董事",
                                        "since": "2026-11-15"})
    assert field_error(again.text, "user_id") == "该用户在所填期间已登记为关联方"
    html = client.get(page).text
    found = re.search(rf'data-party="(\d+)" data-user="{kin}">(.*?)</tr>', html, re.S)
    assert found and "2026-11-10" in found.group(2) and "当前关联" in found.group(2)
    party = {"id": found.group(1)}
    with platform.reader() as uow:  # the report's figures read the same dates
        assert [(p["since"], p["until"]) for p in events.related_parties(uow)] == [
            ("2026-11-10", None)]
    client.cookies.set("lang", "en")
    early = post(client, page, action, {"op": "end", "party_id": str(party["id"]),
                                        "until": "2026-11-01"})
    assert field_error(early.text, "until") == "The end cannot be before the start (2026-11-10)"
    ended = post(client, page, action, {"op": "end", "party_id": str(party["id"]),
                                        "until": "2026-11-18"})
    assert ended.status_code == 303
    with platform.reader() as uow:
        assert [(p["since"], p["until"]) for p in events.related_parties(uow)] == [
            ("2026-11-10", "2026-11-18")]
    html = client.get(page).text
    row = html[html.index(f'data-party="{party["id"]}"'):]
    row = row[:row.index("</tr>")]
    assert "2026-11-18" in row and 'data-form="end"' not in row


def test_a_post_loan_update_falls_due_and_is_recorded_from_the_console(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    funded_on = date(2026, 8, 3)
    set_day(clock, funded_on)
    loan = funded_loan(platform, "credit", term=6)
    run_close(platform, funded_on)  # the loan is onboarded by close of business
    period_end = add_months(funded_on, 3)  # 2026-11-03, due 5 working days later
    set_day(clock, period_end)
    sign_in(client, platform, "operator")
    client.cookies.set("lang", "zh-CN")
    page = "/operator/disclosure/updates"
    html = client.get(page).text
    row = re.search(rf'data-owed="{loan.listing_id}" data-period="{period_end}".*?</tr>',
                    html, re.S)
    assert row and "待登记" in row.group(0) and "已逾期" not in row.group(0)
    set_day(clock, date(2026, 11, 20))  # past the 5th working day: late
    sign_in(client, platform, "operator")  # the session did not last that long
    client.cookies.set("lang", "zh-CN")
    html = client.get(page).text
    row = re.search(rf'data-owed="{loan.listing_id}" data-period="{period_end}".*?</tr>',
                    html, re.S)
    assert row and "已逾期" in row.group(0), html[html.find("<main"):][:2500]
    fill = client.get(f"{page}?listing={loan.listing_id}&period={period_end}").text
    assert f'value="{period_end}"' in fill
    missing = post(client, page, page, {"listing_id": str(loan.listing_id),
                                        "period_end": str(period_end),
                                        **(ITEM_TEXT | {"litigation": ""})})
    assert missing.status_code == 422
    assert field_error(missing.text, "litigation") == "请填写“借款人涉诉及受行政处罚情况”"
    wrong = post(client, page, page, {"listing_id": str(loan.listing_id),
                                      "period_end": str(period_end + timedelta(days=1)),
                                      **ITEM_TEXT})
    assert field_error(wrong.text, "period_end").startswith("报告期末须为")
    done = post(client, page, page, {"listing_id": str(loan.listing_id),
                                     "period_end": str(period_end), **ITEM_TEXT})
    assert done.status_code == 303
    assert f'data-owed="{loan.listing_id}"' not in client.get(page).text
    shown = client.get(f"/api/v1/disclosure/listings/{loan.listing_id}").json()
    period = shown["post_loan"]["periods"][0]
    assert (period["period_end"], period["late"], period["items"]) == (
        str(period_end), True, {k: ITEM_TEXT[k] for k in ITEMS})
    twice = post(client, page, page, {"listing_id": str(loan.listing_id),
                                      "period_end": str(period_end), **ITEM_TEXT})
    assert field_error(twice.text, "period_end") == "该报告期的借后信息已经登记"


def test_only_operators_see_and_post(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, "auditor")
    assert client.get("/operator/disclosure").status_code == 403
    assert 'href="/operator/disclosure"' not in client.get("/operator").text
    sign_in(client, platform, "investor")
    assert client.get("/operator/disclosure/related").status_code == 403
    client.cookies.clear()
    page = client.get("/operator/disclosure/updates", follow_redirects=False)
    assert page.status_code in (303, 401)
