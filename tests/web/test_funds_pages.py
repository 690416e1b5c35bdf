"""The cash-wallet, crowdfunding and advisory pages, through the app (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, time

from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import AutoInvestRule
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.crowdfunding import projects as cf
from biaodi.services.funds import wallet as cash
from biaodi.services.shared.tx import in_transaction
from crowdfunding_support import complained_project
from funds_support import planted_break
from investing_support import balances, user
from servicing_support import set_day
from web_support import assessed_investor, post_form, sign_in_as


def test_cash_wallet_page_subscribes_and_refuses_an_instant_redemption_over_the_cap(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    me = assessed_investor(client, platform, 30_000)
    done = post_form(client, "/me/cash-wallet/subscribe", {"amount": "20000"},
                     token_from="/me/cash-wallet")
    assert done.status_code == 303 and "day=2026-12-02" in done.headers["location"]
    # the relay sends it; the fund confirms on T+1 (the clock stays: the page's session lasts
    # hours, not a day)
    cash.relay_orders(platform.uow, platform.fund_company)
    in_transaction(platform.uow, lambda uow: cash.confirm(uow, platform.fund_company,
                                                          date(2026, 12, 2)))
    page = client.get("/me/cash-wallet")
    assert "¥20,000.00" in page.text and "零钱理财" in page.text
    refused = post_form(client, "/me/cash-wallet/redeem",
                        {"amount": "10000.01", "instant": "on"}, token_from="/me/cash-wallet")
    assert refused.status_code == 409 and "1 万元上限" in refused.text
    with platform.reader() as uow:
        assert cash.overview(uow, me)["units"] == "20000.00"  # nothing moved


def test_a_backer_supports_a_live_project_from_its_page(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    owner = user(platform, "borrower")

    def make(uow):  # type: ignore[no-untyped-def]
        project = cf.create(uow, cf.CreateProject(
            owner, "折叠自行车", "", Money.yuan(5_000), 10,
            [cf.TierInput("早鸟", Money.yuan(999), 5, date(2027, 1, 15))]),
            platform.crowdfunding_rules)
        cf.review(uow, project.id, approve=True, note="", rules=platform.crowdfunding_rules)
        return project.id

    project_id = in_transaction(platform.uow, make)
    assert "折叠自行车" in client.get("/crowdfunding").text
    assessed_investor(client, platform, 2_000)
    page = client.get(f"/crowdfunding/{project_id}")
    tier = page.text.split('name="tier_id" value="')[1].split('"')[0]
    backed = post_form(client, f"/crowdfunding/{project_id}/back", {"tier_id": tier},
                       token_from=f"/crowdfunding/{project_id}")
    assert backed.status_code == 303
    mine = client.get("/me/crowdfunding")
    assert "折叠自行车" in mine.text and "¥999.00" in mine.text
    assert "¥999.00 (19 %)" in client.get(f"/crowdfunding/{project_id}").text


def test_the_advice_page_explains_the_mix_and_adopts_it_as_rules(
        client: TestClient, platform: Platform) -> None:
    me = assessed_investor(client, platform, 1_000)
    page = client.get("/me/advice")
    assert 'data-grade="C" data-kind="collateral"' in page.text and "抵押标" in page.text
    assert "吃掉了 13.50 % 的利率" in page.text  # grade E, left out with its reason
    assert "平均会亏损" in page.text  # E credit loses money on average
    client.cookies.set("lang", "en")
    english = client.get("/me/advice").text
    assert "eats its 13.50 % coupon" in english and "Collateral" in english
    client.cookies.set("lang", "zh-CN")
    assert 'id="adv-per-listing-rule"' in page.text and 'id="adv-cash"' not in page.text
    too_big = post_form(client, "/me/advice/adopt", {"budget": "10000", "per_listing": "600"},
                        token_from="/me/advice")
    assert too_big.status_code == 422 and "不得超过总金额的 1/20" in too_big.text
    adopted = post_form(client, "/me/advice/adopt", {"budget": "10000", "per_listing": "500"},
                        token_from="/me/advice")
    assert adopted.status_code == 303 and adopted.headers["location"] == "/me/auto-invest"
    with platform.reader() as uow:
        rules = uow.s.execute(select(AutoInvestRule.best_grade, AutoInvestRule.kinds).where(
            AutoInvestRule.investor_id == me)).all()
    assert {grade for grade, _ in rules} >= {"A", "B", "C"}
    assert {kinds[0] for _, kinds in rules} >= {"collateral", "guarantee"}


def test_a_project_started_on_its_page_goes_live_when_an_operator_approves_it(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    set_day(clock, date(2026, 12, 1), time(10, 0))
    sign_in_as(client, platform, "borrower")
    refused = post_form(client, "/crowdfunding/new", {
        "title": "手冲壶", "goal": "3000", "days": "61"}, token_from="/crowdfunding/new")
    assert refused.status_code == 422 and "请检查：筹款天数（1–60）" in refused.text
    made = post_form(client, "/crowdfunding/new", {
        "title": "手冲壶", "goal": "3000", "days": "20", "tier0_title": "一把",
        "tier0_price": "199", "tier0_quota": "50", "tier0_ship_date": "2027-01-20"},
        token_from="/crowdfunding/new")
    assert made.status_code == 303
    project_id = int(made.headers["location"].rsplit("/", 1)[1])
    client.cookies.clear()
    sign_in_as(client, platform, "operator")
    assert "手冲壶" in client.get("/operator/crowdfunding").text
    approved = post_form(client, f"/operator/crowdfunding/{project_id}/review",
                         {"decision": "approve", "note": ""}, token_from="/operator/crowdfunding")
    assert approved.status_code == 303
    assert "筹款中" in client.get(f"/crowdfunding/{project_id}").text


def test_an_operator_refunds_a_complaining_backer_from_the_crowdfunding_page(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    project_id, a, _pa, pb = complained_project(platform, clock)
    in_transaction(platform.uow, lambda uow: cf.confirm_delivery(uow, pb.id, pb.backer_id))
    sign_in_as(client, platform, "operator")
    page = client.get("/operator/crowdfunding")
    assert "车架有裂纹" in page.text and f"/operator/crowdfunding/{project_id}/settle" in page.text
    before = balances(platform, f"investor:{a}:available")[f"investor:{a}:available"]
    no_reason = post_form(client, f"/operator/crowdfunding/{project_id}/settle",
                          {"outcome": "refund", "reason": ""}, token_from="/operator/crowdfunding")
    assert no_reason.status_code == 422
    done = post_form(client, f"/operator/crowdfunding/{project_id}/settle",
                     {"outcome": "refund", "reason": "坏件照片属实"},
                     token_from="/operator/crowdfunding")
    assert done.status_code == 303
    after = balances(platform, f"investor:{a}:available")[f"investor:{a}:available"]
    assert after - before == 8_730  # a's share of the held 30 %
    assert "没有因投诉暂扣的款项" in client.get("/operator/crowdfunding").text


def test_the_advice_page_says_why_money_stays_in_cash(client: TestClient,
                                                      platform: Platform) -> None:
    from biaodi.adapters.db.tables import User
    from biaodi.services.investing import suitability

    signed = sign_in_as(client, platform, "investor")
    with platform.reader() as uow:
        me = uow.s.scalar(select(User.id).where(User.username == signed["username"]))
    growth = {"age": 2, "income": 2, "experience": 2, "horizon": 2, "loss_tolerance": 2,
              "share_of_assets": 2}
    in_transaction(platform.uow, lambda uow: suitability.assess(uow, me, growth))
    page = client.get("/me/advice").text
    assert 'id="adv-cash"' in page
    assert "留在现金钱包" in page and "已达上限" in page


def test_an_operator_resolves_a_cash_wallet_break_from_the_console(
        client: TestClient, platform: Platform, clock: FixedClock) -> None:
    _holder, break_id = planted_break(platform, clock)
    sign_in_as(client, platform, "operator")
    page = client.get("/operator/cash-wallet")
    assert f'data-break="{break_id}"' in page.text and "units_mismatch" in page.text
    no_reason = post_form(client, "/operator/cash-wallet",
                          {"break_id": str(break_id), "resolution": "adjust", "reason": ""},
                          token_from="/operator/cash-wallet")
    assert no_reason.status_code == 422 and 'data-field="reason"' in no_reason.text
    done = post_form(client, "/operator/cash-wallet",
                     {"break_id": str(break_id), "resolution": "adjust",
                      "reason": "基金公司确认更正"}, token_from="/operator/cash-wallet")
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "没有未处理的差异" in after.text and f'data-resolved="{break_id}"' in after.text
