"""Gateway callbacks booked while the server is killed — right after a callback was booked but
before its audit row, right before or after the commit, or at a random moment — and redelivered
(some twice, as gateways do) until answered 200: each payment is booked exactly once (one
gateway transaction, one ledger entry, one `accepted` audit row), each wallet holds what its
orders paid, the books balance, and every later redelivery is answered `duplicate`."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.payment_tables import GatewayCallback, GatewayTransaction, PaymentOrder
from biaodi.adapters.db.tables import JournalEntry
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.payments import orders
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from fault_support import (
    Crashes,
    Killer,
    Server,
    budget,
    child_env,
    retrying,
    rng,
    run_clients,
)
from investing_support import assert_books_balanced, user
from payment_support import gateway_event, signed

pytestmark = pytest.mark.fault

#: Orders per user grow with the kills wanted (3 at least).
USERS, DELIVERERS = 8, 4
POINTS = (("callback.booked", 3), ("uow.after_commit", 4), ("uow.before_commit", 4),
          ("timer", 0))


def test_callbacks_redelivered_through_server_kills_are_booked_exactly_once(
        platform: Platform, clock: FixedClock, backend: str, tmp_path: Path) -> None:
    random = rng("callbacks", backend)
    crashes = Crashes("callbacks", backend)
    wanted = budget("callbacks", postgres=backend == "postgres")
    orders_each = max(3, wanted // 4)
    people = [user(platform, "investor") for _ in range(USERS)]
    made: list[tuple[int, str, str]] = []  # (user, order_no, amount)
    for n, person in enumerate(people):
        for k in range(orders_each):
            amount = f"{100 * (n + 1) + k}.{k % 100:02d}"
            view = in_transaction(platform.uow, lambda uow, p=person, a=amount:
                                  orders.start_deposit(uow, orders.StartPayment(
                                      p, Money.parse(a), "third_party")))
            made.append((person, view.order_no, amount))
    deliveries = []
    events = {}
    for _, order_no, amount in made:
        event = gateway_event(order_no, amount, at=clock.now())
        events[order_no] = event
        deliveries += [event] * random.choice((1, 1, 2))  # some arrive twice
    random.shuffle(deliveries)
    url = platform.engine.url.render_as_string(hide_password=False)
    server = Server(child_env(url, TEST_KEY, clock.now().isoformat()), tmp_path / "server.log")
    todo: queue.Queue = queue.Queue()
    for event in deliveries:
        todo.put(event)
    verdicts: Counter[str] = Counter()
    lock = threading.Lock()

    def deliver(client: httpx.Client, event: object) -> httpx.Response:
        body, headers = signed(event, now=clock.now())  # type: ignore[arg-type]
        return retrying(lambda: client.post("/api/v1/payments/callbacks", content=body,
                                            headers=headers))

    def deliverer() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            mine = []
            while True:
                try:
                    event = todo.get_nowait()
                except queue.Empty:
                    break
                response = deliver(client, event)
                assert response.status_code == 200, response.text
                with lock:
                    verdicts[response.json()["verdict"]] += 1
                mine.append(event)
            for event in itertools.cycle(mine):  # while the kills go on: the gateway retries
                if killer.done.is_set():
                    return
                again = deliver(client, event)
                assert (again.status_code, again.json()["verdict"]) == (200, "duplicate")

    started = time.monotonic()
    killer = Killer(server, random, crashes, wanted, POINTS, grace_s=1.0)
    threads = [threading.Thread(target=deliverer, daemon=True) for _ in range(DELIVERERS)]
    try:
        run_clients(killer, threads, crashes)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for event in events.values():  # the gateway's last retry: already booked
                again = deliver(client, event)
                assert again.json()["verdict"] == "duplicate", (again.text, crashes.report())
    finally:
        server.stop()
    elapsed = time.monotonic() - started

    assert sum(verdicts.values()) == len(deliveries)
    with platform.uow() as uow:
        txns = Counter(uow.s.scalars(select(GatewayTransaction.txn_id)))
        assert txns == Counter({e.txn_id: 1 for e in events.values()}), crashes.report()
        keys = Counter(uow.s.scalars(select(JournalEntry.idempotency_key).where(
            JournalEntry.idempotency_key.like("gateway:%"))))
        assert keys == Counter({f"gateway:{e.txn_id}": 1 for e in events.values()}), \
            crashes.report()
        accepted = Counter(uow.s.scalars(select(GatewayCallback.txn_id).where(
            GatewayCallback.verdict == "accepted")))
        assert accepted == Counter({e.txn_id: 1 for e in events.values()}), crashes.report()
        statuses = dict(uow.s.execute(select(PaymentOrder.order_no, PaymentOrder.status)).all())
        assert set(statuses.values()) == {"succeeded"}, crashes.report()
    for person in people:
        paid = sum(Money.parse(a).fen for who, _, a in made if who == person)
        with platform.uow() as uow:
            assert ledger.balance(uow, wallet(OwnerKind.INVESTOR, person).code) == paid
    assert_books_balanced(platform)
    assert len(crashes.kills) >= min(wanted, 3), crashes.report()
    print(crashes.report(), f"in {elapsed:.1f} s over {server.starts} server starts "
          f"({server.start_s:.1f} s of them starting):",
          sorted(crashes.kills), dict(verdicts))
