"""The coupons page and choosing a coupon when investing, on both databases: the page lists
the coupon with its conditions, the campaign's public rules, points and level; the investment
page offers the coupons that fit the listing; a refused coupon is said in Chinese; the chosen
coupon is consumed with the investment."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.investing.rules import InvestingRules
from incentive_support import campaign, coupon_status, issue, template
from investing_support import assert_books_balanced, published_listing
from web_support import assessed_investor, post_form, sign_in_as

RULES = InvestingRules()


def test_choose_a_coupon_when_investing_and_see_it_used(client: TestClient,
                                                        platform: Platform) -> None:
    listing = published_listing(platform, RULES, amount=10_000)
    short = published_listing(platform, RULES, amount=10_000, term=6)
    user_id = assessed_investor(client, platform, 5_000)
    camp = campaign(platform)
    [coupon] = issue(platform, template(platform, camp), user_id)

    page = client.get("/me/coupons")
    assert page.status_code == 200
    assert f'data-coupon="{coupon}" data-status="issued"' in page.text
    assert "出借满 ¥1,000.00" in page.text and "新手专享" in page.text  # the public rules
    assert 'id="points">0 分，等级 V0' in page.text

    assert f'<option value="{coupon}"' not in client.get(f"/listings/{short}/invest").text
    low = client.get(f"/listings/{listing}/invest", params={"amount": "500",
                                                             "coupon": str(coupon)})
    assert f'<option value="{coupon}" selected' in low.text
    key = re.search(r'name="idempotency_key" value="(\w+)"', low.text).group(1)
    refused = post_form(client, f"/listings/{listing}/invest",
                        {"amount": "500", "idempotency_key": key, "coupon_id": str(coupon)},
                        token_from=f"/listings/{listing}/invest")
    assert refused.status_code == 409 and "未达到该优惠券的使用门槛" in refused.text
    assert coupon_status(platform, coupon) == ("issued", 0)

    page = client.get(f"/listings/{listing}/invest", params={"amount": "1000",
                                                              "coupon": str(coupon)})
    assert 'id="chosen-coupon"' in page.text and "预计奖励 ¥20.00" in page.text
    key = re.search(r'name="idempotency_key" value="(\w+)"', page.text).group(1)
    done = post_form(client, f"/listings/{listing}/invest",
                     {"amount": "1000.00", "idempotency_key": key, "coupon_id": str(coupon)},
                     token_from=f"/listings/{listing}/invest")
    assert done.status_code == 303, done.text
    assert coupon_status(platform, coupon) == ("used", 2_000)
    client.cookies.set("lang", "en")
    english = client.get("/me/coupons").text
    assert f'data-coupon="{coupon}" data-status="used"' in english and ">Used<" in english
    assert_books_balanced(platform)


def test_the_console_shows_each_campaign_with_its_exposure(client: TestClient,
                                                           platform: Platform) -> None:
    people = [assessed_investor(client, platform) for _ in range(2)]
    camp = campaign(platform)
    issue(platform, template(platform, camp, expected_use_ppm=500_000), *people)
    client.cookies.clear()
    sign_in_as(client, platform, "operator")
    page = client.get("/operator/incentives")
    assert page.status_code == 200 and 'href="/operator/incentives" aria-current="page"' in \
        page.text
    assert f'data-campaign="{camp}"' in page.text and "新手专享" in page.text
    assert 'class="num exposure">¥20.00' in page.text  # 2 × 20.00 × 50 %
