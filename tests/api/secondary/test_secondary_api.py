"""The secondary market through HTTP: offering after the holding period, browsing with the
day's price and yield, buying with idempotency keys, the seller's and buyers' views with
realised gain or loss, and the refusals with the field or rule they name."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.services.investing import suitability
from biaodi.services.shared.tx import in_transaction
from investing_support import AGGRESSIVE, deposit
from servicing_support import api_loan, close, due_dates, pay_in, set_day
from test_support import register


@pytest.fixture(autouse=True)
def long_sessions(platform: Platform) -> None:
    platform.settings.token_ttl_minutes = 400 * 24 * 60


def buyer(client: TestClient, platform: Platform, yuan: int) -> tuple[int, dict[str, str]]:
    person, headers = register(client, "investor")
    deposit(platform, person, yuan)
    in_transaction(platform.uow, lambda uow: suitability.assess(uow, person, AGGRESSIVE))
    return person, headers


def yuan(text: str) -> int:
    """An amount the API shows (possibly negative: a loss) in fen."""
    return int(Decimal(text) * 100)


def test_offer_browse_buy_and_see_realised_gains(client: TestClient, platform: Platform,
                                                 clock: FixedClock,
                                                 operator_headers: dict[str, str]) -> None:
    loan, _, investors = api_loan(client, platform)
    seller = investors[0]
    holding = loan.holdings[0]
    body = {"holding_id": holding, "premium": "-1", "principal": "2000"}
    early = client.post("/api/v1/secondary/sales", json=body,
                        headers=seller | {"Idempotency-Key": "too-early"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "holding_period"

    pay_in(platform, loan.payer, 5_000_000)
    first = due_dates(platform, loan.listing_id)[0]
    set_day(clock, first + timedelta(days=1))  # 31 days after the holding was acquired
    close(client, operator_headers, clock.today())
    for bad, field in (({"premium": "abc"}, "premium"), ({"premium": "5.5"}, "premium"),
                       ({"premium": "-20.01"}, "premium"), ({"principal": "0.001"}, "principal"),
                       ({"principal": "3300.01"}, "principal")):
        refused = client.post("/api/v1/secondary/sales", json=body | bad,
                              headers=seller | {"Idempotency-Key": f"bad-{field}-{bad}"})
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"]["field"] == field
    assert client.post("/api/v1/secondary/sales", json=body | {"holding_id": loan.holdings[1]},
                       headers=seller | {"Idempotency-Key": "theirs"}).status_code == 403

    made = client.post("/api/v1/secondary/sales", json=body,
                       headers=seller | {"Idempotency-Key": "offer-1"})
    assert made.status_code == 201, made.text
    sale = made.json()
    assert (sale["principal"], sale["remaining"], sale["premium"], sale["status"]) == \
        ("2000.00", "2000.00", "-1.00", "open")
    replay = client.post("/api/v1/secondary/sales", json=body,
                         headers=seller | {"Idempotency-Key": "offer-1"})
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == sale

    listed = client.get("/api/v1/secondary/sales").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == sale["id"]
    today = listed["items"][0]["today"]
    fair, price = yuan(today["fair_value"]), yuan(today["price"])
    assert yuan(today["principal"]) == 200_000 and fair > 200_000  # interest accrued 1 day
    assert price == int((Decimal(fair) * Decimal("0.99")).quantize(Decimal(1),
                                                                  rounding="ROUND_HALF_UP"))
    assert Decimal(today["yield_to_maturity"]) > Decimal("6")  # bought below fair value
    part = client.get(f"/api/v1/secondary/sales/{sale['id']}", params={"principal": "500"})
    assert part.json()["today"]["principal"] == "500.00"
    too_much = client.get(f"/api/v1/secondary/sales/{sale['id']}", params={"principal": "2500"})
    assert too_much.status_code == 422 and too_much.json()["error"]["field"] == "principal"

    first_buyer, first_headers = buyer(client, platform, 5_000)
    url = f"/api/v1/secondary/sales/{sale['id']}/purchases"
    assert client.post(url, json={"principal": "1500"}, headers=seller | {
        "Idempotency-Key": "own"}).json()["error"]["code"] == "own_sale"
    assert client.post(url, json={"principal": "1500"}, headers=first_headers).status_code \
        == 422  # the Idempotency-Key header is required
    bought = client.post(url, json={"principal": "1500"},
                         headers=first_headers | {"Idempotency-Key": "buy-1"})
    assert bought.status_code == 201, bought.text
    purchase = bought.json()
    assert (purchase["principal"], purchase["sale_remaining"], purchase["sale_status"]) == \
        ("1500.00", "500.00", "open")
    again = client.post(url, json={"principal": "1500"},
                        headers=first_headers | {"Idempotency-Key": "buy-1"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == purchase
    _, second_headers = buyer(client, platform, 5_000)
    rest = client.post(url, json={}, headers=second_headers | {"Idempotency-Key": "buy-2"})
    assert rest.json()["sale_status"] == "sold" and rest.json()["principal"] == "500.00"
    sold_out = client.post(url, json={}, headers=second_headers | {"Idempotency-Key": "buy-3"})
    assert sold_out.status_code == 409 and sold_out.json()["error"]["code"] == "sale_sold_out"
    assert client.get("/api/v1/secondary/sales").json()["total"] == 0

    mine = client.get("/api/v1/me/secondary/sales", headers=seller).json()
    rows = mine["items"][0]["purchases"]
    assert [r["principal"] for r in rows] == ["1500.00", "500.00"]
    for r in rows:  # sold 1 % below fair value, less the 0.5 % fee: a realised loss
        assert yuan(r["realised_gain"]) == \
            yuan(r["price"]) - yuan(r["transfer_fee"]) - yuan(r["fair_value"]) < 0
        assert yuan(r["realised_interest"]) == yuan(r["accrued_interest"]) > 0
    assert yuan(mine["totals"]["realised_gain"]) == sum(yuan(r["realised_gain"]) for r in rows)

    holdings = client.get("/api/v1/me/holdings", headers=first_headers).json()["items"]
    assert [h["outstanding_principal"] for h in holdings] == ["1500.00"]
    view = client.get("/api/v1/me/secondary/purchases", headers=first_headers).json()
    assert view["items"][0]["holding_status"] == "active"
    assert view["items"][0]["realised_gain"] is None

    for due in due_dates(platform, loan.listing_id)[1:]:
        set_day(clock, due)
        close(client, operator_headers, clock.today())
    view = client.get("/api/v1/me/secondary/purchases", headers=first_headers).json()
    item = view["items"][0]
    assert item["holding_status"] == "settled" and item["outstanding_principal"] == "0.00"
    assert yuan(item["realised_gain"]) == yuan(item["cash_received"]) - yuan(item["price"]) > 0
    assert first_buyer != 0


def test_cancel_is_the_sellers_alone(client: TestClient, platform: Platform,
                                     clock: FixedClock) -> None:
    platform.settings.secondary_holding_days = 0
    loan, _, investors = api_loan(client, platform)
    set_day(clock, clock.today() + timedelta(days=3))
    sale = client.post("/api/v1/secondary/sales", json={"holding_id": loan.holdings[2]},
                       headers=investors[2] | {"Idempotency-Key": "all"}).json()
    assert sale["principal"] == "3400.00"
    url = f"/api/v1/secondary/sales/{sale['id']}/cancel"
    assert client.post(url, headers=investors[0]).status_code == 403
    cancelled = client.post(url, headers=investors[2])
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "seller"
    assert client.post(url, headers=investors[2]).json()["error"]["code"] == "sale_closed"
    assert client.get("/api/v1/secondary/sales", params={"page_size": 0}).status_code == 422
