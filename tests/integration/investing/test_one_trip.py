"""The investment command through the API: one statement on PostgreSQL (`one_trip`, the
function `biaodi_invest`), a few in one BEGIN IMMEDIATE on SQLite — the same answers for the
same requests on both, refusals included, and no deadlock while investors keep investing as
listing after listing fills."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from biaodi.adapters.db.tables import Investment, Listing
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.investing import invest as investing
from biaodi.services.investing import one_trip
from biaodi.services.shared import audit as audit_trail
from biaodi.services.shared.idempotency import run_idempotent
from biaodi.services.shared.tx import in_transaction
from investing_support import (
    AGGRESSIVE,
    CONSERVATIVE,
    assert_books_balanced,
    published_listing,
    signed_in_investor,
)
from statements_support import statement_counter

#: One investment through the API once the listing's terms are cached: PostgreSQL — the one
#: statement (its audit record included). SQLite — the caller (BEGIN and one read on the read
#: engine), then BEGIN IMMEDIATE, the key's lookup, the checks, the hot row, the freeze, the
#: entry, its postings, the cap, the investment, the key's answer and the audit record (3).
INVEST = {"postgres": 1, "sqlite": 15}


def _invest(client: TestClient, token: str, listing_id: int, amount: str, key: str):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/listings/{listing_id}/investments", json={"amount": amount},
                       headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})


def test_one_investment_is_one_statement_on_postgresql(platform: Platform, backend: str) -> None:
    rules = platform.investing_rules
    listing_id = published_listing(platform, rules, amount=10_000)
    _, token = signed_in_investor(platform, answers=AGGRESSIVE)
    with TestClient(create_app(platform)) as client:
        assert _invest(client, token, listing_id, "100.00", "warm").status_code == 201
        with statement_counter(platform.engine, platform.read_engine) as seen:
            made = _invest(client, token, listing_id, "200.00", "counted")
    assert made.status_code == 201, made.text
    assert made.json()["listing_remaining"] == "9700.00"
    assert seen.count <= INVEST[backend], f"{seen.count} statements:\n{seen}"


def test_refusals_are_the_same_on_both_paths(platform: Platform) -> None:
    """Each refusal the command can give, with its status, code and field (the same test on
    SQLite's step-by-step path and PostgreSQL's one statement); a refused key replays."""
    rules = platform.investing_rules
    listing_id = published_listing(platform, rules, amount=10_000)
    _, rich = signed_in_investor(platform, answers=AGGRESSIVE)
    _, unassessed = signed_in_investor(platform)
    _, cautious = signed_in_investor(platform, answers=CONSERVATIVE)
    _, poor = signed_in_investor(platform, yuan=50, answers=AGGRESSIVE)
    _, borrower = signed_in_investor(platform, roles=("borrower",))
    revoked_id, revoked = signed_in_investor(platform, answers=AGGRESSIVE)
    in_transaction(platform.uow, lambda uow: users.logout(uow, revoked))
    cases = [
        (borrower, "100.00", 403, "role_required", None),
        (unassessed, "100.00", 409, "assessment_required", None),
        (cautious, "100.00", 409, "risk_level_too_high", None),
        (poor, "100.00", 409, "insufficient_balance", "amount"),
        (rich, "60.00", 422, "invalid_input", "amount"),  # below the minimum ticket
        (rich, "150.00", 422, "invalid_input", "amount"),  # not a whole number of steps
        (rich, "6000.00", 422, "investor_cap_exceeded", "amount"),
        (rich, "10100.00", 409, "listing_full", "amount"),
        (revoked, "100.00", 401, "invalid_token", None),
    ]
    with TestClient(create_app(platform)) as client:
        for n, (token, amount, status, code, field) in enumerate(cases):
            answer = _invest(client, token, listing_id, amount, f"k{n}")
            error = answer.json()["error"]
            assert (answer.status_code, error["code"], error.get("field")) == (
                status, code, field), (amount, answer.text)
        replay = _invest(client, poor, listing_id, "100.00", "k3")
        assert replay.status_code == 409 and replay.headers["Idempotent-Replayed"] == "true"
        missing = _invest(client, rich, 999_999, "100.00", "nope")
        assert missing.status_code == 404 and missing.json()["error"]["field"] == "listing_id"
        conflict = _invest(client, poor, listing_id, "200.00", "k3")
        assert conflict.status_code == 422
        assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    with platform.uow() as uow:
        assert uow.s.scalar(select(func.count()).select_from(Investment)) == 0
        assert uow.s.get_one(Listing, listing_id).remaining_fen == 1_000_000
    assert revoked_id


def test_the_last_ticket_funds_the_listing_and_its_replay_says_so(platform: Platform) -> None:
    rules = platform.investing_rules
    listing_id = published_listing(platform, rules, amount=1_000)
    alice_id, alice = signed_in_investor(platform, answers=AGGRESSIVE)
    bob_id, bob = signed_in_investor(platform, answers=AGGRESSIVE)
    with TestClient(create_app(platform)) as client:
        assert _invest(client, alice, listing_id, "500.00", "a").status_code == 201
        last = _invest(client, bob, listing_id, "500.00", "b")
        assert last.status_code == 201, last.text
        assert last.json()["listing_status"] == "repaying"
        assert _invest(client, bob, listing_id, "500.00", "b").json() == last.json()
        late = _invest(client, alice, listing_id, "100.00", "c")
        assert late.status_code == 409 and late.json()["error"]["code"] == "listing_full"
    assert_books_balanced(platform)
    # each investment is in the audit trail, with its investor as actor, on either path
    with platform.uow() as uow:
        assert audit_trail.verify(uow).ok
        placed = [(entry.actor_id, event["changes"]["amount_fen"], event["changes"]["status"])
                  for entry in audit_trail.trail(uow, "listing", listing_id)
                  for event in entry.events if event["action"] == "investment.placed"]
    assert placed == [(alice_id, 50_000, "frozen"), (bob_id, 50_000, "frozen")]


def test_a_sold_out_listing_whose_completion_never_ran_is_completed_at_close(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process stopped between the last ticket's statement and the disbursement: the
    listing is published with nothing left; closing funding windows completes it."""
    from biaodi.services.investing import funding
    from investing_support import invest, investor

    rules = platform.investing_rules
    listing_id = published_listing(platform, rules, amount=1_000)
    invest(platform, rules, listing_id, investor(platform), 500)
    monkeypatch.setattr(investing, "complete_funding", lambda *args: None)
    invest(platform, rules, listing_id, investor(platform), 500)
    monkeypatch.undo()
    with platform.uow() as uow:
        listing = uow.s.get_one(Listing, listing_id)
        assert (listing.status, listing.remaining_fen) == ("published", 0)
        assert funding.due_for_closing(uow, platform.clock.today()) == [listing_id]
    status = in_transaction(platform.uow, lambda uow: funding.close_funding_window(
        uow, listing_id, rules))
    assert status == "repaying"
    assert_books_balanced(platform)


INVESTORS = 60
LISTINGS = 3


def test_investors_keep_investing_as_listings_fill_back_to_back(platform: Platform) -> None:
    """60 investors invest 100.00 at a time, over and over, in whichever listing is open,
    while listing after listing fills and is disbursed: nothing but business refusals, no
    listing oversold, each funded exactly, every acknowledged investment there once."""
    rules = platform.investing_rules
    listings = [published_listing(platform, rules, amount=6_000) for _ in range(LISTINGS)]
    investors = [signed_in_investor(platform, yuan=1_000, answers=AGGRESSIVE)
                 for _ in range(INVESTORS)]
    acknowledged: Counter[int] = Counter()
    unexpected: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(INVESTORS)

    def one_investment(investor_id: int, token: str, listing_id: int, key: str) -> int:
        amount = Money.yuan(100)
        if one_trip.available(platform.engine):
            answer = one_trip.invest(platform.uow, token=token, listing_id=listing_id,
                                     amount=amount, key=key, payload={"amount": "100.00"},
                                     rules=rules)
            assert answer is not None
        else:
            def act(uow):  # type: ignore[no-untyped-def]
                made = investing.invest(uow, investing.Invest(listing_id, investor_id, amount),
                                        rules)
                return run_answer(made)

            answer = run_idempotent(platform.uow, scope=f"user:{investor_id}:"
                                    f"{one_trip.route(listing_id)}", key=key,
                                    payload={"amount": "100.00"}, fn=act)
        return answer.status_code

    def run_answer(made: investing.Invested):  # type: ignore[no-untyped-def]
        from biaodi.services.shared.idempotency import Answer

        return Answer(201, {"id": made.investment_id})

    def investor_loop(investor_id: int, token: str) -> None:
        start.wait()
        n = 0
        for listing_id in listings:
            while True:
                n += 1
                try:
                    status = one_investment(investor_id, token, listing_id, f"{investor_id}-{n}")
                except BiaodiError:
                    break
                except BaseException as exc:  # a 500, a deadlock, a pool time-out
                    with lock:
                        unexpected.append(exc)
                    return
                if status == 201:
                    with lock:
                        acknowledged[listing_id] += 1
                elif status in (409, 422):
                    break  # this listing is full (or this investor's share is): the next one
                else:
                    with lock:
                        unexpected.append(AssertionError(f"answered {status}"))
                    return

    threads = [threading.Thread(target=investor_loop, args=pair) for pair in investors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "investors still waiting: a deadlock?"
    assert not unexpected, unexpected[:3]
    with platform.uow() as uow:
        for listing_id in listings:
            listing = uow.s.get_one(Listing, listing_id)
            sold = uow.s.scalar(select(func.coalesce(func.sum(Investment.amount_fen), 0)).where(
                Investment.listing_id == listing_id))
            count = uow.s.scalar(select(func.count()).select_from(Investment).where(
                Investment.listing_id == listing_id))
            assert (listing.status, listing.remaining_fen) == ("repaying", 0)
            assert sold == listing.amount_fen == 600_000
            assert count == acknowledged[listing_id] == 60
    assert_books_balanced(platform)


@pytest.fixture(autouse=True)
def _forget_cached_terms() -> None:
    investing._terms_cache.clear()
