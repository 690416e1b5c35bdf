"""The investor's pages: the dashboard, the risk questionnaire, investing with a confirmation
(and a suitability refusal in words), deposits and withdrawals through the gateway, the
upcoming cash flows, overdue and recovered amounts, and statements as CSV and Excel."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import Investment, User
from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.demo import seed as demo
from biaodi.services.investing import suitability
from biaodi.services.payments import orders as payments
from biaodi.services.shared.tx import in_transaction
from biaodi.web.routes import investor as investor_pages
from factories import identity
from investing_support import AGGRESSIVE, CONSERVATIVE, deposit
from investing_support import investor as funded_investor
from payment_support import FakeGateway, gateway_event
from risk_support import env
from servicing_support import due_dates, funded_loan, walk
from web_support import post_form

ANSWERS = {k: str(v) for k, v in AGGRESSIVE.items()}


@pytest.fixture
def seeded(platform: Platform) -> Platform:
    in_transaction(platform.uow, lambda uow: demo.seed(uow, platform.cipher,
                                                       platform.investing_rules, env(platform)))
    return platform


def investor(client: TestClient, platform: Platform, yuan: int = 0) -> int:
    """A new investor, signed in through /login, with `yuan` in the wallet (test funding)."""
    data = identity()
    cmd = users.Register(**data, roles=("investor",))
    user_id = in_transaction(platform.uow, lambda uow: users.register(uow, cmd,
                                                                      platform.cipher)).id
    if yuan:
        deposit(platform, user_id, yuan)
    sign_in(client, data["username"])
    return user_id


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    response = post_form(client, "/login", {"username": username, "password": "passw0rd-ok",
                                            "next": "/me"})
    assert response.status_code == 303, response.text


def assess(client: TestClient, answers: dict[str, str] = ANSWERS):  # type: ignore[no-untyped-def]
    return post_form(client, "/me/assessment", answers, token_from="/me/assessment")


def test_the_dashboard_is_for_investors_only(client: TestClient, platform: Platform) -> None:
    anonymous = client.get("/me", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=%2Fme"
    investor(client, platform, 1_234)
    page = client.get("/me")
    assert page.status_code == 200
    assert 'id="available">¥1,234.00' in page.text and "尚未测评" in page.text
    assert "还没有持有的债权" in page.text and 'href="/me"' in page.text  # the nav entry
    client.cookies.clear()
    data = identity()
    in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**data, roles=("borrower",)), platform.cipher))
    post_form(client, "/login", {"username": data["username"], "password": data["password"]})
    assert client.get("/me").status_code == 403


def test_the_questionnaire_names_unanswered_questions_and_shows_the_level(
        client: TestClient, platform: Platform) -> None:
    investor(client, platform)
    form = client.get("/me/assessment").text
    assert form.count('type="radio"') == 24 and "您的年龄" in form
    partial = assess(client, {"age": "3", "income": "2"})
    assert partial.status_code == 422
    assert 'data-field="horizon"' in partial.text and 'data-field="age"' not in partial.text
    assert assess(client).status_code == 303
    result = client.get("/me/assessment").text
    assert "进取型" in result and "R5" in result
    client.cookies.set("lang", "en")
    assert "Aggressive (listings up to R5)" in client.get("/me").text


def test_investing_confirms_amount_interest_and_levels_then_invests(
        client: TestClient, seeded: Platform) -> None:
    user_id = investor(client, seeded, 50_000)
    listing = client.get("/listings/1").text  # 信用标, 50,000 over 12 months
    assert 'action="/listings/1/invest"' in listing and 'id="invest"' in listing
    no_level = client.get("/listings/1/invest", params={"amount": "1000"})
    assert no_level.status_code == 200
    assert "您尚未完成风险测评" in no_level.text
    assert "suitability.assessment_required" in no_level.text
    assert 'id="confirm"' not in no_level.text  # nothing to confirm while refused
    assess(client)
    page = client.get("/listings/1/invest", params={"amount": "1000"})
    total = re.search(r"<tfoot><tr><th colspan=\"2\">合计</th>\s*<th class=\"num\">[\d,.]+</th>"
                      r"\s*<th class=\"num\">([\d,.]+)</th>", client.get("/listings/1").text)
    assert total, "the listing page's schedule total"
    interest = round(float(total.group(1).replace(",", "")) * 1000 / 50_000, 2)
    assert f'id="expected-interest">¥{interest:,.2f}' in page.text
    assert 'id="confirm-amount">¥1,000.00' in page.text and 'id="listing-level">R' in page.text
    assert "进取型" in page.text and 'id="confirm"' in page.text
    key = re.search(r'name="idempotency_key" value="(\w+)"', page.text).group(1)
    body = {"amount": "1000.00", "idempotency_key": key}
    done = post_form(client, "/listings/1/invest", body, token_from="/listings/1/invest")
    assert done.status_code == 303 and done.headers["location"] == "/me?invested=1:1000.00:frozen"
    again = post_form(client, "/listings/1/invest", body, token_from="/listings/1/invest")
    assert again.status_code == 303  # the same form twice invests once
    with seeded.uow() as uow:
        mine = uow.s.scalars(select(Investment).where(Investment.investor_id == user_id)).all()
    assert [i.amount_fen for i in mine] == [100_000]
    me = client.get(done.headers["location"]).text
    assert "出借成功：¥1,000.00" in me and 'id="frozen">¥1,000.00' in me
    assert 'data-investment="' in me and "小微企业经营周转" in me


def test_a_refusal_is_said_in_words_next_to_the_amount(client: TestClient,
                                                       seeded: Platform) -> None:
    investor(client, seeded, 50_000)
    assess(client, {k: str(v) for k, v in CONSERVATIVE.items()})
    risky = next(i for i in range(1, 6) if 'id="listing-level">R1<' not in client.get(
        f"/listings/{i}/invest").text)
    page = client.get(f"/listings/{risky}/invest", params={"amount": "1000"})
    found = re.search(r'<p class="error" id="e-amount" data-field="amount" '
                      r'data-rule="suitability.level_match">([^<]+)</p>', page.text)
    assert found, page.text
    assert "高于保守型出借人可投的最高等级 R1" in found.group(1)
    assert 'id="confirm"' not in page.text  # the page offers nothing to confirm
    refused = post_form(client, f"/listings/{risky}/invest",
                        {"amount": "1000", "idempotency_key": "posted-anyway"},
                        token_from=f"/listings/{risky}/invest")
    assert refused.status_code == 409 and "保守型" in refused.text
    bad = client.get("/listings/1/invest", params={"amount": "12.345"})
    assert bad.status_code == 422 and 'data-field="amount"' in bad.text
    assert "请填写金额（元），最多两位小数" in bad.text  # the service's refusal, in Chinese
    client.cookies.set("lang", "en")
    english = client.get(f"/listings/{risky}/invest", params={"amount": "1000"}).text
    assert "above the highest a Conservative investor may take, R1" in english
    assess(client)
    broke = client.get("/listings/1/invest", params={"amount": "40000"}).text
    assert "Not enough in your wallet (¥" not in broke
    broke = client.get("/listings/1/invest", params={"amount": "60000"}).text
    assert "Not enough in your wallet (¥50,000.00 available)" in broke
    assert 'id="confirm"' not in broke
    client.cookies.set("lang", "zh-CN")
    over = post_form(client, "/listings/1/invest", {"amount": "60000", "idempotency_key": "over"},
                     token_from="/listings/1/invest")
    assert over.status_code == 409
    assert re.search(r"金额超过本标的剩余可投的 ¥[\d,]+\.\d\d", over.text), over.text


def test_a_deposit_goes_to_the_gateway_page_and_returns_to_me(
        client: TestClient, platform: Platform) -> None:
    gateway = FakeGateway()
    client.app.dependency_overrides[investor_pages.get_gateway] = lambda: gateway
    investor(client, platform)
    sent = post_form(client, "/me/deposit", {"amount": "2000", "channel": "third_party"},
                     token_from="/me/deposit")
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("https://gateway.test/pay/D")
    order_no = sent.headers["location"].rsplit("/", 1)[1]
    assert "处理中" in client.get(f"/me?order={order_no}").text
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(order_no, "2000.00", at=platform.clock.now()), source="callback"))
    me = client.get(f"/me?order={order_no}").text
    assert f"支付订单 {order_no}：成功" in me and 'id="available">¥2,000.00' in me
    too_much = post_form(client, "/me/withdraw", {"amount": "5000",
                                                  "channel": "bank_transfer"},
                         token_from="/me/withdraw")
    assert too_much.status_code == 409 and "超过可用余额 ¥2,000.00" in too_much.text
    out = post_form(client, "/me/withdraw", {"amount": "500", "channel": "bank_transfer"},
                    token_from="/me/withdraw")
    assert out.status_code == 303 and out.headers["location"].startswith("/me?order=W")
    after = client.get(out.headers["location"]).text
    assert 'id="frozen">¥500.00' in after and 'id="available">¥1,500.00' in after
    bad = post_form(client, "/me/deposit", {"amount": "-1", "channel": "third_party"},
                    token_from="/me/deposit")
    assert bad.status_code == 422 and 'data-field="amount"' in bad.text
    assert "金额须大于零" in bad.text  # the service's refusal, in Chinese


def test_statements_download_as_csv_and_excel(client: TestClient, platform: Platform) -> None:
    investor(client, platform, 3_000)
    response = client.get("/me/statement.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "记账日" and len(rows) == 2
    assert rows[1][3] == "deposit" and rows[1][5] == "3000.00" and rows[1][4] == "可用余额"
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(io.BytesIO(client.get("/me/statement.xlsx").content))
    sheet = book.active
    assert sheet["A1"].value == "记账日" and float(sheet["F2"].value) == 3000.0
    assert sheet["E2"].value == "可用余额" and sheet.max_row == 2


def test_holdings_show_upcoming_cash_flows_overdue_and_recovered_amounts(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    user_id = investor(client, platform, 10_000)
    in_transaction(platform.uow, lambda uow: suitability.assess(uow, user_id, AGGRESSIVE))
    loan = funded_loan(platform, "guarantee", tickets=(3_300, 3_300),
                       people=[user_id, _other(platform)])
    me = client.get("/me").text
    assert f'data-holding="{loan.holdings[0]}"' in me and "3,300.00" in me
    figure = json.loads(re.search(r'id="cashflow-figure">(.*?)</script>', me, re.S).group(1))
    assert sum(1 for y in figure["data"][0]["y"] if y) == 3  # three monthly instalments ahead
    first_due = due_dates(platform, loan.listing_id)[0]
    with platform.uow() as uow:
        username = uow.s.get(User, user_id).username
    walk(platform, clock, first_due + timedelta(days=2))  # unpaid: overdue, not compensated
    sign_in(client, username)  # the session has expired meanwhile
    overdue = client.get("/me").text
    assert "逾期 2 天" in overdue and 'class="num overdue" id="total-overdue">¥' in overdue
    walk(platform, clock, first_due + timedelta(days=5))  # the guarantor has paid
    sign_in(client, username)
    recovered = client.get("/me").text
    found = re.search(r'id="total-recovered">¥([\d,.]+)<', recovered)
    assert found and found.group(1) != "0.00", recovered


def _other(platform: Platform) -> int:
    return funded_investor(platform, 3_300)
