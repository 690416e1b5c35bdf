"""债权转让 under fire: buyers take parts of open sales over HTTP while the server is killed —
right after a part was taken off a sale, after the purchase was written but before the commit,
right after a commit, or at a random moment — and restarted; each buyer retries with its own
Idempotency-Key until answered. Then: every acknowledged purchase exists exactly once with its
new holding, nothing unacknowledged does; no sale sold more than it offered; each seller's
holding shrank by exactly what was sold; each buyer paid exactly the acknowledged prices; the
books balance; asking again gives the same answers."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.secondary_tables import SecondaryPurchase, SecondarySale
from biaodi.adapters.db.tables import Holding
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.secondary import sales
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from fault_support import (
    PURSE_YUAN,
    Crashes,
    Killer,
    Server,
    budget,
    child_env,
    people,
    retrying,
    rng,
    run_clients,
)
from servicing_support import check_books, funded_loan, run_close, servicing_rules, set_day

pytestmark = pytest.mark.fault

#: Buyers grow with the kills wanted (one per kill, 8 at least).
PART_YUAN = 500
POINTS = (("secondary.taken", 3), ("secondary.written", 3), ("uow.after_commit", 4),
          ("uow.before_commit", 4), ("timer", 0))


def test_secondary_purchases_survive_the_server_killed_again_and_again(
        platform: Platform, clock: FixedClock, backend: str, tmp_path: Path) -> None:
    random = rng("secondary", backend)
    crashes = Crashes("secondary", backend)
    loan = funded_loan(platform, "credit", rate="0.09", term=6)
    set_day(clock, date(2026, 11, 28) + timedelta(days=12))
    run_close(platform)
    market = replace(platform.secondary_rules, sale=replace(
        platform.secondary_rules.sale, holding_period_days=0),
        servicing=servicing_rules(platform))
    offered = []
    for seller, holding in zip(loan.investors, loan.holdings, strict=True):
        sale = in_transaction(platform.uow, lambda uow, h=holding, s=seller: sales.offer(
            uow, sales.Offer(h, s, Decimal("0.01"), Money.yuan(3_000)), market))
        offered.append(sale.id)
    with platform.uow() as uow:
        before = {h: uow.s.get(Holding, h).outstanding_principal_fen  # type: ignore[union-attr]
                  for h in loan.holdings}
    wanted = budget("secondary", postgres=backend == "postgres")
    buyers = people(platform, max(8, wanted))
    url = platform.engine.url.render_as_string(hide_password=False)
    server = Server(child_env(url, TEST_KEY, clock.now().isoformat(),
                              BIAODI_SECONDARY_HOLDING_DAYS="0"), tmp_path / "server.log")
    answers: dict[tuple[int, int], tuple[int, Any]] = {}
    lock = threading.Lock()
    orders = [random.sample(offered, len(offered)) for _ in buyers]

    def ask(client: httpx.Client, user_id: int, headers: dict[str, str],
            sale_id: int) -> httpx.Response:
        return retrying(lambda: client.post(
            f"/api/v1/secondary/sales/{sale_id}/purchases",
            json={"principal": f"{PART_YUAN}.00"},
            headers=headers | {"Idempotency-Key": f"buy-{user_id}-{sale_id}"}))

    def buyer(n: int) -> None:
        user_id, headers = buyers[n]
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for sale_id in orders[n]:
                response = ask(client, user_id, headers, sale_id)
                with lock:
                    answers[(user_id, sale_id)] = (response.status_code, response.json())
            for sale_id in itertools.cycle(orders[n]):  # while the kills go on: ask again
                if killer.done.is_set():
                    return
                again = ask(client, user_id, headers, sale_id)
                assert (again.status_code, again.json()) == answers[(user_id, sale_id)]

    started = time.monotonic()
    killer = Killer(server, random, crashes, wanted, POINTS, grace_s=1.0)
    threads = [threading.Thread(target=buyer, args=(n,), daemon=True) for n in range(len(buyers))]
    try:
        run_clients(killer, threads, crashes)
        assert len(answers) == len(buyers) * len(offered), crashes.report()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for (user_id, sale_id), (status, body) in sorted(answers.items()):
                again = ask(client, user_id, dict(buyers)[user_id], sale_id)
                assert (again.status_code, again.json()) == (status, body), crashes.report()
    finally:
        server.stop()
    elapsed = time.monotonic() - started

    acknowledged = {pair: body for pair, (status, body) in answers.items() if status == 201}
    codes = Counter(status for status, _ in answers.values())
    assert set(codes) <= {201, 409}, (codes, answers, crashes.report())
    with platform.uow() as uow:
        rows = uow.s.scalars(select(SecondaryPurchase)).all()
        assert Counter((r.buyer_id, r.sale_id) for r in rows) == \
            Counter(acknowledged.keys()), crashes.report()
        assert {(r.buyer_id, r.sale_id): (r.id, r.buyer_holding_id) for r in rows} == {
            pair: (body["id"], body["holding_id"]) for pair, body in acknowledged.items()}
        for sale in uow.s.scalars(select(SecondarySale)):
            sold = sum(r.principal_fen for r in rows if r.sale_id == sale.id)
            assert sold == sale.principal_fen - sale.remaining_fen, crashes.report()
            assert sale.remaining_fen >= 0 and sold <= sale.principal_fen
            assert uow.s.get(Holding, sale.holding_id).outstanding_principal_fen == \
                before[sale.holding_id] - sold, crashes.report()  # type: ignore[union-attr]
        for r in rows:
            assert uow.s.get(Holding, r.buyer_holding_id).principal_fen == r.principal_fen
        for user_id, _ in buyers:
            paid = sum(r.price_fen for r in rows if r.buyer_id == user_id)
            assert ledger.balance(uow, wallet(OwnerKind.INVESTOR, user_id).code) == \
                Money.yuan(PURSE_YUAN).fen - paid, crashes.report()
    assert codes[201] == 3 * 3_000 // PART_YUAN  # every sale sold out, not one part more
    check_books(platform)
    assert len(crashes.kills) >= min(wanted, 3), crashes.report()
    print(crashes.report(), f"in {elapsed:.1f} s over {server.starts} server starts "
          f"({server.start_s:.1f} s of them starting):",
          sorted(crashes.kills), dict(codes))
