"""The secondary market (债权转让) pages on SQLite and PostgreSQL: the public board and a sale's
page, buying with a confirmation (the holding moves), refusals in words, selling from /me with
the fair value and the guardrails (a price outside them refused with the rule, in Chinese and
English), cancelling my sale, and the role checks."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.secondary_tables import SecondarySale
from biaodi.adapters.db.tables import Holding, User
from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.secondary import sales
from biaodi.services.shared.tx import in_transaction
from investing_support import deposit, investor, user
from servicing_support import Loan, funded_loan, run_close, set_day
from web_support import post_form, sign_in_as

START = date(2026, 11, 28)  # the test clock's day: the loans below start on it


@pytest.fixture
def market(platform: Platform) -> Platform:
    """The platform with no holding period, so holdings of a loan funded today may be sold."""
    platform.settings = platform.settings.model_copy(update={"secondary_holding_days": 0})
    return platform


def running_loan(platform: Platform, clock: FixedClock) -> Loan:
    """A 9 % six-month 信用标 funded by three investors (3,300 / 3,300 / 3,400), 12 days on."""
    loan = funded_loan(platform, "credit", rate="0.09", term=6)
    set_day(clock, START + timedelta(days=12))
    run_close(platform)
    return loan


def offer(platform: Platform, loan: Loan, premium: str = "0.01", yuan: str = "3000") -> int:
    cmd = sales.Offer(loan.holdings[0], loan.investors[0], Decimal(premium), Money.parse(yuan))
    return in_transaction(platform.uow, lambda uow: sales.offer(
        uow, cmd, platform.secondary_rules)).id


def sign_in(client: TestClient, platform: Platform, user_id: int, lang: str = "zh-CN") -> None:
    with platform.uow() as uow:
        username = uow.s.get(User, user_id).username
    client.cookies.clear()
    client.cookies.set("lang", lang)
    response = post_form(client, "/login", {"username": username, "password": "passw0rd-ok",
                                            "next": "/me"})
    assert response.status_code == 303, response.text


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return found.group(1)


def test_anyone_sees_the_board_and_the_sale_but_buying_needs_an_investor(
        client: TestClient, market: Platform, clock: FixedClock) -> None:
    loan = running_loan(market, clock)
    sale_id = offer(market, loan)
    board = client.get("/market")
    assert board.status_code == 200
    assert 'href="/market"' in board.text and "债权转让" in board.text  # the nav entry
    card = re.search(rf'<article class="card listing sale kind-credit" data-sale="{sale_id}">'
                     r"(.*?)</article>", board.text, re.S)
    assert card, board.text
    assert "信用标" in card.group(1) and "¥3,000.00" in card.group(1)
    assert "1.00%" in card.group(1) and "6 期" in card.group(1)
    assert f'data-sale="{sale_id}"' not in client.get("/market?kind=collateral").text
    assert f'data-sale="{sale_id}"' in client.get("/market?kind=credit").text

    page = client.get(f"/market/sales/{sale_id}")
    assert page.status_code == 200
    assert 'id="fair-value">¥3,' in page.text and 'id="why"' in page.text
    assert "已过 12 天" in page.text and 'id="instalments"' in page.text
    assert f'href="/login?next=/market/sales/{sale_id}/buy"' in page.text
    anonymous = client.get(f"/market/sales/{sale_id}/buy?principal=1000",
                           follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    assert client.get("/market/sales/999999").status_code == 404

    sign_in_as(client, market, "borrower")
    assert client.get(f"/market/sales/{sale_id}/buy").status_code == 403
    assert client.get("/me/market").status_code == 403
    assert client.get(f"/me/holdings/{loan.holdings[0]}/sell").status_code == 403
    client.cookies.set("lang", "en")
    assert "Secondary market" in client.get("/market").text


def test_buying_confirms_the_price_then_moves_the_holding(
        client: TestClient, market: Platform, clock: FixedClock) -> None:
    loan = running_loan(market, clock)
    sale_id = offer(market, loan)
    seller = loan.investors[0]

    sign_in(client, market, seller)  # the seller's own sale
    own = client.get(f"/market/sales/{sale_id}")
    assert 'id="own-sale"' in own.text and 'id="buy-form"' not in own.text
    assert "不能承接自己挂牌的转让" in client.get(f"/market/sales/{sale_id}/buy").text

    poor = investor(market, 100)
    sign_in(client, market, poor, "en")
    refused = client.get(f"/market/sales/{sale_id}/buy?principal=1000")
    assert "Not enough in your wallet (¥100.00 available)" in refused.text
    assert 'id="confirm"' not in refused.text
    sign_in(client, market, poor)
    assert "可用余额不足（可用 ¥100.00）" in client.get(
        f"/market/sales/{sale_id}/buy?principal=1000").text

    unassessed = user(market, "investor")
    deposit(market, unassessed, 5_000)
    sign_in(client, market, unassessed)
    assert "您尚未完成风险测评" in client.get(f"/market/sales/{sale_id}/buy?principal=1000").text

    buyer = investor(market, 5_000)
    sign_in(client, market, buyer)
    small = client.get(f"/market/sales/{sale_id}/buy?principal=2950")  # leaves 50 behind
    assert "承接本金须至少" in small.text and 'id="confirm"' not in small.text
    page = client.get(f"/market/sales/{sale_id}/buy?principal=1000")
    assert page.status_code == 200
    assert 'id="confirm-principal">¥1,000.00' in page.text
    price = hidden(page.text, "max_price")
    assert Decimal(price) > Decimal(1000)  # fair value (with accrued interest) + 1 %
    assert f'id="confirm-price">¥{Decimal(price):,.2f}' in page.text
    body = {"principal": hidden(page.text, "principal"), "max_price": price,
            "idempotency_key": hidden(page.text, "idempotency_key")}
    done = post_form(client, f"/market/sales/{sale_id}/buy", body,
                     token_from=f"/market/sales/{sale_id}")
    assert done.status_code == 303, done.text
    again = post_form(client, f"/market/sales/{sale_id}/buy", body,
                      token_from=f"/market/sales/{sale_id}")
    assert again.headers["location"] == done.headers["location"]  # bought once
    mine = client.get(done.headers["location"]).text
    assert "承接成功：本金 ¥1,000.00" in mine and "data-purchase=" in mine
    with market.uow() as uow:
        held = uow.s.scalars(select(Holding).where(Holding.investor_id == buyer)).one()
        sold = uow.s.get(Holding, loan.holdings[0])
        left = uow.s.get(SecondarySale, sale_id).remaining_fen
    assert (held.listing_id, held.outstanding_principal_fen) == (loan.listing_id, 100_000)
    assert sold.outstanding_principal_fen == 330_000 - 100_000 and left == 200_000
    assert f'data-holding="{held.id}"' in client.get("/me").text

    whole = client.get(f"/market/sales/{sale_id}/buy?principal=2000")
    body = {"principal": "2000.00", "max_price": hidden(whole.text, "max_price"),
            "idempotency_key": hidden(whole.text, "idempotency_key")}
    assert post_form(client, f"/market/sales/{sale_id}/buy", body,
                     token_from=f"/market/sales/{sale_id}").status_code == 303
    gone = client.get(f"/market/sales/{sale_id}/buy?principal=1000").text
    assert "该转让已售罄" in gone
    assert f'data-sale="{sale_id}"' not in client.get("/market").text


def test_selling_shows_the_fair_value_and_refuses_a_price_outside_the_guardrails(
        client: TestClient, market: Platform, clock: FixedClock) -> None:
    loan = running_loan(market, clock)
    seller, holding = loan.investors[0], loan.holdings[0]
    sign_in(client, market, seller)
    me = client.get("/me").text
    assert f'href="/me/holdings/{holding}/sell"' in me and 'href="/me/market"' in me
    page = client.get(f"/me/holdings/{holding}/sell")
    assert page.status_code == 200
    fair = re.search(r'id="fair-value">¥([\d,.]+)<', page.text)
    assert fair and Decimal(fair.group(1).replace(",", "")) > Decimal(3300)
    assert 'id="range">¥' in page.text and "转让手续费：成交价格的 0.50%" in page.text
    high = client.get(f"/me/holdings/{holding}/sell?premium=6")
    assert high.status_code == 422
    assert "溢价不得超过公允价值的 5.00%" in high.text and 'data-field="premium"' in high.text
    assert 'value="6"' in high.text and 'id="confirm"' not in high.text  # kept, not offered
    deep = client.get(f"/me/holdings/{holding}/sell?premium=-25")
    assert "折价不得超过公允价值的 20.00%" in deep.text
    client.cookies.set("lang", "en")
    english = client.get(f"/me/holdings/{holding}/sell?premium=6").text
    assert "The premium may be at most 5.00% above fair value" in english
    client.cookies.set("lang", "zh-CN")
    posted = post_form(client, f"/me/holdings/{holding}/sell", {"premium": "6", "principal": ""},
                       token_from=f"/me/holdings/{holding}/sell")
    assert posted.status_code == 422 and "溢价不得超过" in posted.text

    ok = client.get(f"/me/holdings/{holding}/sell?premium=-1&principal=3000")
    assert 'id="confirm-principal">¥3,000.00' in ok.text and 'id="confirm"' in ok.text
    done = post_form(client, f"/me/holdings/{holding}/sell",
                     {"premium": "-1", "principal": "3000",
                      "idempotency_key": hidden(ok.text, "idempotency_key")},
                     token_from=f"/me/holdings/{holding}/sell")
    assert done.status_code == 303 and done.headers["location"].startswith("/me/market?offered=")
    sale_id = int(done.headers["location"].rsplit("=", 1)[1])
    mine = client.get(done.headers["location"]).text
    assert f'data-sale="{sale_id}"' in mine and "转让中" in mine
    assert "已在转让中" in client.get(f"/me/holdings/{holding}/sell").text

    cancelled = post_form(client, f"/me/market/sales/{sale_id}/cancel", {},
                          token_from="/me/market")
    assert cancelled.status_code == 303
    assert "已撤销转让" in client.get(cancelled.headers["location"]).text
    with market.uow() as uow:
        assert uow.s.get(SecondarySale, sale_id).status == "cancelled"


def test_the_holding_period_blocks_a_sale_in_words(client: TestClient,
                                                   platform: Platform) -> None:
    loan = funded_loan(platform, "credit", rate="0.09", term=6)  # bought today: 30 days to wait
    sign_in(client, platform, loan.investors[0])
    page = client.get(f"/me/holdings/{loan.holdings[0]}/sell")
    assert "持有满 30 天后才能转让：本笔债权自 2026-12-28 起可转让" in page.text
    assert 'id="fair-value"' in page.text and 'id="quote"' not in page.text
    client.cookies.set("lang", "en")
    page = client.get(f"/me/holdings/{loan.holdings[0]}/sell?premium=1")
    assert "A holding may be sold 30 days after it was acquired: this one from 2026-12-28" \
        in page.text
    assert 'id="confirm"' not in page.text
