"""The borrower's pages: apply for credit and read the decision with its reasons, preview a
listing under every repayment method (with the refusals in words and their rule), save and
submit it, and repay a loan — what is due, and early in full — with refusals in words."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.db.tables import User
from biaodi.bootstrap import Platform
from risk_support import application_body
from servicing_support import due_dates, funded_loan, pay_in, run_close, seed_lpr, set_day
from web_support import post_form, sign_in_as


def _user_id(platform: Platform, username: str) -> int:
    with platform.reader() as uow:
        return int(uow.s.execute(select(User.id).where(User.username == username)).scalar_one())


def _form(body: dict[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in body.items()}


def _applied(client: TestClient, platform: Platform) -> str:
    """A borrower signs in and applies through the form: the decision page's address."""
    person = sign_in_as(client, platform, "borrower")
    response = post_form(client, "/borrow/apply", _form(application_body(person)),
                         token_from="/borrow/apply")
    assert response.status_code == 303, response.text[:2000]
    assert re.fullmatch(r"/borrow/applications/\d+", response.headers["location"])
    return str(response.headers["location"])


def _listing(**changes: str) -> dict[str, str]:
    return {"kind": "credit", "title": "装修周转", "amount": "10000", "annual_rate": "7",
            "term": "12", "term_unit": "month", "repayment_method": "equal_installment",
            "description": ""} | changes


def test_the_borrower_applies_and_reads_the_decision_with_its_reasons(
        client: TestClient, platform: Platform) -> None:
    decision = client.get(_applied(client, platform))
    html = decision.text
    assert decision.status_code == 200 and 'id="decision"' in html
    assert "已通过" in html and "信用等级" in html and "可用年利率区间" in html
    assert re.search(r"¥\d{1,3}(,\d{3})*\.\d\d", html)  # the limit, as money
    reasons = re.search(r'<ul class="reasons">(.*?)</ul>', html, re.S)
    assert reasons and "<li>" in reasons.group(1)  # the reasons, in Chinese
    assert re.search(r"[\u4e00-\u9fff]", reasons.group(1))
    dashboard = client.get("/borrow").text
    assert "已通过" in dashboard and "还没有借款标的" in dashboard
    client.cookies.set("lang", "en")
    english = client.get("/borrow").text
    assert "Approved" in english and "Rate band" in english and "Main reasons" in english


def test_application_errors_show_next_to_their_field(client: TestClient,
                                                      platform: Platform) -> None:
    person = sign_in_as(client, platform, "borrower")
    body = _form(application_body(person)) | {"monthly_income": "lots", "purpose": ""}
    response = post_form(client, "/borrow/apply", body, token_from="/borrow/apply")
    assert response.status_code == 422
    assert 'data-field="purpose"' in response.text  # required
    body["purpose"] = "consumption"
    response = post_form(client, "/borrow/apply", body, token_from="/borrow/apply")
    assert response.status_code == 422 and 'data-field="monthly_income"' in response.text
    assert f'value="{person["mobile"]}"' in response.text  # the other answers are kept


def test_preview_every_method_then_save_and_submit_the_listing(
        client: TestClient, platform: Platform) -> None:
    seed_lpr(platform)  # the cost cap is 4 × the one-year LPR (3.00 %): 12 %
    _applied(client, platform)
    preview = post_form(client, "/borrow/listings/new", _listing(action="preview"),
                        token_from="/borrow/listings/new")
    assert preview.status_code == 200
    html = preview.text
    methods = re.findall(r'data-method="(\w+)"', html)
    assert methods[0] == "equal_installment" and len(methods) == 4
    assert html.count("借款人综合年化成本") >= 4 and "符合规则，可以发布。" in html
    assert html.count("<tr><td>12</td>") == 3  # 12 instalments (bullet has one)
    # nothing was kept by the preview
    assert "还没有借款标的" in client.get("/borrow").text
    # a rate far outside the grade's band and above the cost cap: refused, in words
    high = post_form(client, "/borrow/listings/new",
                     _listing(action="preview", annual_rate="40"),
                     token_from="/borrow/listings/new").text
    assert "不能发布" in high and "cn2020.cost_cap_4x_lpr" in high and "exceeds 12%" in high
    banded = post_form(client, "/borrow/listings/new",
                       _listing(action="preview", annual_rate="9"),
                       token_from="/borrow/listings/new").text
    assert "不能发布" in banded and "rate band 6.00–7.50 %" in banded
    created = post_form(client, "/borrow/listings/new", _listing(action="create"),
                        token_from="/borrow/listings/new")
    assert created.status_code == 303
    path = created.headers["location"]
    draft = client.get(path).text
    assert "草稿" in draft and "提交审核" in draft
    submitted = post_form(client, path + "/submit", {}, token_from=path, follow=True)
    assert submitted.status_code == 200 and "已提交审核" in submitted.text
    assert "待审核" in client.get("/borrow").text


def test_a_new_listing_refused_shows_why_next_to_the_field(
        client: TestClient, platform: Platform) -> None:
    _applied(client, platform)
    bad = post_form(client, "/borrow/listings/new", _listing(action="create", amount="abc"),
                    token_from="/borrow/listings/new")
    assert bad.status_code == 422 and 'data-field="amount"' in bad.text
    capped = post_form(client, "/borrow/listings/new",
                       _listing(action="create", kind="collateral", amount="1000",
                                annual_rate="30", term="6"),
                       token_from="/borrow/listings/new")
    assert capped.status_code in (409, 422)
    assert "data-field=" in capped.text  # a refusal next to its field or at the top


def test_the_loan_page_repays_what_is_due_and_pays_off_early(
        client: TestClient, platform: Platform) -> None:
    person = sign_in_as(client, platform, "borrower")
    borrower = _user_id(platform, person["username"])
    loan = funded_loan(platform, "credit", applicant=borrower)
    path = f"/borrow/loans/{loan.listing_id}"
    assert f'href="{path}"' in client.get("/borrow").text
    page = client.get(path).text
    assert "还款计划" in page and page.count("<tr><td>") == 3 and "宽限期" in page
    nothing = post_form(client, path + "/repay", {"amount": "1", "key": "k1"}, token_from=path)
    assert nothing.status_code == 409 and "当前没有到期应还的款项" in nothing.text
    first_due = due_dates(platform, loan.listing_id)[0]
    set_day(platform.clock, first_due)  # type: ignore[arg-type]
    run_close(platform, first_due)  # the close of business marks the instalment due
    pay_in(platform, loan.payer, 1_000_000)  # 10,000.00 yuan into the borrower's wallet
    signed_in = post_form(client, "/login", {"username": person["username"],  # a month later
                                             "password": person["password"], "next": path})
    assert signed_in.status_code == 303
    due = re.search(r'name="amount" value="([\d.]+)"', client.get(path).text)
    assert due and float(due.group(1)) > 0
    paid = post_form(client, path + "/repay", {"amount": due.group(1), "key": "k2"},
                     token_from=path, follow=True)
    assert paid.status_code == 200 and "还款成功" in paid.text
    again = post_form(client, path + "/repay", {"amount": due.group(1), "key": "k2"},
                      token_from=path, follow=True)
    assert "还款成功" in again.text  # the same key replays, nothing is paid twice
    short = post_form(client, path + "/repay-early", {"key": "k3"}, token_from=path)
    assert short.status_code == 409 and "账户余额不足" in short.text
    pay_in(platform, loan.payer, 1_000_000)
    off = post_form(client, path + "/repay-early", {"key": "k4"}, token_from=path,
                    follow=True)
    assert "还款成功" in off.text and "该笔借款已结清" in off.text


def test_borrower_pages_need_the_borrower(client: TestClient, platform: Platform) -> None:
    assert client.get("/borrow", follow_redirects=False).headers["location"].startswith(
        "/login?next=")
    sign_in_as(client, platform, "investor")
    assert client.get("/borrow").status_code == 403
    assert client.get("/borrow/apply").status_code == 403
