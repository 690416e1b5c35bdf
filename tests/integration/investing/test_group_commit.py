"""Group commit on PostgreSQL: the same tickets sent one by one (`biaodi_invest`) and in
batches (`biaodi_invest_many`, one statement each) give the same answer ticket by ticket — successes
with the listing's running remaining amount, every refusal with its code and field, replays
and reused keys, the ticket that fills the listing and those after it — and leave the same
books: the listing, each investor's wallet, exposure and stake, a balanced ledger, an intact
audit chain."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text

from biaodi.adapters.db.tables import Listing
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.investing import one_trip
from biaodi.services.investing.counters import EXPOSURE_SQL, STAKE_SQL
from biaodi.services.investing.group_commit import next_batch
from biaodi.services.shared import audit as audit_trail
from biaodi.services.shared.tx import in_transaction
from investing_support import (
    AGGRESSIVE,
    CONSERVATIVE,
    assert_books_balanced,
    published_listing,
    signed_in_investor,
)
from statements_support import statement_counter

#: (name, wallet in yuan, risk assessment answers, roles, token revoked)
PROFILES = [
    ("rich1", 100_000, AGGRESSIVE, ("investor",), False),
    ("rich2", 100_000, AGGRESSIVE, ("investor",), False),
    ("rich3", 100_000, AGGRESSIVE, ("investor",), False),
    ("thin", 700, AGGRESSIVE, ("investor",), False),  # runs out part-way
    ("empty", 0, AGGRESSIVE, ("investor",), False),
    ("cautious", 100_000, CONSERVATIVE, ("investor",), False),
    ("unassessed", 100_000, None, ("investor",), False),
    ("borrower", 0, None, ("borrower",), False),
    ("revoked", 100_000, AGGRESSIVE, ("investor",), True),
    ("closer", 100_000, AGGRESSIVE, ("investor",), False),  # takes what is left, at the end
]
AMOUNTS = ["100.00", "200.00", "300.00", "500.00", "1000.00", "60.00", "150.00",
           "4000.00"]


def _people(platform: Platform) -> dict[str, tuple[int, str]]:
    """One investor per profile: its id and bearer token."""
    made: dict[str, tuple[int, str]] = {}
    for name, yuan, answers, roles, revoked in PROFILES:
        made[name] = signed_in_investor(platform, yuan, answers, roles)
        if revoked:
            in_transaction(platform.uow, lambda uow, t=made[name][1]: users.logout(uow, t))
    return made


def _sequence(seed: int) -> list[tuple[str, str, str]]:
    """(profile, amount, idempotency key): random tickets — each refused profile at least
    once — with keys used again: the same request (a replay) and another amount under the
    same key (a conflict)."""
    rng = random.Random(seed)
    names = [name for name, *_ in PROFILES if name != "closer"]
    weights = [6, 6, 6, 3, 1, 1, 1, 1, 1]
    drawn = [("empty", "100.00"), ("cautious", "100.00"), ("unassessed", "100.00"),
             ("borrower", "100.00"), ("revoked", "100.00")]
    drawn += [(rng.choices(names, weights)[0], rng.choice(AMOUNTS)) for _ in range(35)]
    rng.shuffle(drawn)
    tickets: list[tuple[str, str, str]] = []
    for n, (name, amount) in enumerate(drawn):
        tickets.append((name, amount, f"t{n}"))
        if rng.random() < 0.15:
            name, amount, key = rng.choice(tickets)
            tickets.append((name, rng.choice(AMOUNTS) if rng.random() < 0.5 else amount, key))
    return tickets


def _outcome(run: Any) -> tuple[Any, ...]:
    """An answer or a refusal as the user sees it, without the ids that differ by run."""
    try:
        answer = run()
    except BiaodiError as refused:
        return ("refused", type(refused).__name__, refused.code, refused.field)
    if answer.status_code != 201:
        error = answer.body["error"]
        return ("refused", answer.status_code, error["code"], error.get("field"),
                answer.replayed)
    return ("made", answer.replayed,
            {k: v for k, v in answer.body.items() if k not in ("id", "listing_id")})


def _state(platform: Platform, listing_id: int, people: dict[str, tuple[int, str]]
           ) -> dict[str, Any]:
    with platform.uow() as uow:
        listing = uow.s.get_one(Listing, listing_id)
        state: dict[str, Any] = {"listing": (listing.status, listing.remaining_fen)}
        # each one's wallet (available, frozen; the borrower has none), exposure and stake
        for name, (user_id, _) in people.items():
            counters = {"user": user_id, "listing": listing_id}
            state[name] = (uow.s.execute(text(
                               "SELECT balance FROM accounts WHERE code IN (:a, :f) "
                               "ORDER BY code"), {"a": f"investor:{user_id}:available",
                                                  "f": f"investor:{user_id}:frozen"}
                           ).scalars().all(),
                           uow.s.execute(text(f"SELECT {EXPOSURE_SQL}"), counters).scalar(),
                           uow.s.execute(text(f"SELECT {STAKE_SQL}"), counters).scalar())
    return state


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_batch_answers_and_books_exactly_as_one_by_one(platform: Platform,
                                                          seed: int) -> None:
    if not one_trip.available(platform.engine):
        pytest.skip("group commit is PostgreSQL's function biaodi_invest_many; SQLite takes "
                    "investments step by step under its single writer")
    rules = platform.investing_rules
    singly_listing = published_listing(platform, rules, amount=10_000)
    batch_listing = published_listing(platform, rules, amount=10_000)
    singly_people, batch_people = _people(platform), _people(platform)
    tickets = _sequence(seed)

    def send(listing_id: int, people: dict[str, tuple[int, str]], name: str, amount: str,
             key: str) -> one_trip.Ticket | None:
        return one_trip.ticket(platform.uow, token=people[name][1], listing_id=listing_id,
                               amount=Money.parse(amount), key=key,
                               payload={"amount": amount}, rules=rules)

    def singly_invest(t: tuple[str, str, str]) -> tuple[Any, ...]:
        return _outcome(lambda: one_trip.invest(
            platform.uow, token=singly_people[t[0]][1], listing_id=singly_listing,
            amount=Money.parse(t[1]), key=t[2], payload={"amount": t[1]}, rules=rules,
            batch_max=1))

    # one by one, each its own statement; the closer takes what the random tickets left
    singly = [singly_invest(t) for t in tickets]
    with platform.uow() as uow:
        left = uow.s.get_one(Listing, singly_listing).remaining_fen
    assert left <= 500_000, "the closer may take at most half of the listing"
    closing = [("closer", str(Money(left)), "fill")] if left else []
    closing.append(("rich1", "100.00", "after-fill"))
    singly += [singly_invest(t) for t in closing]
    filled = [n for n, outcome in enumerate(singly)
              if outcome[0] == "made" and not outcome[1]
              and outcome[2]["listing_remaining"] == "0.00"]
    assert len(filled) == 1, "exactly one ticket fills the listing"
    assert singly[filled[0]][2]["listing_status"] == "repaying"
    replay = [*tickets, *closing][filled[0]]
    singly.append(singly_invest(replay))
    assert singly[-1] == ("made", True, singly[filled[0]][2])

    # the same tickets, as few statements as group commit would send them in: a batch stops
    # before a key it already has (the first's refusal is stored once it is answered)
    prepared = [send(batch_listing, batch_people, *t) for t in tickets + closing]
    assert all(made is not None for made in prepared)
    batched: list[tuple[Any, ...]] = []
    statements = 0
    while len(batched) < len(prepared):
        size = next_batch(prepared[len(batched):], lambda made: made.key, len(prepared))
        batch = prepared[len(batched):len(batched) + size]
        with statement_counter(platform.engine) as seen:
            results = one_trip.send_together(platform.engine, batch)  # type: ignore[arg-type]
        assert seen.count == 1, f"{seen.count} statements:\n{seen}"
        statements += 1
        batched += [_outcome(lambda made=made, result=result: one_trip.answer(
            platform.uow, made, result, rules)) for made, result in zip(batch, results,
                                                                         strict=True)]
    assert statements < len(prepared) // 4
    # The filling ticket's replay, once its answer is given: a replay in the same batch would
    # read the answer before the funding completed (as a concurrent replay would one by one).
    batched.append(_outcome(lambda: one_trip.invest(
        platform.uow, token=batch_people[replay[0]][1], listing_id=batch_listing,
        amount=Money.parse(replay[1]), key=replay[2], payload={"amount": replay[1]},
        rules=rules, batch_max=1)))

    for n, (one, other) in enumerate(zip(singly, batched, strict=True)):
        assert one == other, ([*tickets, *closing, replay][n], one, other)
    kinds = {outcome[2] for outcome in singly if outcome[0] == "refused"}
    assert {"insufficient_balance", "invalid_token", "role_required", "invalid_input",
            "idempotency_key_reused", "listing_full"} <= kinds, kinds
    assert _state(platform, singly_listing, singly_people) == _state(
        platform, batch_listing, batch_people)
    assert_books_balanced(platform)
    with platform.uow() as uow:
        assert audit_trail.verify(uow).ok



def test_two_hundred_investors_race_through_group_commit(platform: Platform) -> None:
    """200 investors released at once for a listing worth 100 tickets, through the API's
    path (`one_trip.invest`, group commit on): exactly 100 sold, the other 100 told
    `listing_full`, nothing oversold, the listing funded once, every frozen fen disbursed —
    and tickets that queued went together."""
    if not one_trip.available(platform.engine):
        pytest.skip("group commit is PostgreSQL's function biaodi_invest_many; the step-by-"
                    "step race runs on both databases in test_rush.py")
    rules = platform.investing_rules
    listing_id = published_listing(platform, rules, amount=10_000, rate="0.11")
    racers = [signed_in_investor(platform, 1_000, AGGRESSIVE) for _ in range(200)]
    start = threading.Barrier(len(racers))
    outcomes: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def one(n: int, token: str) -> None:
        start.wait()
        try:
            answer = one_trip.invest(platform.uow, token=token, listing_id=listing_id,
                                     amount=Money.yuan(100), key=f"race-{n}",
                                     payload={"amount": "100.00"}, rules=rules)
            assert answer is not None
            result = "sold" if answer.status_code == 201 else answer.body["error"]["code"]
        except BaseException as exc:  # a 500, a deadlock, a pool time-out
            with lock:
                unexpected.append(exc)
            return
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=one, args=(n, token))
               for n, (_, token) in enumerate(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "racers still waiting"
    assert not unexpected, unexpected[:3]
    assert outcomes == {"sold": 100, "listing_full": 100}
    with platform.uow() as uow:
        listing = uow.s.get_one(Listing, listing_id)
        sold = uow.s.execute(text("SELECT SUM(amount_fen), COUNT(*) FROM investments "
                                  "WHERE listing_id = :id"), {"id": listing_id}).one()
        frozen = uow.s.execute(text(
            "SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE purpose = 'frozen'")).scalar()
    assert (listing.status, listing.remaining_fen) == ("repaying", 0)
    assert tuple(sold) == (1_000_000, 100) and frozen == 0
    assert_books_balanced(platform)
    stats = one_trip.batcher(platform.engine).stats
    assert stats.tickets == 200 and stats.largest > 1, stats
