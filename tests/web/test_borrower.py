"""The borrower's pages: apply for credit and read the decision with its reasons, preview a
listing under every repayment method (with the refusals in words and their rule), save and
submit it, and repay a loan — what is due, and early in full — with refusals in words."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.db.tables import User
from biaodi.bootstrap import Platform
from biaodi.services.listings import lifecycle
from biaodi.services.shared.tx import in_transaction
from investing_support import user
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
    assert "请填写金额（元），最多两位小数" in response.text  # in the page's language
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
    assert "不能发布" in high and "cn2020.cost_cap_4x_lpr" in high
    assert "综合年化成本 40% 超过" in high and "12%" in high and "exceeds" not in high
    banded = post_form(client, "/borrow/listings/new",
                       _listing(action="preview", annual_rate="9"),
                       token_from="/borrow/listings/new").text
    assert "不能发布" in banded and "不在您信用等级" in banded and "6.00–7.50%" in banded
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


def _money_on(page: str, element_id: str) -> float:
    found = re.search(rf'id="{element_id}">¥([\d,.]+)<', page)
    assert found, element_id
    return float(found.group(1).replace(",", ""))


def test_part_of_the_loan_repaid_early_after_a_quote(client: TestClient,
                                                      platform: Platform) -> None:
    person = sign_in_as(client, platform, "borrower")
    loan = funded_loan(platform, "credit", applicant=_user_id(platform, person["username"]),
                       term=6)
    path = f"/borrow/loans/{loan.listing_id}"
    page = client.get(path).text
    assert 'id="prepay"' in page and "减少每期还款额" in page and "缩短还款期限" in page

    def prepay(**body: str):  # type: ignore[no-untyped-def]
        return post_form(client, path + "/prepay", {"key": "p1", "reamortise":
                                                    "lower_instalment"} | body, token_from=path)

    short = prepay(principal="3000")  # the borrower spent the loan: nothing in the wallet
    assert short.status_code == 409 and "账户余额不足：本次需支付 ¥3,000.00" in short.text
    assert 'value="3000"' in short.text  # the amount is kept
    pay_in(platform, loan.payer, 1_000_000)
    assert "请填写金额" in prepay(principal="abc").text
    above = prepay(principal="10000")
    assert above.status_code == 422
    assert "提前还款本金须大于零且小于未到期本金 ¥10,000.00" in above.text
    quote = prepay(principal="3000", reamortise="shorter_term")
    html = quote.text
    assert quote.status_code == 200 and 'id="prepay-quote"' in html, html[:3000]
    assert "提前还款违约金" in html and "不收取提前还款违约金" in html
    assert _money_on(html, "quote-total") >= 3000 and _money_on(html, "quote-charge") == 0
    after = re.search(r'id="before-after">.*?剩余期数</td><td class="num">(\d+)</td>'
                      r'<td class="num">(\d+)</td>', html, re.S)
    assert after and int(after.group(2)) < int(after.group(1)) == 6  # a shorter term
    assert "已取消" in html  # the instalments past the shorter term
    assert "¥10,000.00" in client.get(path).text  # the quote paid nothing
    lower = prepay(principal="3000").text
    facts = re.search(r'剩余期数</td><td class="num">(\d+)</td><td class="num">(\d+)</td>',
                      lower)
    assert facts and facts.group(1) == facts.group(2)  # same count, lower instalments
    key = re.search(r'id="prepay-confirm">.*?name="key" value="([^"]+)"', lower, re.S)
    assert key
    done = post_form(client, path + "/prepay", {"key": key.group(1), "action": "confirm",
                                                "principal": "3000",
                                                "reamortise": "lower_instalment"},
                     token_from=path, follow=True)
    assert done.status_code == 200 and "还款成功" in done.text
    assert "本金 ¥3,000.00" in done.text and "¥7,000.00" in done.text  # principal owed now
    client.cookies.set("lang", "en")
    english = post_form(client, path + "/prepay", {"key": "p2", "principal": "99999",
                                                   "reamortise": "lower_instalment"},
                        token_from=path).text
    assert "The principal to prepay must be above zero and below the ¥7,000.00" in english


def test_an_overdue_loan_shows_each_instalments_penalty_and_why(
        client: TestClient, platform: Platform) -> None:
    person = sign_in_as(client, platform, "borrower")
    loan = funded_loan(platform, "credit", applicant=_user_id(platform, person["username"]))
    path = f"/borrow/loans/{loan.listing_id}"
    first_due = due_dates(platform, loan.listing_id)[0]
    late = first_due + timedelta(days=10)
    set_day(platform.clock, late)  # type: ignore[arg-type]
    run_close(platform, late)  # the missed days are closed one by one: penalty accrues
    post_form(client, "/login", {"username": person["username"],
                                 "password": person["password"], "next": path})
    page = client.get(path).text
    assert 'id="overdue"' in page, page[:3000]
    row = re.search(r'<li data-seq="1">(.*?)</li>', page)
    assert row and "已逾期 10 天" in row.group(1) and "宽限期" in row.group(1)
    assert "每日" in row.group(1) and "本期分摊罚息 ¥" in row.group(1)
    client.cookies.set("lang", "en")
    english = client.get(path).text
    assert "is 10 days overdue" in english and "of the penalty is this instalment" in english


def _house_listing(client: TestClient, platform: Platform) -> str:
    _applied(client, platform)
    appraised = (platform.clock.today() - timedelta(days=3)).isoformat()
    created = post_form(client, "/borrow/listings/new", _listing(
        action="create", kind="collateral", title="房产抵押 · 周转", amount="50000",
        **{"assets.0.asset_class": "house", "assets.0.appraisal_value": "900000",
           "assets.0.appraised_on": appraised, "assets.0.appraiser": "链家评估",
           "assets.1.asset_class": "car", "assets.1.appraisal_value": "60000",
           "assets.1.appraised_on": appraised, "assets.1.appraiser": "车易估",
           "assets.1.plate_number": "京A12345",
           "assets.1.registration_certificate_no": "110000123456"}),
        token_from="/borrow/listings/new")
    assert created.status_code == 303, created.text[:3000]
    return str(created.headers["location"])


def test_the_listing_shows_its_offline_steps_read_only(client: TestClient,
                                                        platform: Platform) -> None:
    seed_lpr(platform)
    path = _house_listing(client, platform)
    listing_id = int(path.rsplit("/", 1)[1])
    page = client.get(path).text
    assert 'id="o2o"' in page and "线下办理进度" in page and "发布前尚需" in page
    assert page.count('data-step="signed_contract" class="pending"') == 1
    assert 'data-step="vehicle_registration" class="done"' in page  # the car's plate is in
    assert "评估机构 链家评估" in page and 'action="/operator' not in page  # read only
    operator = user(platform, "operator")
    found = re.search(r'data-asset="(\d+)"', page)  # the house, listed first
    assert found
    asset_id = int(found.group(1))
    today = platform.clock.today()
    for step, reference in (("signed_contract", "HT-2026-001"), ("notarisation", "GZ-88")):
        in_transaction(platform.uow, lambda uow, step=step, reference=reference:
                       lifecycle.record_offline_step(uow, listing_id, asset_id, step=step,
                                                     done_on=today, reference=reference,
                                                     operator_id=operator))
    page = client.get(path).text
    assert 'data-step="signed_contract" class="done"' in page and "运营人员" in page
    needs = re.search(r'<ul class="reasons" id="o2o-needs">(.*?)</ul>', page, re.S)
    assert needs and "抵押登记" in needs.group(1) and "公证" not in needs.group(1)
    client.cookies.set("lang", "en")
    english = client.get(path).text
    assert "Offline steps (O2O)" in english and "Mortgage registration" in english
    assert "Still needed before publishing" in english


def test_listing_refusals_in_chinese_name_their_rule(client: TestClient,
                                                      platform: Platform) -> None:
    seed_lpr(platform)
    _applied(client, platform)
    capped = post_form(client, "/borrow/listings/new", _listing(
        action="create", kind="collateral", amount="300000",
        **{"assets.0.asset_class": "house", "assets.0.appraisal_value": "2000000",
           "assets.0.appraised_on": platform.clock.today().isoformat(),
           "assets.0.appraiser": "链家评估"}), token_from="/borrow/listings/new")
    assert capped.status_code == 409, capped.text[:3000]
    assert "借款余额上限：自然人在本平台的借款余额不得超过 ¥200,000.00" in capped.text
    assert "cn2016.borrowing_caps" in capped.text and "may owe" not in capped.text
    over = post_form(client, "/borrow/listings/new", _listing(action="create", amount="900000"),
                     token_from="/borrow/listings/new")
    assert "超过您的可用信用额度" in over.text and "exceeds" not in over.text
    bad_title = post_form(client, "/borrow/listings/new", _listing(action="create", title="x"),
                          token_from="/borrow/listings/new")
    assert "标题须为 2 至 120 个字" in bad_title.text
    client.cookies.set("lang", "en")
    english = post_form(client, "/borrow/listings/new", _listing(
        action="preview", annual_rate="40"), token_from="/borrow/listings/new").text
    assert "The all-in annual cost 40% exceeds 12%" in english
    assert "Rule cn2020.cost_cap_4x_lpr" in english


def test_borrower_pages_need_the_borrower(client: TestClient, platform: Platform) -> None:
    assert client.get("/borrow", follow_redirects=False).headers["location"].startswith(
        "/login?next=")
    sign_in_as(client, platform, "investor")
    assert client.get("/borrow").status_code == 403
    assert client.get("/borrow/apply").status_code == 403
