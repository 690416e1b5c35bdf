"""The ledger on both databases: balanced entries only, wallets never negative, replays once."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.errors import IdempotencyConflict, InsufficientBalance, UnbalancedEntry
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.idempotency import request_hash
from biaodi.services.shared.tx import in_transaction


def open_investor(platform: Platform, user_id: int) -> tuple[str, str]:
    available = wallet(OwnerKind.INVESTOR, user_id)
    frozen = wallet(OwnerKind.INVESTOR, user_id, "frozen")
    in_transaction(platform.uow, lambda uow: ledger.open_accounts(uow, [available, frozen]))
    return available.code, frozen.code


def deposit(platform: Platform, code: str, fen: int, key: str | None = None) -> ledger.Posted:
    draft = EntryDraft("deposit").transfer("custody:cash", code, fen)
    return in_transaction(
        platform.uow,
        lambda uow: ledger.post(
            uow, draft, idempotency_key=key, request_digest=request_hash([code, fen])
        ),
    )


def test_deposit_moves_custody_and_wallet_together(platform: Platform) -> None:
    available, _ = open_investor(platform, 1)
    deposit(platform, available, 50_000)
    with platform.uow() as uow:
        assert ledger.balances(uow, [available, "custody:cash"]) == {
            available: 50_000,
            "custody:cash": 50_000,
        }
        result = ledger.verify(uow)
    assert result.balanced, result.problems
    assert result.entries == 1


def test_unbalanced_entry_is_refused_and_writes_nothing(platform: Platform) -> None:
    available, _ = open_investor(platform, 1)
    draft = EntryDraft("broken").debit("custody:cash", 100).credit(available, 99)
    with pytest.raises(UnbalancedEntry):
        in_transaction(platform.uow, lambda uow: ledger.post(uow, draft))
    with platform.uow() as uow:
        assert ledger.verify(uow).entries == 0


def test_database_refuses_unbalanced_postings_written_around_the_service(
    platform: Platform, backend: str
) -> None:
    """On PostgreSQL a deferred trigger rejects the commit; SQLite relies on the service."""
    if backend != "postgres":
        pytest.skip("the deferred balance trigger exists on PostgreSQL only")
    available, _ = open_investor(platform, 1)
    with pytest.raises(IntegrityError, match="does not balance"):
        with platform.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO journal_entries (kind, memo, business_date, created_at) "
                    "VALUES ('forged', '', CURRENT_DATE, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO postings (entry_id, account_id, amount, balance_after) "
                    "SELECT MAX(e.id), a.id, 100, 100 FROM journal_entries e, accounts a "
                    "WHERE a.code = :code GROUP BY a.id"
                ),
                {"code": available},
            )


def test_wallet_cannot_go_negative(platform: Platform) -> None:
    available, frozen = open_investor(platform, 1)
    deposit(platform, available, 1_000)
    freeze = EntryDraft("freeze").transfer(available, frozen, 1_001)
    with pytest.raises(InsufficientBalance) as info:
        in_transaction(platform.uow, lambda uow: ledger.post(uow, freeze))
    assert available in info.value.message
    with platform.uow() as uow:
        assert ledger.balances(uow, [available, frozen]) == {available: 1_000, frozen: 0}
        assert ledger.verify(uow).entries == 1


def test_schema_check_backs_up_the_non_negative_rule(platform: Platform) -> None:
    available, _ = open_investor(platform, 1)
    with pytest.raises(IntegrityError), platform.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET balance = -1 WHERE code = :c"), {"c": available})


def test_replayed_idempotency_key_posts_once(platform: Platform) -> None:
    available, _ = open_investor(platform, 1)
    first = deposit(platform, available, 2_500, key="dep-1")
    again = [deposit(platform, available, 2_500, key="dep-1") for _ in range(5)]
    assert not first.replayed
    assert all(r.replayed and r.entry_id == first.entry_id for r in again)
    with platform.uow() as uow:
        assert ledger.balance(uow, available) == 2_500
        assert ledger.verify(uow).entries == 1
    with pytest.raises(IdempotencyConflict):
        deposit(platform, available, 9_999, key="dep-1")


def test_journal_is_append_only(platform: Platform) -> None:
    available, _ = open_investor(platform, 1)
    deposit(platform, available, 100)
    for statement in ("UPDATE postings SET amount = amount * 2", "DELETE FROM journal_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            with platform.engine.begin() as conn:
                conn.execute(text(statement))


def test_postings_refer_to_entries_and_accounts_that_exist_and_stay(platform: Platform) -> None:
    """On PostgreSQL these references are checked once per statement by trigger, not by
    foreign keys (migration 0028): the same refusals, on both databases."""
    available, _ = open_investor(platform, 1)
    posted = deposit(platform, available, 100)
    with platform.engine.connect() as conn:
        account = conn.execute(text("SELECT id FROM accounts WHERE code = :c"),
                               {"c": available}).scalar_one()
    missing = 10**9
    for entry_id, account_id in ((missing, account), (posted.entry_id, missing)):
        with pytest.raises(IntegrityError), platform.engine.begin() as conn:
            conn.execute(text("INSERT INTO postings (entry_id, account_id, amount, balance_after)"
                              " VALUES (:e, :a, 5, 5), (:e, :a, -5, 0)"),
                         {"e": entry_id, "a": account_id})
    for statement in ("DELETE FROM accounts WHERE id = :a",
                      "UPDATE accounts SET id = id + 1000000 WHERE id = :a"):
        with pytest.raises(IntegrityError), platform.engine.begin() as conn:
            conn.execute(text(statement), {"a": account})


def test_verify_reports_a_tampered_balance(platform: Platform) -> None:
    available, _ = open_investor(platform, 1)
    deposit(platform, available, 700)
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET balance = 900 WHERE code = :c"), {"c": available})
    with platform.uow() as uow:
        result = ledger.verify(uow)
    assert not result.balanced
    assert any(
        f"account {available}: stored balance 900 fen, postings give 700" in p
        for p in result.problems
    )
    # and the last posting's running balance no longer matches it either
    assert (f"account {available}: last posting's running balance 700 fen differs from "
            f"stored 900 fen") in result.problems
