"""The operator console's default handling, guarantors and exception refunds: defaulted loans
with what close of business did to each and the rule behind it, a collateral sale and a
recovery recorded through the page (the ledger stays balanced), bad amounts refused next to the
field in both languages, each guarantor's capacity, used and remaining, the terms form (a new
guarantor needs a name), a suspended deposit refunded through the gateway from the exceptions
page, and who may read and act."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.payment_tables import PaymentOrder
from biaodi.adapters.gateway.client import RefundDone
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings import lifecycle as listings
from biaodi.services.payments import orders as payments
from biaodi.services.payments.orders import StartPayment
from biaodi.services.shared.tx import in_transaction
from biaodi.web.routes import investor as investor_pages
from factories import identity
from operator_support import sign_in
from payment_support import FakeGateway, gateway_event
from servicing_support import (
    balance,
    due_dates,
    funded_loan,
    investor_cash,
    loan_state,
    run_close,
    set_day,
)
from web_support import CSRF


def act(client: TestClient, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Post `data` with the page's own CSRF token (the first form's, or the page's)."""
    html = client.get(path).text
    token = CSRF.search(html)
    assert token, path
    return client.post(path, data=data | {"csrf_token": token.group(1)}, follow_redirects=False)


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="error"[^>]*data-field="{field}">([^<]*)</p>', html)
    assert found, html[html.find("<main"):][:3000]
    return found.group(1)


def balanced(platform: Platform) -> None:
    with platform.uow() as uow:
        result = ledger.verify(uow)
    assert result.balanced, result.problems


def card(html: str, listing_id: int) -> str:
    start = html.index(f'data-loan="{listing_id}"')
    end = html.find("</section>", start)
    return html[start:end]


@pytest.fixture
def defaulted(platform: Platform, clock: FixedClock) -> dict[str, object]:
    """A 信用标, a 抵押标, a 担保标 and a 流转标 of one month, never repaid, and the first close
    of business only when they are past M3 (one day to close, not a hundred)."""
    loans = {kind: funded_loan(platform, kind, term=1)
             for kind in ("credit", "collateral", "guarantee", "transfer")}
    m3 = due_dates(platform, loans["credit"].listing_id)[0] + timedelta(days=92)
    set_day(clock, m3)
    run_close(platform, m3)
    return loans  # type: ignore[return-value]


def test_defaulted_loans_show_their_handling_and_take_a_sale_and_a_recovery(
        client: TestClient, platform: Platform, defaulted: dict) -> None:
    credit, collateral, guarantee = (defaulted[k] for k in ("credit", "collateral", "guarantee"))
    sign_in(client, platform, "operator")
    page = client.get("/operator/defaults")
    assert page.status_code == 200
    html = page.text
    written = card(html, credit.listing_id)
    assert "核销" in written and 'data-stage="written_off"' in written
    assert "逾期达 M3+（90 天以上）" in written and 'data-event="status_written_off"' in written
    assert 'data-form="recovery"' in written and 'data-form="disposal"' not in written
    disposal = card(html, collateral.listing_id)
    assert 'data-disposal="pending"' in disposal and 'data-form="disposal"' in disposal
    assert "抵押物进入处置" in disposal and "<code>disposal</code>" in disposal
    backed = card(html, guarantee.listing_id)
    assert 'data-event="compensation"' in backed and "担保方代偿全部剩余本金" in backed
    bought = card(html, defaulted["transfer"].listing_id)  # its 10 % reserve falls short
    assert 'data-event="buyback"' in bought and "原债权人按本金加利息回购" in bought
    assert 'data-event="status_written_off"' in bought
    # the loan page offers what applies
    loan_page = client.get(f"/operator/loans/{collateral.listing_id}").text
    assert 'data-action="disposal"' in loan_page
    assert f'href="/operator/defaults#loan-{collateral.listing_id}"' in loan_page

    # a bad amount is refused next to its field, in the page's language, values kept
    sale = {"op": "disposal", "listing_id": str(collateral.listing_id), "proceeds": "12.345",
            "costs": "500", "reference": "拍卖成交确认书 2027-0401"}
    bad = act(client, "/operator/defaults", sale)
    assert bad.status_code == 422
    assert field_error(bad.text, "proceeds") == "请填写有效金额（元，最多两位小数）"
    assert 'value="拍卖成交确认书 2027-0401"' in bad.text
    client.cookies.set("lang", "en")
    bad = act(client, "/operator/defaults", sale | {"costs": "abc", "proceeds": "6000"})
    assert field_error(bad.text, "costs") == "Enter an amount in yuan with at most two decimals"
    client.cookies.set("lang", "zh-CN")

    before = sum(investor_cash(platform, collateral))
    sold = act(client, "/operator/defaults", sale | {"proceeds": "6000"})
    assert sold.status_code == 303, sold.text
    after = client.get(sold.headers["location"]).text
    assert f"贷款 #{collateral.listing_id} 的处置结果已登记" in after
    disposal = card(after, collateral.listing_id)
    assert 'data-disposal="settled"' in disposal and "拍卖成交确认书 2027-0401" in disposal
    assert 'data-form="disposal"' not in disposal
    assert sum(investor_cash(platform, collateral)) == before + Money.yuan(5_500).fen
    balanced(platform)

    owed = loan_state(platform, credit.listing_id)
    total = owed.penalty_fen + owed.due_interest_fen + owed.due_principal_fen
    recovery = {"op": "recovery", "listing_id": str(credit.listing_id), "reference": "法院执行款"}
    too_much = act(client, "/operator/defaults", recovery | {"amount": str(Money(total + 1))})
    assert too_much.status_code == 409 and "操作未执行 · 当前状态不允许" in too_much.text
    assert field_error(too_much.text, "amount") == "金额超过该贷款当前应收总额"
    no_ref = act(client, "/operator/defaults", recovery | {"amount": "800", "reference": ""})
    assert no_ref.status_code == 422 and field_error(no_ref.text, "reference") == "请填写凭证编号"
    cash = sum(investor_cash(platform, credit))
    loss = balance(platform, f"loss:{credit.listing_id}:written_off")
    got = act(client, "/operator/defaults", recovery | {"amount": "800"})
    assert got.status_code == 303, got.text
    assert sum(investor_cash(platform, credit)) == cash + Money.yuan(800).fen
    assert balance(platform, f"loss:{credit.listing_id}:written_off") < loss
    page = client.get(got.headers["location"]).text
    assert "回收款已登记并分配" in page
    assert 'data-event="recovery"' in card(page, credit.listing_id)
    assert "¥800.00" in card(page, credit.listing_id)
    assert re.search(r'data-event="recovery">.*?<td>法院执行款</td></tr>',
                     card(page, credit.listing_id), re.S)  # its reference is kept
    balanced(platform)


def test_guarantors_capacity_and_terms(client: TestClient, platform: Platform) -> None:
    loan = funded_loan(platform, "guarantee")
    newcomer = in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**identity(), roles=("guarantor",)), platform.cipher)).id
    sign_in(client, platform, "operator")
    html = client.get("/operator/guarantors").text
    start = html.index(f'data-guarantor="{loan.guarantor}"')
    backed = html[start:html.find("</section>", start)]
    assert "中和担保" in backed and "¥10,000,000.00" in backed
    assert re.search(r'data-used>¥10,000.00<', backed)  # the three tickets: 10,000 yuan
    assert re.search(r'data-remaining>¥9,990,000.00', backed)
    assert "1.00%" in backed and f'data-backed="{loan.listing_id}"' in backed
    assert "尚未设置担保条件" in html

    terms = {"user_id": str(newcomer), "name": "", "capacity": "500000", "fee_rate": "1.5",
             "compensation_days": "5"}
    nameless = act(client, "/operator/guarantors", terms)
    assert nameless.status_code == 422
    assert field_error(nameless.text, "name") == "首次设置担保条件须填写担保方名称"
    assert 'value="500000"' in nameless.text  # nothing lost
    client.cookies.set("lang", "en")
    bad_fee = act(client, "/operator/guarantors", terms | {"name": "Acme", "fee_rate": "x"})
    assert field_error(bad_fee.text, "fee_rate") == "Enter the yearly fee as a percentage, e.g. 1.5"
    client.cookies.set("lang", "zh-CN")
    saved = act(client, "/operator/guarantors", terms | {"name": "安信担保"})
    assert saved.status_code == 303, saved.text
    html = client.get(saved.headers["location"]).text
    start = html.index(f'data-guarantor="{newcomer}"')
    mine = html[start:html.find("</section>", start)]
    assert "安信担保" in mine and "¥500,000.00" in mine and "1.50%" in mine
    # a later change keeps the name on file when the field is left empty
    again = act(client, "/operator/guarantors", terms | {"capacity": "600000"})
    assert again.status_code == 303
    assert "安信担保" in client.get("/operator/guarantors").text


def test_a_new_guarantor_without_a_name_is_refused_by_the_service(platform: Platform) -> None:
    operator = in_transaction(platform.uow, lambda uow: users.create_staff(
        uow, users.Register(**identity(), roles=("operator",)), platform.cipher)).id
    person = in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**identity(), roles=("guarantor",)), platform.cipher)).id
    with pytest.raises(InvalidInput) as refused:
        in_transaction(platform.uow, lambda uow: listings.set_guarantor_terms(
            uow, person, name="  ", capacity=Money.yuan(1_000), fee_rate=Decimal("0.01"),
            compensation_days=3, actor_id=operator))
    assert refused.value.field == "name"


class RefundingGateway(FakeGateway):
    def __init__(self, at: datetime) -> None:
        super().__init__()
        self.at = at
        self.refunds: list[tuple[str, str, Money]] = []

    def refund(self, refund_no: str, original_txn_id: str, amount: Money) -> RefundDone:
        self.refunds.append((refund_no, original_txn_id, amount))
        return RefundDone(refund_no, f"R{original_txn_id}", amount, self.at)


def test_a_suspended_deposit_is_refunded_from_the_exceptions_page(
        client: TestClient, platform: Platform) -> None:
    payer = in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**identity(), roles=("investor",)), platform.cipher)).id
    order = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, StartPayment(payer, Money.yuan(50), "mobile")))
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(order.order_no, "5000.00", at=platform.clock.now()),
        source="callback"))
    gateway = RefundingGateway(platform.clock.now())
    client.app.dependency_overrides[investor_pages.get_gateway] = lambda: gateway
    sign_in(client, platform, "operator")
    page = client.get("/operator/payments/exceptions").text
    exception_id = re.search(r'data-exception="(\d+)"', page).group(1)  # type: ignore[union-attr]
    assert '<option value="refund">退款</option>' in page and "最近的对账结果" in page
    data = {"exception_id": exception_id, "action": "refund", "reason": "付款人多付，原路退回"}
    unconfirmed = act(client, "/operator/payments/exceptions", data)
    assert unconfirmed.status_code == 422
    assert field_error(unconfirmed.text, "confirm") == "退款前请勾选确认"
    assert not gateway.refunds
    done = act(client, "/operator/payments/exceptions", data | {"confirm": "yes"})
    assert done.status_code == 303, done.text
    assert gateway.refunds == [(f"R{order.order_no}", gateway.refunds[0][1], Money.yuan(5_000))]
    outcome = client.get(done.headers["location"]).text
    assert f"异常 #{exception_id} 已处理" in outcome
    assert "处理方式：退款；理由：付款人多付，原路退回" in outcome
    with platform.uow() as uow:
        assert ledger.balance(uow, "suspense:gateway") == 0
        assert ledger.balance(uow, wallet(OwnerKind.INVESTOR, payer).code) == 0
        status = uow.s.scalars(select(PaymentOrder.status).where(
            PaymentOrder.order_no == order.order_no)).one()
    assert status == "failed"
    balanced(platform)
    client.app.dependency_overrides.clear()


def test_who_reads_and_who_acts(client: TestClient, platform: Platform) -> None:
    funded_loan(platform, "guarantee")
    sign_in(client, platform, "investor")
    for path in ("/operator/defaults", "/operator/guarantors"):
        assert client.get(path).status_code == 403, path
    sign_in(client, platform, "auditor")
    for path in ("/operator/defaults", "/operator/guarantors"):
        page = client.get(path)
        assert page.status_code == 200 and "只读" in page.text, path
        assert "data-form=" not in page.text and 'method="post" action="/operator/' \
            not in page.text, path
        assert "违约处置" in page.text and "担保方额度" in page.text  # the tabs
    assert act(client, "/operator/guarantors", {"user_id": "1", "name": "x", "capacity": "1",
                                                "fee_rate": "1"}).status_code == 403
    assert act(client, "/operator/defaults", {"op": "recovery", "listing_id": "1",
                                              "amount": "1"}).status_code == 403
    sign_in(client, platform, "risk_officer")
    assert client.get("/operator/guarantors").status_code == 200
