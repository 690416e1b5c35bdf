"""The investor's auto-invest pages: a rule created, refused with errors next to the fields
(values kept, both languages), changed, paused, resumed and deleted; nobody else's rule can be
touched; and the allocation log after the engine ran on a published listing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from investing_support import published_listing
from web_support import assessed_investor as investor
from web_support import post_form

GOOD = {"amount_per_listing": "1000", "cash_reserve": "500", "total_cap": "", "min_rate": "8.5",
        "max_term_months": "24", "best_grade": "", "worst_grade": "", "enabled": "on"}


def save(client: TestClient, path: str, data: dict[str, str], kinds: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    body = data | {"kinds": list(kinds)}
    return post_form(client, path, body, token_from="/me/auto-invest/new")  # type: ignore[arg-type]


def create(client: TestClient, data: dict[str, str] = GOOD, kinds: tuple[str, ...] = ()) -> int:
    response = save(client, "/me/auto-invest/new", data, kinds)
    assert response.status_code == 303, response.text
    found = re.search(r"rule=(\d+)", response.headers["location"])
    assert found and response.headers["location"].startswith("/me/auto-invest?done=saved")
    return int(found.group(1))


def error_of(html: str, field: str) -> str:
    found = re.search(rf'<p class="error"[^>]*data-field="{field}">([^<]*)</p>', html)
    return found.group(1) if found else ""


def test_a_rule_is_created_and_bad_input_is_said_next_to_its_field(
        client: TestClient, platform: Platform) -> None:
    investor(client, platform)
    dashboard = client.get("/me")
    assert 'href="/me/auto-invest"' in dashboard.text and "自动投标设置" in dashboard.text
    empty = client.get("/me/auto-invest")
    assert empty.status_code == 200 and "还没有自动投标规则" in empty.text

    bad = GOOD | {"amount_per_listing": "12.345", "cash_reserve": "-1", "min_rate": "120",
                  "max_term_months": "0", "best_grade": "E", "worst_grade": "B",
                  "total_cap": "abc", "rule_cap": "0"}
    refused = save(client, "/me/auto-invest/new", bad, ("credit", "collateral"))
    assert refused.status_code == 422
    html = refused.text
    assert "最多两位小数" in error_of(html, "amount_per_listing")
    assert "0 或正数" in error_of(html, "cash_reserve")
    assert "正数金额" in error_of(html, "total_cap")
    assert "正数金额" in error_of(html, "rule_cap")
    assert "0 到 100" in error_of(html, "min_rate")
    assert "1 到 360" in error_of(html, "max_term_months")
    assert "最高信用等级不能比最低信用等级差" in error_of(html, "best_grade")
    # what was typed stays
    assert 'value="12.345"' in html and 'value="120"' in html and 'value="abc"' in html
    assert '<option value="E" selected>' in html and '<option value="B" selected>' in html
    assert 'value="credit" checked' in html and 'value="collateral" checked' in html
    assert 'value="transfer" checked' not in html

    client.cookies.set("lang", "en")
    english = save(client, "/me/auto-invest/new", GOOD | {"amount_per_listing": "0",
                                                         "max_term_months": "x"})
    assert english.status_code == 422
    assert "positive amount" in error_of(english.text, "amount_per_listing")
    assert "whole months from 1 to 360" in error_of(english.text, "max_term_months")

    rule_id = create(client, GOOD | {"best_grade": "A", "worst_grade": "C",
                                     "total_cap": "20000", "rule_cap": "5000"},
                     ("credit", "guarantee"))
    page = client.get(f"/me/auto-invest?done=saved&rule={rule_id}")
    assert f"Rule #{rule_id} saved." in page.text
    row = re.search(rf'<tr data-rule="{rule_id}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    for text in ("types: Credit, Guarantee", "grades A–C", "rate ≥ 8.50 %",
                 "term ≤ 24 months", "¥1,000.00 per listing", "keep ¥500.00",
                 "outstanding up to ¥20,000.00", "this rule up to ¥5,000.00", ">On<"):
        assert text in row.group(1), text


def test_a_rule_is_changed_paused_resumed_and_deleted(client: TestClient,
                                                      platform: Platform) -> None:
    investor(client, platform)
    rule_id = create(client)
    form = client.get(f"/me/auto-invest/{rule_id}/edit")
    assert form.status_code == 200
    assert 'value="1000.00"' in form.text and 'value="8.50"' in form.text
    assert 'id="f-rule_cap"' in form.text and "本规则出借上限" in form.text
    changed = save(client, f"/me/auto-invest/{rule_id}/edit",
                   GOOD | {"amount_per_listing": "2000", "max_term_months": "400"})
    assert changed.status_code == 422 and error_of(changed.text, "max_term_months")
    assert 'value="2000"' in changed.text
    changed = save(client, f"/me/auto-invest/{rule_id}/edit", GOOD | {"amount_per_listing": "2000"})
    assert changed.status_code == 303
    assert "每标 ¥2,000.00" in client.get("/me/auto-invest").text

    def state() -> str:
        page = client.get("/me/auto-invest").text
        found = re.search(rf'<tr data-rule="{rule_id}">.*?class="rule-state">([^<]*)<',
                          page, re.S)
        return found.group(1) if found else "gone"

    paused = post_form(client, f"/me/auto-invest/{rule_id}/pause", {},
                       token_from="/me/auto-invest")
    assert paused.status_code == 303 and state() == "已暂停"
    # changing a paused rule with "on" unticked keeps it paused
    without = {k: v for k, v in GOOD.items() if k != "enabled"}
    assert save(client, f"/me/auto-invest/{rule_id}/edit", without).status_code == 303
    assert state() == "已暂停"
    post_form(client, f"/me/auto-invest/{rule_id}/resume", {}, token_from="/me/auto-invest")
    assert state() == "启用中"
    deleted = post_form(client, f"/me/auto-invest/{rule_id}/delete", {},
                        token_from="/me/auto-invest", follow=True)
    assert f"规则 #{rule_id} 已删除" in deleted.text and state() == "gone"
    assert client.get(f"/me/auto-invest/{rule_id}/edit").status_code == 404


def test_another_investor_cannot_touch_my_rule(client: TestClient, platform: Platform) -> None:
    investor(client, platform)
    rule_id = create(client)
    investor(client, platform)  # someone else signs in
    assert client.get(f"/me/auto-invest/{rule_id}/edit").status_code == 404
    for action in ("pause", "delete"):
        response = post_form(client, f"/me/auto-invest/{rule_id}/{action}", {},
                             token_from="/me/auto-invest")
        assert response.status_code == 404
    assert save(client, f"/me/auto-invest/{rule_id}/edit",
                GOOD | {"amount_per_listing": "5"}).status_code == 404
    assert f'data-rule="{rule_id}"' not in client.get("/me/auto-invest").text
    anonymous = TestClient(client.app)
    assert anonymous.get("/me/auto-invest", follow_redirects=False).status_code == 303


def test_the_allocation_log_after_the_engine_ran(client: TestClient, platform: Platform) -> None:
    poor = TestClient(client.app)
    investor(poor, platform, 500)  # 500 available, keeps 500: skipped for cash
    create(poor)
    investor(client, platform, 50_000)
    create(client, GOOD | {"cash_reserve": "0"}, ("credit",))
    listing_id = published_listing(platform, platform.investing_rules, amount=10_000, rate="0.10")

    page = client.get("/me/auto-invest").text
    row = re.search(rf'<tr class="outcome-allocated" data-listing="{listing_id}">(.*?)</tr>',
                    page, re.S)
    assert row is not None, page
    assert "¥1,000.00" in row.group(1) and "已出借" in row.group(1)
    assert "¥1,000.00" in client.get("/me").text  # the investment is on the dashboard

    poor.cookies.set("lang", "en")
    page = poor.get("/me/auto-invest").text
    row = re.search(rf'<tr class="outcome-skipped" data-listing="{listing_id}">(.*?)</tr>',
                    page, re.S)
    assert row is not None, page
    assert "Skipped: after the cash above your reserve, ¥0.00 is below the minimum ticket" \
        in row.group(1)
