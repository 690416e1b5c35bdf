"""The inbox and the security page in a real browser: a signed-in investor follows the
navigation to the inbox, reads a deposit's message and marks it read, then opens the security
page with its current session and log; screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.notifications.capture import capture
from biaodi.services.payments import orders as payments
from biaodi.services.shared.tx import in_transaction
from factories import identity
from payment_support import gateway_event

pytestmark = pytest.mark.browser


def test_inbox_and_security_in_the_browser(page: Any, site: str, platform: Platform,
                                           screenshots: Path, db_url: str) -> None:
    data = identity()
    user_id = in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**data, roles=("investor",)), platform.cipher)).id
    order = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, payments.StartPayment(user_id, Money.parse("66.00"), "mobile")))
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(order.order_no, "66.00"), source="callback"))
    in_transaction(platform.uow, capture)
    database = "postgres" if db_url.startswith("postgres") else "sqlite"
    page.goto(site + "/login?next=/")
    page.fill("#f-username", data["username"])
    page.fill("#f-password", data["password"])
    page.click("main form button[type=submit]")
    page.click("nav a[href='/me/inbox']")
    page.wait_for_url("**/me/inbox")
    message = page.locator("li.message.unread")
    assert message.count() == 1 and "充值成功" in message.inner_text()
    assert "66.00" in message.inner_text()
    page.screenshot(path=str(screenshots / f"inbox-zh-CN-{database}.png"), full_page=True)
    message.locator("button[type=submit]").click()
    page.wait_for_url("**/me/inbox")
    assert page.locator("li.message.unread").count() == 0
    page.click("a[href='/me/security']")
    page.wait_for_url("**/me/security")
    assert "当前会话" in page.inner_text("table.sessions")
    assert page.locator("table.security-log tr[data-kind=signed_in]").count() == 1
    assert page.get_attribute("#mobile-state", "data-verified") == "no"
    page.screenshot(path=str(screenshots / f"security-zh-CN-{database}.png"), full_page=True)
