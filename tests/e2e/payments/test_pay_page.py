"""The sandbox's pay page (the deposit's `pay_url`): its Pay, Decline and Expire buttons post a
plain form, and the platform books what the payer chose."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from biaodi.adapters.gateway.client import HttpGateway, OrderRequest
from biaodi.domain.payments.orders import TxnType
from biaodi.domain.shared.money import Money
from payment_support import Live


def _press(live: Live, pay_url: str, button: str) -> str:
    page = httpx.get(pay_url)
    assert page.status_code == 200
    assert "<script" not in page.text  # nothing to break in the browser
    [action] = re.findall(r"<form method='post' action='([^']+)'>", page.text)
    assert f"name='action' value='{button}'" in page.text
    done = httpx.post(live.sandbox.url + action, data={"action": button}, follow_redirects=True)
    assert done.status_code == 200 and str(done.url) == pay_url
    assert "<form" not in done.text  # a settled order shows its outcome, no more buttons
    return done.text


def test_pay_books_the_deposit(live: Live) -> None:
    _, headers = live.register("investor")
    order = live.start("deposits", headers, "1000.00")
    page = _press(live, order["pay_url"], "pay")
    assert "<strong id='status'>succeeded</strong>" in page
    assert "the platform answered 200 accepted" in page
    assert live.wallet(headers)["available"] == "1000.00"
    assert live.order(headers, order["order_no"])["status"] == "succeeded"
    again = httpx.post(order["pay_url"], data={"action": "pay"}, follow_redirects=True)
    assert again.status_code == 200  # a second click changes nothing
    assert live.wallet(headers)["available"] == "1000.00"


@pytest.mark.parametrize(("button", "sandbox_status"),
                         [("decline", "failed"), ("expire", "expired")])
def test_decline_and_expire_fail_the_deposit(live: Live, button: str,
                                             sandbox_status: str) -> None:
    _, headers = live.register("investor")
    order = live.start("deposits", headers, "300.00")
    page = _press(live, order["pay_url"], button)
    assert f"<strong id='status'>{sandbox_status}</strong>" in page
    assert live.order(headers, order["order_no"])["status"] == "failed"
    assert live.wallet(headers)["available"] == "0.00"
    assert live.sandbox.order(order["order_no"])["status"] == sandbox_status


def test_an_unknown_button_is_refused(live: Live) -> None:
    _, headers = live.register("investor")
    order = live.start("deposits", headers, "10.00")
    refused = httpx.post(order["pay_url"], data={"action": "steal"})
    assert refused.status_code == 422
    assert live.sandbox.order(order["order_no"])["status"] == "pending"


def test_the_pay_page_sends_the_payer_back_to_the_merchant(live: Live) -> None:
    """A deposit started with a return address: once paid, the page links back to it (only an
    http(s) address, never before the order is settled)."""
    gateway = HttpGateway(live.sandbox.url, live.sandbox.merchant_id, live.sandbox.secret,
                          live.platform.clock)
    order_no = f"D-RETURN-{uuid.uuid4().hex[:10]}"  # the sandbox outlives one database's run
    back = f"http://127.0.0.1:8000/me?order={order_no}"
    accepted = gateway.create_order(OrderRequest(
        order_no=order_no, type=TxnType.DEPOSIT, amount=Money.yuan(10), channel="bank_card",
        notify_url=live.callback_url, return_url=back))
    assert accepted.pay_url is not None
    assert "id='return'" not in httpx.get(accepted.pay_url).text  # not while pending
    httpx.post(accepted.pay_url, data={"action": "decline"})
    assert f"<a id='return' href='{back}'>" in httpx.get(accepted.pay_url).text
