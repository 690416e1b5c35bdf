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


def test_two_hundred_investors_race_for_one_hundred_tickets(platform: Platform) -> None:
    listing_id = published_listing(platform, RULES, amount=10_000, rate="0.11")
    racers = many_investors(platform, RACERS, yuan=1_000)
    random.Random(SEED).shuffle(racers)
    start = threading.Barrier(RACERS)
    outcomes: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def race(investor_id: int) -> None:
        start.wait()
        try:
            invest(platform, RULES, listing_id, investor_id, 100)
            result = "sold"
        except BiaodiError as refusal:
            result = refusal.code
        except BaseException as exc:
            with lock:
                unexpected.append(exc)
            return
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=race, args=(i,)) for i in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not unexpected, unexpected[:3]
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
