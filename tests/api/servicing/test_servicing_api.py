"""Servicing through HTTP: close of business, loan and holding status, repayments (on time,
late, early), disposals, products and the LPR, collections within the rules of conduct."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from biaodi.adapters.clock import CST, FixedClock
from biaodi.adapters.db.servicing_tables import CloseDayRun
from biaodi.bootstrap import Platform
from servicing_support import api_loan, close, due_dates, pay_in, set_day


@pytest.fixture(autouse=True)
def long_sessions(platform: Platform) -> None:
    """These tests move the clock by months: keep the logins valid."""
    platform.settings.token_ttl_minutes = 400 * 24 * 60


def test_close_day_status_and_repayments(client: TestClient, platform: Platform,
                                         clock: FixedClock,
                                         operator_headers: dict[str, str]) -> None:
    loan, borrower, investors = api_loan(client, platform)
    url = f"/api/v1/loans/{loan.listing_id}"
    assert client.post("/api/v1/operator/close-day", json={},
                       headers=borrower).status_code == 403
    first = close(client, operator_headers, clock.today())["days"]
    assert first[0]["steps"]["onboard"] == 1 and first[0]["status"] == "done"
    view = client.get(f"{url}/servicing", headers=borrower).json()
    assert (view["servicing_status"], view["bucket"], view["due_now"]) == \
        ("performing", "current", "0.00")
    # 6 % all-in (3 months: no service fee) leaves 6 % a year of the 12 % cap for penalty
    assert len(view["instalments"]) == 3 and view["penalty_daily_rate_ppm"] == 164
    assert view["instalments"][0]["service_fee"] == "0.00" and view["fees_due"] == "0.00"
    assert client.get(f"{url}/servicing", headers=investors[0]).status_code == 403
    status = client.get(f"/api/v1/operator/close-day/{clock.today()}", headers=operator_headers)
    assert status.json()["status"] == "done"

    set_day(clock, due_dates(platform, loan.listing_id)[0] + timedelta(days=5))
    days = close(client, operator_headers, clock.today())["days"]
    assert len(days) > 20 and days[-1]["loans_by_bucket"] == {"M1": 1}
    view = client.get(f"{url}/servicing", headers=borrower).json()
    assert view["bucket"] == "M1" and view["days_past_due"] == 5 and view["penalty"] != "0.00"
    overdue = client.get("/api/v1/operator/loans?bucket=M1", headers=operator_headers).json()
    assert [item["listing_id"] for item in overdue["items"]] == [loan.listing_id]

    due_now = view["due_now"]
    pay_in(platform, loan.payer, 10_000_000)
    key = {"Idempotency-Key": "repay-1"}
    too_much = client.post(f"{url}/repayments", json={"amount": "9999.00"},
                           headers=borrower | {"Idempotency-Key": "big"})
    assert too_much.status_code == 422 and too_much.json()["error"]["field"] == "amount"
    assert client.post(f"{url}/repayments", json={"amount": due_now},
                       headers=investors[0] | key).json()["error"]["code"] == "not_borrower"
    paid = client.post(f"{url}/repayments", json={"amount": due_now}, headers=borrower | key)
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert body["amount"] == due_now and body["penalty"] == view["penalty"]
    assert body["listing_status"] == "repaying"
    replay = client.post(f"{url}/repayments", json={"amount": due_now}, headers=borrower | key)
    assert replay.json() == body and replay.headers["Idempotent-Replayed"] == "true"
    assert client.post(f"{url}/repayments", json={"amount": "1.00"},
                       headers=borrower | {"Idempotency-Key": "r2"}).json()["error"]["code"] \
        == "nothing_due"

    holdings = client.get("/api/v1/me/holdings/servicing", headers=investors[0]).json()["items"]
    assert len(holdings) == 1 and holdings[0]["bucket"] == "current"
    flows = holdings[0]["cash_flows"]
    assert [f["source"] for f in flows] == ["manual"] and flows[0]["penalty"] != "0.00"

    part = client.post(f"{url}/early-repayment", json={"principal": "2000.00",
                                                       "reamortise": "shorter_term"},
                       headers=borrower | {"Idempotency-Key": "e1"})
    assert part.status_code == 201 and part.json()["principal"] == "2000.00"
    whole = client.post(f"{url}/early-repayment", json={},
                        headers=borrower | {"Idempotency-Key": "e2"})
    assert whole.status_code == 201 and whole.json()["listing_status"] == "settled"
    view = client.get(f"{url}/servicing", headers=operator_headers).json()
    assert view["servicing_status"] == "closed" and view["payoff"] == "0.00"
    bad = client.post(f"{url}/early-repayment", json={"reamortise": "sideways"},
                      headers=borrower | {"Idempotency-Key": "e3"})
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "loan_closed"


def test_close_of_business_never_runs_ahead_of_the_clock(
        client: TestClient, platform: Platform, clock: FixedClock,
        operator_headers: dict[str, str]) -> None:
    today = clock.today()
    for ahead in (1, 31):  # tomorrow, and the month ahead that once closed 31 future days
        day = today + timedelta(days=ahead)
        refused = client.post("/api/v1/operator/close-day", json={"business_date": str(day)},
                              headers=operator_headers)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["field"]) == ("business_date_in_future", "business_date")
        assert str(day) in error["message"] and f"today, {today}" in error["message"]
    with platform.uow() as uow:  # nothing was started, let alone closed
        assert uow.s.scalar(select(func.count()).select_from(CloseDayRun)) == 0
    closed = client.post("/api/v1/operator/close-day", json={}, headers=operator_headers)
    assert closed.status_code == 200, closed.text
    assert [d["business_date"] for d in closed.json()["days"]] == [str(today)]


def test_disposal_and_recovery(client: TestClient, platform: Platform, clock: FixedClock,
                               operator_headers: dict[str, str]) -> None:
    loan, borrower, investors = api_loan(client, platform, "collateral")
    close(client, operator_headers, clock.today())
    set_day(clock, due_dates(platform, loan.listing_id)[0] + timedelta(days=91))
    close(client, operator_headers, clock.today())
    view = client.get(f"/api/v1/loans/{loan.listing_id}/servicing", headers=borrower).json()
    assert (view["listing_status"], view["servicing_status"]) == ("defaulted", "disposal")
    url = f"/api/v1/operator/loans/{loan.listing_id}"
    assert client.post(f"{url}/disposal", json={"proceeds": "5000.00"},
                       headers=operator_headers).status_code == 422  # no Idempotency-Key
    sold = client.post(f"{url}/disposal", json={"proceeds": "5000.00", "costs": "300.00",
                                                "reference": "拍卖 2027-001"},
                       headers=operator_headers | {"Idempotency-Key": "sale"})
    assert sold.status_code == 201, sold.text
    result = sold.json()
    assert result["costs"] == "300.00" and result["surplus"] == "0.00"
    assert result["shortfall"] != "0.00" and result["status"] == "settled"
    again = client.post(f"{url}/disposal", json={"proceeds": "1.00"},
                        headers=operator_headers | {"Idempotency-Key": "sale-2"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_disposal_pending"
    recovered = client.post(f"{url}/recoveries", json={"amount": "100.00"},
                            headers=operator_headers | {"Idempotency-Key": "rec"})
    assert recovered.status_code == 201, recovered.text
    flows = client.get("/api/v1/me/holdings/servicing", headers=investors[2]).json()["items"]
    assert [f["source"] for f in flows[0]["cash_flows"]] == ["disposal", "recovery"]
    assert flows[0]["status"] == "written_off" and flows[0]["written_off"] != "0.00"


def test_products_lpr_and_collections(client: TestClient, platform: Platform,
                                      clock: FixedClock,
                                      operator_headers: dict[str, str]) -> None:
    loan, borrower, _ = api_loan(client, platform)
    too_dear = client.put("/api/v1/operator/servicing/products/credit",
                          json={"penalty_daily_rate": "0.05"}, headers=operator_headers)
    assert too_dear.status_code == 409
    assert too_dear.json()["error"]["rule_id"] == "cn2020.cost_cap_4x_lpr"
    fine = client.put("/api/v1/operator/servicing/products/credit",
                      json={"penalty_daily_rate": "0.02", "grace_days": 1,
                            "allocation_order": ["interest", "principal", "penalty"]},
                      headers=operator_headers)
    assert fine.status_code == 200 and fine.json()["allocation_order"][0] == "interest"
    bad_order = client.put("/api/v1/operator/servicing/products/credit",
                           json={"penalty_daily_rate": "0.02",
                                 "allocation_order": ["interest", "principal"]},
                           headers=operator_headers)
    assert bad_order.status_code == 422
    assert bad_order.json()["error"]["field"] == "allocation_order"
    lpr = client.put("/api/v1/operator/lpr/2026-12-22", json={"one_year": "2.90"},
                     headers=operator_headers)
    assert lpr.status_code == 200 and lpr.json()["one_year"] == "2.90"
    assert client.get("/api/v1/lpr").json()["items"][0]["effective_on"] == "2026-12-22"

    friend = client.post("/api/v1/me/contacts", json={"name": "李四", "mobile": "13900001111",
                                                      "relation": "friend"}, headers=borrower)
    assert friend.status_code == 201
    attempt = {"borrower_id": loan.applicant, "channel": "call",
               "listing_id": loan.listing_id, "contact_id": friend.json()["id"]}
    clock.set(datetime.combine(clock.today(), time(7, 0), tzinfo=CST))
    early = client.post("/api/v1/operator/collections/contacts", json=attempt,
                        headers=operator_headers)
    assert early.status_code == 409
    assert early.json()["error"]["rule_id"] == "collection.contact_hours"
    clock.set(datetime.combine(clock.today(), time(10, 0), tzinfo=CST))
    made = client.post("/api/v1/operator/collections/contacts", json=attempt,
                       headers=operator_headers)
    assert made.status_code == 201 and made.json()["target"] == "contact"
    log = client.get(f"/api/v1/operator/collections/log?borrower_id={loan.applicant}",
                     headers=operator_headers).json()["items"]
    assert [(c["outcome"], c["rule_id"]) for c in log] == \
        [("made", None), ("refused", "collection.contact_hours")]
    sent = client.post("/api/v1/operator/collections/send-notices", headers=operator_headers)
    assert sent.status_code == 200 and sent.json()["sent"] == 0
