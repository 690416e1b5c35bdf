"""流转标 through HTTP on both databases: each subscription pays the originator at once and
earns from that day; no term splitting under cn-2016 (a red flag under permissive); the
buy-back coverage shown and enforced at publishing; a part-sold listing closes as sold and is
serviced."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from investing_support import AGGRESSIVE, assert_books_balanced, deposit
from servicing_support import close, set_day
from test_support import listing_body, register, walk_to

#: Today is 2026-11-28: a 6-month listing matures on 2027-05-28, inside this claim's term.
CLAIM = {"principal": "20000", "annual_rate": "12", "maturity": "2027-05-30"}


@pytest.fixture(autouse=True)
def long_sessions(platform: Platform) -> None:
    platform.settings.token_ttl_minutes = 60 * 24 * 60


def originator_with_reserve(client: TestClient, platform: Platform, reserve: str,
                            cash: int = 2_000) -> tuple[int, dict[str, str]]:
    originator_id, headers = register(client, "originator")
    deposit(platform, originator_id, cash, role="originator")
    funded = client.post("/api/v1/me/buyback-reserve", json={"amount": reserve},
                         headers=headers | {"Idempotency-Key": f"reserve-{reserve}"})
    assert funded.status_code == 201, funded.text
    return originator_id, headers


def transfer_body(**overrides: object) -> dict[str, object]:
    return listing_body("transfer", amount="10000", annual_rate="9", term=6,
                        repayment_method="bullet", claim=CLAIM) | overrides


def investor(client: TestClient, platform: Platform) -> dict[str, str]:
    investor_id, headers = register(client, "investor")
    deposit(platform, investor_id, 10_000)
    assessed = client.post("/api/v1/me/risk-assessment", json={"answers": AGGRESSIVE},
                           headers=headers)
    assert assessed.status_code == 201
    return headers


def wallet(client: TestClient, headers: dict[str, str], role: str) -> dict[str, str]:
    return client.get("/api/v1/me/wallet", headers=headers).json()["wallets"][role]


def subscribe(client: TestClient, listing_id: int, headers: dict[str, str],
              amount: str) -> dict[str, object]:
    made = client.post(f"/api/v1/listings/{listing_id}/investments", json={"amount": amount},
                       headers=headers | {"Idempotency-Key": f"{listing_id}-{amount}"})
    assert made.status_code == 201, made.text
    return made.json()


def interest(principal: int, rate: str, start: date, end: date) -> str:
    """ACT/365 from the subscription day, rounded half-up to the fen, as yuan."""
    fen = (Decimal(principal * 100) * Decimal(rate) * (end - start).days / 365).quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    return f"{fen / 100:.2f}"


def test_each_subscription_pays_the_originator_at_once_and_earns_from_that_day(
    client: TestClient, platform: Platform, clock: FixedClock,
    operator_headers: dict[str, str]
) -> None:
    _, originator = originator_with_reserve(client, platform, "1000.00")
    listing_id = client.post("/api/v1/listings", json=transfer_body(),
                             headers=originator).json()["id"]
    walk_to(client, listing_id, originator, operator_headers)
    published_on = clock.today()
    alice, bob = investor(client, platform), investor(client, platform)

    assert wallet(client, originator, "originator")["available"] == "1000.00"
    made = subscribe(client, listing_id, alice, "3000")
    assert made["status"] == "settled" and made["listing_status"] == "published"
    # the originator has all of the money in the same request (fees come with instalments)
    assert wallet(client, originator, "originator")["available"] == "4000.00"
    assert wallet(client, alice, "investor") == {"available": "7000.00", "frozen": "0.00"}
    held = client.get("/api/v1/me/holdings", headers=alice).json()["items"]
    maturity = date(2027, 5, 28)
    assert [(h["principal"], h["interest_start"], h["status"]) for h in held] == [
        ("3000.00", str(published_on), "active")]
    assert held[0]["instalments"] == [{"seq": 1, "due_date": str(maturity),
                                       "principal": "3000.00", "status": "scheduled",
                                       "interest": interest(3_000, "0.09", published_on,
                                                            maturity)}]

    set_day(clock, published_on + timedelta(days=3))
    subscribe(client, listing_id, bob, "2000")
    assert wallet(client, originator, "originator")["available"] == "6000.00"
    late = client.get("/api/v1/me/holdings", headers=bob).json()["items"][0]
    assert late["interest_start"] == str(published_on + timedelta(days=3))
    assert late["instalments"][0]["interest"] == interest(
        2_000, "0.09", published_on + timedelta(days=3), maturity)
    mine = client.get("/api/v1/me/investments", headers=bob).json()["items"]
    assert [i["status"] for i in mine] == ["settled"]
    assert_books_balanced(platform)


def test_a_part_sold_listing_closes_as_sold_without_refunds_and_is_serviced(
    client: TestClient, platform: Platform, clock: FixedClock,
    operator_headers: dict[str, str]
) -> None:
    _, originator = originator_with_reserve(client, platform, "1000.00")
    listing_id = client.post("/api/v1/listings", json=transfer_body(),
                             headers=originator).json()["id"]
    walk_to(client, listing_id, originator, operator_headers)
    published_on = clock.today()
    alice = investor(client, platform)
    subscribe(client, listing_id, alice, "3000")  # 30 %: far below the old 70 % threshold

    set_day(clock, clock.today() + timedelta(days=7))  # the window ended yesterday
    closed = client.post("/api/v1/operator/funding/close-expired", json={},
                         headers=operator_headers).json()
    assert closed["closed"] == {str(listing_id): "repaying"}
    detail = client.get(f"/api/v1/listings/{listing_id}").json()
    assert (detail["status"], detail["remaining"], detail["funded_percent"]) == (
        "repaying", "0.00", "30.00")
    assert detail["funding"]["partial_threshold"] is None
    assert detail["funding"]["settles_on_subscription"] is True
    assert wallet(client, alice, "investor") == {"available": "7000.00", "frozen": "0.00"}

    close(client, operator_headers, clock.today())  # servicing takes the loan over
    url = f"/api/v1/loans/{listing_id}"
    view = client.get(f"{url}/servicing", headers=originator).json()
    assert view["outstanding_principal"] == "3000.00"
    repaid = client.post(f"{url}/early-repayment", json={},
                         headers=originator | {"Idempotency-Key": "buy-back-early"})
    assert repaid.status_code == 201, repaid.text
    earned = interest(3_000, "0.09", published_on, clock.today())  # 7 days: 5.18
    assert (repaid.json()["principal"], repaid.json()["interest"]) == ("3000.00", earned)
    assert repaid.json()["listing_status"] == "settled"
    back = Decimal("10000.00") + Decimal(earned)  # principal back, with the interest earned
    assert wallet(client, alice, "investor")["available"] == f"{back:.2f}"
    assert_books_balanced(platform)


def test_term_splitting_is_refused_under_cn_2016_and_red_flagged_under_permissive(
    client: TestClient, platform: Platform, operator_headers: dict[str, str]
) -> None:
    _, originator = originator_with_reserve(client, platform, "1000.00")
    short = transfer_body(term=3, annual_rate="7")  # 7 %, no fee over 3 months: ≤ 12 %
    split = client.post("/api/v1/listings", json=short, headers=originator)
    assert split.status_code == 409
    error = split.json()["error"]
    assert (error["code"], error["rule_id"], error["field"]) == (
        "compliance_violation", "cn2016.no_term_splitting", "term")
    assert "before the claim matures on 2027-05-30" in error["message"]
    assert "remaining 6 months" in error["message"]
    whole = client.post("/api/v1/listings", json=transfer_body(), headers=originator)
    assert whole.status_code == 201, whole.text
    assert "term_splitting" not in {label["code"] for label in whole.json()["risk_labels"]}

    platform.settings = platform.settings.model_copy(update={"compliance_profile":
                                                             "permissive"})
    allowed = client.post("/api/v1/listings", json=short, headers=originator)
    assert allowed.status_code == 201, allowed.text
    flags = {label["code"]: label for label in allowed.json()["risk_labels"]}
    assert flags["term_splitting"]["severity"] == "red_flag"
    assert "2027-02-28" in flags["term_splitting"]["text_en"]
    published = walk_to(client, allowed.json()["id"], originator, operator_headers)
    assert "term_splitting" in {label["code"] for label in published["risk_labels"]}


def test_buy_back_coverage_is_shown_and_publishing_below_the_minimum_is_refused(
    client: TestClient, platform: Platform, operator_headers: dict[str, str]
) -> None:
    _, originator = originator_with_reserve(client, platform, "1000.00")
    first = client.post("/api/v1/listings", json=transfer_body(), headers=originator).json()
    assert first["security"]["buyback_coverage"] == "10%"  # 1,000.00 of 10,000.00
    published = walk_to(client, first["id"], originator, operator_headers)
    assert published["security"]["buyback_obligation"] == "10000.00"
    promise = next(label for label in published["risk_labels"]
                   if label["code"] == "buyback_promise")
    assert promise["severity"] == "warning" and "covers 10%" in promise["text_en"]
    browse = client.get("/api/v1/listings?kind=transfer").json()["items"]
    assert {item["id"]: item["security_brief"] for item in browse} == {
        first["id"]: {"buyback_coverage": "10%"}}

    # a second listing: the same reserve would back 20,000.00 of promises (5 %)
    second = client.post("/api/v1/listings", json=transfer_body(amount="10000"),
                         headers=originator).json()
    assert second["security"]["buyback_coverage"] == "5%"
    walk_to(client, second["id"], originator, operator_headers, publish=False)
    refused = client.post(f"/api/v1/listings/{second['id']}/publish", json={},
                          headers=operator_headers)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert (error["rule_id"], error["field"]) == ("cn2017.buyback_coverage", "reserve_balance")
    assert "would cover 5% of the originator's buy-back obligation 20000.00" in error["message"]
    assert "add 1000.00 to the reserve" in error["message"]

    topped = client.post("/api/v1/me/buyback-reserve", json={"amount": "1000.00"},
                         headers=originator | {"Idempotency-Key": "top-up"})
    assert topped.status_code == 201
    published = client.post(f"/api/v1/listings/{second['id']}/publish", json={},
                            headers=operator_headers)
    assert published.status_code == 200, published.text
    browse = client.get("/api/v1/listings?kind=transfer").json()["items"]
    assert {item["security_brief"]["buyback_coverage"] for item in browse} == {"10%"}
