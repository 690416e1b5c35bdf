"""抢标 under fire: investors rush hot listings over HTTP while the server process is killed —
at a kill point right before or right after a commit, inside disbursement (the ticket that
fills a listing), or after a random delay — and restarted; every client retries with its own
Idempotency-Key until the server answers. Then: every acknowledged investment is there exactly
once and nothing unacknowledged is; no listing is oversold; every full listing was disbursed
exactly once; the books balance; each investor's wallet is what the acknowledged tickets imply;
and asking again with the same keys gives the same answers."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.tables import Holding, Investment, JournalEntry, Listing, LoanInstalment
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
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
from investing_support import assert_books_balanced, published_listing

pytestmark = pytest.mark.fault

#: The listings grow with the kills wanted (one per two, 8 at least).
INVESTORS, TICKET_YUAN, PER_LISTING = 12, 1_000, 6
#: (point, highest hit): where the server kills itself; "timer" is a kill from outside.
POINTS = (("uow.after_commit", 5), ("uow.before_commit", 5), ("funding.holdings", 1),
          ("funding.disbursed", 1), ("timer", 0), ("timer", 0))


def test_a_rush_on_hot_listings_survives_the_server_killed_again_and_again(
        platform: Platform, clock: FixedClock, backend: str, db_url: str,
        tmp_path: Path) -> None:
    random = rng("rush", backend)
    crashes = Crashes("rush", backend)
    wanted = budget("rush", postgres=backend == "postgres")
    listings = max(8, wanted // 2)
    investors = people(platform, INVESTORS)
    listing_ids = [published_listing(platform, InvestingRules(), amount=TICKET_YUAN * PER_LISTING)
                   for _ in range(listings)]
    url = platform.engine.url.render_as_string(hide_password=False)
    server = Server(child_env(url, TEST_KEY, clock.now().isoformat()), tmp_path / "server.log")
    answers: dict[tuple[int, int], tuple[int, Any]] = {}
    lock = threading.Lock()
    orders = [random.sample(listing_ids, len(listing_ids)) for _ in investors]

    def ask(client: httpx.Client, user_id: int, headers: dict[str, str],
            listing_id: int) -> httpx.Response:
        return retrying(lambda: client.post(
            f"/api/v1/listings/{listing_id}/investments",
            json={"amount": f"{TICKET_YUAN}.00"},
            headers=headers | {"Idempotency-Key": f"rush-{user_id}-{listing_id}"}))

    def investor(ns: list[int]) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            mine = []
            for n in ns:
                user_id, headers = investors[n]
                for listing_id in orders[n]:
                    response = ask(client, user_id, headers, listing_id)
                    with lock:
                        answers[(user_id, listing_id)] = (response.status_code, response.json())
                    mine.append((n, listing_id))
            for n, listing_id in itertools.cycle(mine):  # while the kills go on: ask again
                if killer.done.is_set():
                    return
                user_id, headers = investors[n]
                again = ask(client, user_id, headers, listing_id)
                assert (again.status_code, again.json()) == answers[(user_id, listing_id)]

    # Every investor a client of its own, side by side, on both databases (the funding
    # deadlock on PostgreSQL is gone: listing row first, then the wallet).
    clients = [[n] for n in range(INVESTORS)]

    started = time.monotonic()
    killer = Killer(server, random, crashes, wanted, POINTS, grace_s=1.0)
    threads = [threading.Thread(target=investor, args=(ns,), daemon=True) for ns in clients]
    try:
        run_clients(killer, threads, crashes)
        assert len(answers) == INVESTORS * listings, crashes.report()

        # the same keys again (a sample): the same answers, nothing new
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for (user_id, listing_id), (status, body) in random.sample(
                    sorted(answers.items()), 16):
                headers = dict(investors)[user_id]
                again = ask(client, user_id, headers, listing_id)
                assert (again.status_code, again.json()) == (status, body), crashes.report()
    finally:
        server.stop()
    elapsed = time.monotonic() - started

    acknowledged = {pair: body["id"] for pair, (status, body) in answers.items()
                    if status == 201}
    codes = Counter(status for status, _ in answers.values())
    assert set(codes) <= {201, 409}, (codes, crashes.report())
    with platform.uow() as uow:
        rows = uow.s.execute(select(Investment.id, Investment.investor_id, Investment.listing_id,
                                    Investment.amount_fen, Investment.status)).all()
        by_pair = Counter((r.investor_id, r.listing_id) for r in rows)
        assert all(n == 1 for n in by_pair.values()), (by_pair, crashes.report())
        assert {(r.investor_id, r.listing_id): r.id for r in rows} == acknowledged, \
            crashes.report()
        assert all(r.status == "settled" and r.amount_fen == TICKET_YUAN * 100 for r in rows)
        for listing_id in listing_ids:
            listing = uow.s.get(Listing, listing_id)
            assert listing is not None
            sold = sum(r.amount_fen for r in rows if r.listing_id == listing_id)
            assert sold == listing.amount_fen == listing.funded_fen, crashes.report()
            assert (listing.status, listing.remaining_fen) == ("repaying", 0), crashes.report()
            holdings = uow.s.scalar(select(func.count()).select_from(Holding)
                                    .where(Holding.listing_id == listing_id))
            assert holdings == PER_LISTING, crashes.report()
            assert uow.s.scalar(select(func.count()).select_from(LoanInstalment).where(
                LoanInstalment.listing_id == listing_id)) == 12
            assert uow.s.scalar(select(func.count()).select_from(JournalEntry).where(
                JournalEntry.kind == "disbursement",
                JournalEntry.memo == f"listing {listing_id} funded")) == 1, crashes.report()
        for user_id, _ in investors:
            mine = sum(1 for (who, _), _id in acknowledged.items() if who == user_id)
            accounts = [wallet(OwnerKind.INVESTOR, user_id).code,
                        wallet(OwnerKind.INVESTOR, user_id, "frozen").code]
            purse = ledger.balances(uow, accounts)
            assert [purse.get(code, 0) for code in accounts] == [
                Money.yuan(PURSE_YUAN - mine * TICKET_YUAN).fen, 0], crashes.report()
    assert_books_balanced(platform)
    assert len(crashes.kills) >= min(wanted, 3), crashes.report()
    print(crashes.report(), f"in {elapsed:.1f} s over {server.starts} server starts "
          f"({server.start_s:.1f} s of them starting):",
          sorted(crashes.kills), dict(codes))
