"""The operator console's pages: the review queue and a listing's review (approve, reject,
publish, O2O steps, refusals in words with the rule), close of business, the overdue book and
the collections log, payment exceptions, the blacklist; and the role checks of each area."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.gateway.protocol import StatementLine, TxnType
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.payments import reconciliation
from biaodi.services.servicing import collections
from biaodi.services.shared.tx import in_transaction
from operator_support import act, sign_in, submitted
from servicing_support import due_dates, funded_loan, run_close, set_day

AREAS = ("/operator", "/operator/close-day", "/operator/loans",
         "/operator/payments/exceptions", "/operator/risk/blacklist")


def test_an_operator_reviews_records_the_o2o_steps_approves_and_publishes(
        client: TestClient, platform: Platform) -> None:
    listing_id = submitted(platform, house=True)
    sign_in(client, platform, "operator")
    queue = client.get("/operator")
    assert queue.status_code == 200 and f'data-listing="{listing_id}"' in queue.text
    page = client.get(f"/operator/listings/{listing_id}")
    html = page.text
    assert "申请人的风控结论" in html and "借款人综合年化成本" in html and "服务费年费率" in html
    assert re.search(r"信用等级</dt><dd>[A-E]</dd>", html)  # the applicant's grade
    assert "同信估价" in html and html.count('class="pending"') == 3
    assert "发布前尚缺" in html  # the three steps are still missing, in the page's language
    assert "抵押物 1：尚未登记借款合同签订" in html and "抵押物 1：尚未登记公证" in html
    assert "抵押物 1：尚未登记抵押登记" in html and "not recorded" not in html
    path = f"/operator/listings/{listing_id}"
    missing = act(client, path, {"action": "offline_step", "asset_id": "1",
                                 "step": "mortgage_registration",
                                 "done_on": platform.clock.today().isoformat()})
    assert missing.status_code == 422 and "请填写登记证明编号" in missing.text
    for step, reference in (("signed_contract", "HT-1"), ("notarisation", "GZ-2"),
                            ("mortgage_registration", "沪(2026)第01号")):
        done = act(client, path, {"action": "offline_step", "asset_id": "1", "step": step,
                                  "done_on": platform.clock.today().isoformat(),
                                  "reference": reference})
        assert done.status_code == 303, done.text
    approved = act(client, path, {"action": "approve", "reason": "资料齐全"})
    assert approved.status_code == 303
    page = client.get(approved.headers["location"]).text
    assert "已审核通过" in page and "发布（自动投标随即执行）" in page
    assert "发布前尚缺" not in page and page.count('class="done"') == 3
    published = act(client, path, {"action": "publish", "reason": ""})
    assert published.status_code == 303
    page = client.get(published.headers["location"]).text
    assert "已发布，自动投标已执行" in page and "募集中" in page
    assert f'data-listing="{listing_id}"' not in client.get("/operator").text


def test_refusals_are_shown_in_words_and_an_override_needs_its_role(
        client: TestClient, platform: Platform) -> None:
    undecided = submitted(platform, decided=False)
    other = submitted(platform, decided=False)
    sign_in(client, platform, "operator")
    path = f"/operator/listings/{undecided}"
    page = client.get(path).text
    assert "风控尚未对申请人作出结论" in page
    refused = act(client, path, {"action": "approve", "reason": "ok"})
    assert refused.status_code == 409
    assert "缺少风控结论" in refused.text and 'data-code="risk_decision_required"' in refused.text
    no_role = act(client, path, {"action": "approve", "override_reason": "老客户，线下已核实"})
    assert no_role.status_code == 403 and "权限不足" in no_role.text
    short = act(client, path, {"action": "reject", "reason": "no"})
    assert short.status_code == 422 and "至少 4 个字" in short.text
    rejected = act(client, path, {"action": "reject", "reason": "收入证明不全"})
    assert rejected.status_code == 303
    assert "已拒绝" in client.get(path).text and "收入证明不全" in client.get(path).text

    sign_in(client, platform, "operator", "risk_override")
    path = f"/operator/listings/{other}"
    overridden = act(client, path, {"action": "approve", "override_reason": "老客户，线下已核实"})
    assert overridden.status_code == 303
    history = client.get(path).text
    assert "risk override" in history and "老客户，线下已核实" in history


def test_each_area_checks_the_role_on_the_server(client: TestClient,
                                                 platform: Platform) -> None:
    listing_id = submitted(platform)
    for path in AREAS:
        assert client.get(path, follow_redirects=False).status_code == 303  # sign in first
    sign_in(client, platform, "investor")
    for path in AREAS:
        refused = client.get(path)
        assert refused.status_code == 403 and "无权访问" in refused.text, path
    # an auditor reads every book but changes nothing
    sign_in(client, platform, "auditor")
    page = client.get(f"/operator/listings/{listing_id}")
    assert page.status_code == 200 and "只读" in page.text and 'id="approve"' not in page.text
    assert act(client, f"/operator/listings/{listing_id}",
               {"action": "approve", "reason": "x"}).status_code == 403
    for path in AREAS:
        assert client.get(path).status_code == 200, path
    assert act(client, "/operator/close-day", {}).status_code == 403
    assert act(client, "/operator/payments/exceptions",
               {"exception_id": "1", "action": "apply", "reason": "test"}).status_code == 403
    assert act(client, "/operator/risk/blacklist",
               {"op": "add", "kind": "mobile", "value": "13800000000",
                "note": "x"}).status_code == 403
    # a risk officer keeps the blacklist but does not run close of business
    sign_in(client, platform, "risk_officer")
    assert client.get("/operator/close-day").status_code == 403
    assert client.get("/operator/payments/exceptions").status_code == 403
    assert client.get("/operator/risk/blacklist").status_code == 200


def test_a_refused_page_is_logged_like_the_apis_refusals(
        client: TestClient, platform: Platform, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="biaodi.access")
    assert client.get("/operator", follow_redirects=False).status_code == 303  # not logged
    borrower_id = sign_in(client, platform, "borrower")
    caplog.clear()
    assert client.get("/operator").status_code == 403
    logged = [r for r in caplog.records if r.name == "biaodi.access"]
    assert [(r.levelno, r.getMessage()) for r in logged] == [(
        logging.WARNING,
        f"access refused: GET /operator user={borrower_id} status=403 code=forbidden")]


def test_close_of_business_runs_for_today_and_lists_the_runs_with_their_steps(
        client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, "operator")
    page = client.get("/operator/close-day")
    assert "尚未运行过日终" in page.text and 'id="run-close-day"' in page.text
    today = platform.clock.today().isoformat()
    ran = act(client, "/operator/close-day", {})
    assert ran.status_code == 200 and f"日终已运行：{today}" in ran.text
    assert f'data-date="{today}"' in ran.text and "已完成" in ran.text
    for step in ("close_funding", "onboard", "delinquency", "settle"):
        assert f"<code>{step}</code>" in ran.text
    again = act(client, "/operator/close-day", {})  # a closed day is not run twice
    assert again.status_code == 200 and again.text.count('class="op-run"') == 1


def test_the_overdue_book_links_each_loan_and_the_borrowers_collections_log(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit")
    run_close(platform)
    set_day(clock, due_dates(platform, loan.listing_id)[0] + timedelta(days=5))
    run_close(platform)
    in_transaction(platform.uow, lambda uow: collections.record_contact(
        uow, collections.RecordContact(loan.applicant, "call", loan.listing_id,
                                       note="提醒还款"), platform.servicing_rules.conduct))
    sign_in(client, platform, "risk_officer")
    book = client.get("/operator/loans", params={"bucket": "M1"}).text
    assert f'data-loan="{loan.listing_id}"' in book
    assert f'href="/operator/loans/{loan.listing_id}"' in book
    assert client.get("/operator/loans", params={"bucket": "M2"}).text.count("data-loan=") == 0
    view = client.get(f"/operator/loans/{loan.listing_id}")
    assert view.status_code == 200 and "M1" in view.text and "overdue" in view.text
    log = client.get(f"/operator/collections/{loan.applicant}").text
    assert "提醒还款" in log and "call" in log


def test_payment_exceptions_are_resolved_with_a_reason(client: TestClient,
                                                       platform: Platform) -> None:
    stray = StatementLine("TSTRAY1", "D-ELSEWHERE", TxnType.DEPOSIT, Money(42_00), "pos",
                          platform.clock.now())
    day = platform.clock.today()
    report = in_transaction(platform.uow, lambda uow: reconciliation.reconcile(
        uow, day, [stray]))
    exception_id = report.open[0].id
    sign_in(client, platform, "operator")
    page = client.get("/operator/payments/exceptions").text
    assert f'data-exception="{exception_id}"' in page and "对账单有、账务无" in page
    data = {"exception_id": str(exception_id), "action": "apply"}
    short = act(client, "/operator/payments/exceptions", data | {"reason": "ok"})
    assert short.status_code == 422 and 'data-field="reason"' in short.text
    refund = act(client, "/operator/payments/exceptions", data | {"action": "refund",
                                                                  "reason": "退回付款人"})
    assert refund.status_code == 422 and 'data-field="confirm"' in refund.text  # unconfirmed
    done = act(client, "/operator/payments/exceptions", data | {"reason": "网关已确认到账"})
    assert done.status_code == 303
    assert f"异常 #{exception_id} 已处理" in client.get(done.headers["location"]).text
    resolved = client.get("/operator/payments/exceptions", params={"status": "resolved"}).text
    assert "网关已确认到账" in resolved and "按对账单入账" in resolved


def test_a_risk_officer_lists_and_removes_a_value_with_reasons(
        client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, "risk_officer")
    path = "/operator/risk/blacklist"
    assert "黑名单为空" in client.get(path).text
    no_note = act(client, path, {"op": "add", "kind": "mobile", "value": "13912345678",
                                 "reason": "manual", "note": ""})
    assert no_note.status_code == 422 and 'data-field="note"' in no_note.text
    assert "13912345678" not in no_note.text  # never echoed back
    added = act(client, path, {"op": "add", "kind": "mobile", "value": "13912345678",
                               "reason": "fraud", "note": "冒用他人身份"})
    assert added.status_code == 303
    page = client.get(added.headers["location"]).text
    assert "已加入黑名单" in page and "冒用他人身份" in page and "13912345678" not in page
    entry = re.search(r'data-entry="(\d+)"', page)
    assert entry
    removed = act(client, path, {"op": "remove", "entry_id": entry.group(1),
                                 "reason": "核实为误报，本人已申诉"})
    assert removed.status_code == 303
    assert "黑名单为空" in client.get(path).text
    history = client.get(path, params={"all": "1"}).text
    assert "核实为误报，本人已申诉" in history


def test_the_console_speaks_english(client: TestClient, platform: Platform) -> None:
    listing_id = submitted(platform)
    sign_in(client, platform, "operator")
    client.cookies.set("lang", "en")
    page = client.get(f"/operator/listings/{listing_id}").text
    assert "The applicant&#39;s risk decision" in page and ">Approve</button>" in page
    assert "Close of business" in client.get("/operator/close-day").text
