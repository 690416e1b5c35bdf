"""抢标: 200 investors race for a listing worth 100 tickets, on both databases."""

from __future__ import annotations

import random
import threading
from collections import Counter

from sqlalchemy import func, select, text

from biaodi.adapters.db.tables import Holding, Investment, Listing
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from investing_support import invest, many_investors, published_listing

RULES = InvestingRules()
RACERS = 200
SEED = 6


def race(platform: Platform, listing_id: int, tickets: list[tuple[int, int]]) -> Counter[str]:
    """Every (investor, yuan) ticket in its own thread, released at once; the outcomes by
    refusal code ("sold" for a success). Anything but a business refusal fails the test."""
    start = threading.Barrier(len(tickets))
    outcomes: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def one(investor_id: int, yuan: int) -> None:
        start.wait()
        try:
            invest(platform, RULES, listing_id, investor_id, yuan)
            result = "sold"
        except BiaodiError as refusal:
            result = refusal.code
        except BaseException as exc:
            with lock:
                unexpected.append(exc)
            return
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=one, args=ticket) for ticket in tickets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not unexpected, unexpected[:3]
    return outcomes


def test_two_hundred_investors_race_for_one_hundred_tickets(platform: Platform) -> None:
    listing_id = published_listing(platform, RULES, amount=10_000, rate="0.11")
    racers = many_investors(platform, RACERS, yuan=1_000)
    random.Random(SEED).shuffle(racers)
    outcomes = race(platform, listing_id, [(i, 100) for i in racers])

    assert outcomes == {"sold": 100, "listing_full": 100}
    with platform.uow() as uow:
        listing = uow.s.get(Listing, listing_id)
        sold = uow.s.execute(select(func.sum(Investment.amount_fen))).scalar()
        holdings = uow.s.execute(select(func.count()).select_from(Holding)).scalar()
        negative = uow.s.execute(text(
            "SELECT COUNT(*) FROM accounts WHERE non_negative AND balance < 0")).scalar()
        verification = ledger.verify(uow)
        frozen = uow.s.execute(text(
            "SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE purpose = 'frozen'")).scalar()
    assert listing.status == "repaying" and listing.remaining_fen == 0
    assert sold == listing.amount_fen == 1_000_000 and holdings == 100
    assert negative == 0 and frozen == 0
    assert verification.balanced, verification.problems


def test_investors_race_for_a_transfer_listing_that_pays_the_originator_at_once(
    platform: Platform,
) -> None:
    """Each share is paid over in its own subscription: the originator's wallet is a second
    hot row. 30 racers for 20 shares; one racer tries three tickets at once against a cap of
    ten shares (half the listing)."""
    listing_id = published_listing(platform, RULES, kind="transfer", amount=2_000, term=6,
                                   method="bullet")
    racers = many_investors(platform, 30, yuan=1_000)
    greedy = racers[0]
    tickets = [(greedy, 500), (greedy, 500), (greedy, 500)] + [(i, 100) for i in racers[1:]]
    random.Random(SEED).shuffle(tickets)
    outcomes = race(platform, listing_id, tickets)

    with platform.uow() as uow:
        listing = uow.s.get(Listing, listing_id)
        greedy_took = uow.s.execute(select(func.sum(Investment.amount_fen)).where(
            Investment.investor_id == greedy)).scalar()
        sold = uow.s.execute(select(func.sum(Investment.amount_fen))).scalar()
        held = uow.s.execute(select(func.sum(Holding.principal_fen))).scalar()
        originator = uow.s.execute(text(
            "SELECT balance FROM accounts WHERE code = :code"),
            {"code": f"originator:{listing.applicant_id}:available"}).scalar()
        verification = ledger.verify(uow)
    assert sold == held == listing.amount_fen - listing.remaining_fen == 200_000
    # every ticket is answered: sold, or refused for a business reason — the listing full (also
    # a 500-yuan ticket larger than what was still open when it arrived), or the cap reached
    assert sum(outcomes.values()) == len(tickets) and listing.status == "repaying"
    assert set(outcomes) <= {"sold", "listing_full", "investor_cap_exceeded"}
    assert (greedy_took or 0) <= 100_000  # never above the per-investor cap
    assert originator == 180_000 + 200_000  # deposit − reserve, then all that was sold
    assert verification.balanced, verification.problems
