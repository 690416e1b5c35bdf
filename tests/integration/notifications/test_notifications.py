"""Notifications on SQLite and PostgreSQL: every listed event gives exactly one inbox message
per user and one delivery per chosen channel, sent over SMTP to a local sink that is stopped
and restarted during the run, and through the SMS sandbox; a lost answer is sent again with the
same message id and dropped by the receiver."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.notification_tables import Notification, NotificationDelivery
from biaodi.adapters.db.tables import LoanInstalment, User
from biaodi.adapters.messaging.sms import SandboxSmsGateway
from biaodi.adapters.messaging.smtp import SmtpSender
from biaodi.bootstrap import Platform
from biaodi.domain.notifications.kinds import KINDS
from biaodi.domain.payments.orders import WithdrawalLimits
from biaodi.domain.servicing.conduct import ConductRules
from biaodi.domain.shared.money import Money
from biaodi.services.notifications import inbox
from biaodi.services.notifications.capture import capture, notify
from biaodi.services.notifications.relay import relay_once
from biaodi.services.payments import orders as payments
from biaodi.services.secondary import purchases, sales
from biaodi.services.servicing import collections
from biaodi.services.shared.tx import in_transaction
from investing_support import invest, investor, published_listing
from notify_support import LosesAnswers, SmtpSink
from payment_support import gateway_event
from servicing_support import (
    INVESTING,
    check_books,
    funded_loan,
    guarantor,
    pay_in,
    run_close,
    set_day,
)

LIMITS = WithdrawalLimits(per_transaction=Money(1000_00), per_day=Money(2500_00))


def order(platform: Platform, user_id: int, kind: str, yuan: str, status: str) -> None:
    cmd = payments.StartPayment(user_id, Money.parse(yuan),
                                "mobile" if kind == "deposit" else "bank_transfer")
    if kind == "deposit":
        view = in_transaction(platform.uow, lambda uow: payments.start_deposit(uow, cmd))
    else:
        view = in_transaction(platform.uow, lambda uow: payments.start_withdrawal(
            uow, cmd, LIMITS))
    event = gateway_event(view.order_no, yuan, status=status,
                          type="deposit" if kind == "deposit" else "payout")
    in_transaction(platform.uow, lambda uow: payments.apply_event(uow, event, source="callback"))


def expected_events(platform: Platform) -> set[tuple[str, int]]:
    """(event key, user) for every fact, read from the facts' own tables."""
    queries = [
        "SELECT kind || '.' || status || ':' || id, user_id FROM payment_orders"
        " WHERE status IN ('succeeded', 'failed')",
        "SELECT 'investment.frozen:' || id, investor_id FROM investments",
        "SELECT 'investment.refunded:' || id, investor_id FROM investments"
        " WHERE status = 'refunded'",
        "SELECT 'listing.funded:' || id, applicant_id FROM listings WHERE funded_at IS NOT NULL",
        "SELECT 'loan.disbursed:' || id, applicant_id FROM listings WHERE funded_at IS NOT NULL",
        "SELECT CASE kind WHEN 'reminder' THEN 'instalment.due_soon:' "
        " ELSE 'instalment.overdue:' END || id, borrower_id FROM collection_notices"
        " WHERE status = 'sent'",
        "SELECT 'repayment.paid:' || r.id, l.applicant_id FROM repayments r"
        " JOIN listings l ON l.id = r.listing_id WHERE r.source = 'auto_debit'",
        "SELECT 'loan.compensated:' || s.id, h.investor_id FROM repayment_shares s"
        " JOIN repayments r ON r.id = s.repayment_id JOIN servicing_positions p"
        " ON p.id = s.position_id JOIN holdings h ON h.id = p.holding_id"
        " WHERE r.source = 'guarantor'",
        "SELECT 'holding.sold:' || sp.id, h.investor_id FROM secondary_purchases sp"
        " JOIN holdings h ON h.id = sp.seller_holding_id",
    ]
    with platform.reader() as uow:
        return {(str(k), int(u)) for q in queries for k, u in uow.s.execute(text(q))}


@pytest.fixture
def sink() -> SmtpSink:
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


def test_every_event_gives_one_message_per_chosen_channel(
        platform: Platform, clock: FixedClock, sink: SmtpSink, tmp_path: Path) -> None:
    sms = SandboxSmsGateway(tmp_path / "sms")
    smtp = SmtpSender("127.0.0.1", sink.port, "noreply@biaodi.test", timeout=5)
    senders = {"email": LosesAnswers(smtp, times=2), "sms": sms}

    def relay() -> None:
        relay_once(platform.uow, platform.cipher, senders, max_attempts=50)

    # A guaranteed two-month loan: three investments frozen, funded, disbursed.
    guarantor_id = guarantor(platform, days=3)
    loan = funded_loan(platform, "guarantee", term=2, guarantor_id=guarantor_id)
    first = loan.investors[0]
    # Payments: each kind done and failed.
    order(platform, first, "deposit", "300.00", "succeeded")
    order(platform, first, "deposit", "50.00", "failed")
    order(platform, first, "withdrawal", "100.00", "succeeded")
    order(platform, first, "withdrawal", "20.00", "failed")
    # A listing that fails at its deadline and refunds its investor.
    failing = published_listing(platform, INVESTING, amount=10_000, term=3)
    late = investor(platform, 2_000)
    invest(platform, INVESTING, failing, late, 1_000)
    # A holding sold on the secondary market.
    market = replace(platform.secondary_rules,
                     sale=replace(platform.secondary_rules.sale, holding_period_days=0))
    sale = in_transaction(platform.uow, lambda uow: sales.offer(
        uow, sales.Offer(loan.holdings[1], loan.investors[1], Decimal("0"), None), market))
    buyer = investor(platform, 20_000)
    in_transaction(platform.uow, lambda uow: purchases.buy(
        uow, purchases.Buy(sale.id, buyer, None, None), market))

    # Who wants what: everyone gives an address; the buyer takes no SMS about compensation and
    # the borrower no e-mail about reminders.
    with platform.uow() as uow:
        for user_id in uow.s.scalars(select(User.id)):
            inbox.set_contact(uow, user_id, email=f"u{user_id}@example.test",
                              language="en" if user_id == first else None)
        inbox.set_channel(uow, buyer, "loan.compensated", "sms", False)
        inbox.set_channel(uow, loan.applicant, "instalment.due_soon", "email", False)
        uow.commit()
    relay()  # the sink is up: the first messages go out (two answers lost)

    # The borrower can pay the first instalment only: the second falls overdue and the
    # guarantor compensates the holders.
    with platform.reader() as uow:
        inst = uow.s.scalars(select(LoanInstalment).where(
            LoanInstalment.listing_id == loan.listing_id, LoanInstalment.seq == 1)).one()
        owed = (inst.principal_fen + inst.interest_fen + inst.service_fee_fen
                + inst.guarantee_fee_fen)
    pay_in(platform, loan.payer, owed)
    day, stop_on, start_on = clock.today(), date(2026, 12, 20), date(2027, 1, 10)
    while day < date(2027, 2, 3):
        day += timedelta(days=1)
        set_day(clock, day)
        in_transaction(platform.uow, lambda uow: collections.send_notices(uow, ConductRules()))
        run_close(platform, day)
        if day == stop_on:
            sink.stop()  # the mail server goes away for three weeks
        if day == start_on:
            sink.start()
        if day.day in (1, 8, 15, 22, 29) or day in (stop_on, start_on):
            relay()
    check_books(platform)
    for _ in range(3):  # the last back-offs run out
        clock.advance(hours=2)
        relay()

    expected = expected_events(platform)
    with platform.reader() as uow:
        got = [(n.event_key, n.user_id) for n in uow.s.scalars(select(Notification))]
        deliveries = uow.s.execute(select(NotificationDelivery, Notification).join(
            Notification, Notification.id == NotificationDelivery.notification_id)).all()
        again = capture(uow, since=clock.now() - timedelta(days=400))
    assert again == 0  # capturing again adds nothing
    assert Counter(got) == Counter(expected), set(got) ^ expected
    kinds = {key.split(":")[0] for key, _ in got}
    assert kinds == set(KINDS) - {"security.code"}, kinds

    # One delivery per chosen channel, all sent.
    by_channel = Counter((n.event_key, n.user_id, d.channel) for d, n in deliveries)
    assert set(by_channel.values()) == {1}
    assert {d.status for d, _ in deliveries} == {"sent"}
    emails = {d.message_id for d, _ in deliveries if d.channel == "email"}
    texts = {d.message_id for d, _ in deliveries if d.channel == "sms"}
    compensated_buyer = [(d.channel) for d, n in deliveries
                         if n.user_id == buyer and n.kind == "loan.compensated"]
    assert compensated_buyer == ["email"]
    borrower_reminders = {d.channel for d, n in deliveries
                          if n.user_id == loan.applicant and n.kind == "instalment.due_soon"}
    assert borrower_reminders == {"sms"}
    frozen = {(n.user_id, d.channel) for d, n in deliveries if n.kind == "investment.frozen"}
    assert frozen == {(i, "email") for i in [*loan.investors, late]}  # e-mail only by default

    # What arrived: every e-mail once after de-duplication by Message-ID (two were sent twice
    # because their answers were lost), every SMS once.
    arrived = sink.by_id()
    assert set(arrived) == emails
    assert len(sink.received) == len(emails) + 2
    assert {m["message_id"] for m in sms.received()} == texts
    assert len(sms.received()) == len(texts)
    # The English-speaking investor got English; the others Chinese.
    with platform.reader() as uow:
        for note in uow.s.scalars(select(Notification).where(
                Notification.kind == "deposit.succeeded")):
            mail = arrived[f"<n{note.id}.email@biaodi>"]
            assert mail["subject"] == "Deposit received" and "300.00 yuan" in mail["body"]
        refund = uow.s.scalars(select(Notification).where(
            Notification.kind == "investment.refunded")).one()
        assert refund.title == "流标退款" and "1,000.00 元" in refund.body
        stuck = uow.s.scalar(select(func.count()).select_from(NotificationDelivery).where(
            NotificationDelivery.attempts > 1))
    assert stuck and stuck > 2  # the stop made deliveries wait and try again


def test_collection_messages_wait_for_the_contact_hours(
        platform: Platform, clock: FixedClock, tmp_path: Path) -> None:
    """An overdue notice captured late in the evening goes out by SMS at 08:00 the next day;
    a deposit's message goes at once."""
    sms = SandboxSmsGateway(tmp_path / "sms")
    who = investor(platform, 0)
    set_day(clock, date(2026, 12, 3), time(22, 30))
    with platform.uow() as uow:
        late = notify(uow, who, "instalment.overdue", "instalment.overdue:test",
                      {"title": "t", "days": 3, "amount": 100})
        now = notify(uow, who, "deposit.succeeded", "deposit.succeeded:test",
                     {"order_no": "D1", "amount": 100})
        uow.commit()
    window = ConductRules().window
    relay_once(platform.uow, platform.cipher, {"sms": sms, "email": sms}, window=window)
    assert [m["message_id"] for m in sms.received()] == [f"<n{now}.sms@biaodi>"]
    set_day(clock, date(2026, 12, 4), time(7, 59))
    relay_once(platform.uow, platform.cipher, {"sms": sms, "email": sms}, window=window)
    assert len(sms.received()) == 1
    set_day(clock, date(2026, 12, 4), time(8, 0))
    relay_once(platform.uow, platform.cipher, {"sms": sms, "email": sms}, window=window)
    assert [m["message_id"] for m in sms.received()][1:] == [f"<n{late}.sms@biaodi>"]
