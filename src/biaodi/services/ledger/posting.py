"""Ledger use cases: open accounts, post balanced entries, verify the books.

`post` is the only way money moves. It writes the entry and its postings and changes each
account's stored balance with one conditional UPDATE, in the caller's transaction, so a state
change and its accounting commit or fail together. Accounts are updated in id order so that
concurrent entries never deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite

from biaodi.adapters.db.tables import Account, JournalEntry
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import (
    PLATFORM_ACCOUNTS,
    AccountSpec,
    AccountType,
    EntryDraft,
    OwnerKind,
    platform_account,
)
from biaodi.domain.shared.errors import IdempotencyConflict, InsufficientBalance, NotFound
from biaodi.services.shared import audit
from biaodi.services.shared.sqlkit import Sql, as_json, stamped

#: Account owners the audit trail files a ledger event under (a loan's accounts are its
#: listing's: the loan id is the listing id).
_USER_OWNERS = frozenset({OwnerKind.INVESTOR, OwnerKind.BORROWER, OwnerKind.GUARANTOR,
                          OwnerKind.ORIGINATOR})


def audit_subjects(owners: list[tuple[str, int | None]]) -> list[tuple[str, int]]:
    """The users and loans whose accounts an entry touches, for `audit.note`."""
    found: list[tuple[str, int]] = []
    for kind, owner_id in owners:
        if owner_id is None:
            continue
        if kind in _USER_OWNERS:
            found.append(("user", owner_id))
        elif kind == OwnerKind.LOAN:
            found += [("loan", owner_id), ("listing", owner_id)]
    return found


def note_entry(uow: UnitOfWork, draft: EntryDraft, entry_id: int | None,
               owners: list[tuple[str, int | None]]) -> None:
    """The audit event of one journal entry: its kind, memo and legs (account, fen)."""
    audit.note(uow, "ledger.post", subjects=audit_subjects(owners), changes={
        "entry_id": entry_id, "kind": draft.kind, "memo": draft.memo,
        "postings": [[p.account, p.amount] for p in draft.postings]})


def open_accounts(uow: UnitOfWork, specs: list[AccountSpec]) -> None:
    """Create accounts that do not exist yet; safe under concurrency and on replay."""
    if not specs:
        return
    dialect = uow.s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = uow.clock.now()
    rows = [
        {
            "code": s.code,
            "type": s.type.value,
            "owner_kind": s.owner_kind.value,
            "owner_id": s.owner_id,
            "purpose": s.purpose,
            "non_negative": s.non_negative,
            "balance": 0,
            "created_at": now,
        }
        for s in specs
    ]
    uow.s.execute(insert(Account).values(rows).on_conflict_do_nothing(index_elements=["code"]))


def open_platform_accounts(uow: UnitOfWork) -> None:
    open_accounts(uow, [platform_account(code) for code in PLATFORM_ACCOUNTS])


@dataclass(frozen=True)
class Posted:
    entry_id: int
    replayed: bool


_UPDATE_BALANCE = text(
    "UPDATE accounts SET balance = balance + :delta "
    "WHERE id = :id AND (NOT non_negative OR balance + :delta >= 0) "
    "RETURNING balance"
)


_ENTRY_ROW = stamped(
    "INSERT INTO journal_entries (kind, memo, idempotency_key, request_hash, actor_id, "
    "business_date, created_at) VALUES (:kind, :memo, :key, NULL, NULL, :today, :now) "
    "RETURNING id"
)


def entry_row(uow: UnitOfWork, kind: str, memo: str, idempotency_key: str | None = None) -> int:
    """Only the journal entry's row, for a hot path that moves the balances and writes the
    postings itself in its own statements (the investment's freeze, a listing's set-based
    disbursement); its id."""
    return int(uow.s.execute(_ENTRY_ROW, {
        "kind": kind, "memo": memo, "key": idempotency_key, "today": uow.clock.today(),
        "now": uow.clock.now()}).scalar_one())


def post(
    uow: UnitOfWork,
    draft: EntryDraft,
    *,
    idempotency_key: str | None = None,
    request_digest: str | None = None,
    actor_id: int | None = None,
) -> Posted:
    """Write one balanced journal entry. Raises InsufficientBalance if a wallet would go < 0.

    With an idempotency key, a second call with the same key returns the first entry and posts
    nothing; the same key with a different request raises IdempotencyConflict.
    """
    draft.validate()
    s = uow.s
    if idempotency_key is not None:
        existing = s.execute(
            select(JournalEntry.id, JournalEntry.request_hash).where(
                JournalEntry.idempotency_key == idempotency_key
            )
        ).first()
        if existing is not None:
            if request_digest is not None and existing.request_hash != request_digest:
                raise IdempotencyConflict(
                    "this Idempotency-Key was already used for a different request",
                    field="Idempotency-Key",
                )
            return Posted(entry_id=existing.id, replayed=True)

    codes = sorted({p.account for p in draft.postings})
    accounts = {
        row.code: row
        for row in s.execute(
            select(Account.id, Account.code, Account.type, Account.owner_kind,
                   Account.owner_id).where(Account.code.in_(codes))
        )
    }
    missing = [c for c in codes if c not in accounts]
    if missing:
        raise NotFound(f"no such account: {', '.join(missing)}", field="account")

    entry = JournalEntry(
        kind=draft.kind,
        memo=draft.memo,
        idempotency_key=idempotency_key,
        request_hash=request_digest,
        actor_id=actor_id,
        business_date=uow.clock.today(),
        created_at=uow.clock.now(),
    )
    s.add(entry)
    s.flush()

    deltas: dict[str, list[int]] = defaultdict(list)
    for p in draft.postings:
        deltas[p.account].append(AccountType(accounts[p.account].type).balance_delta(p.amount))

    balance_after: dict[int, int] = {}
    for code in sorted(codes, key=lambda c: accounts[c].id):
        row = accounts[code]
        total = sum(deltas[code])
        new_balance = s.execute(_UPDATE_BALANCE, {"delta": total, "id": row.id}).scalar()
        if new_balance is None:
            raise InsufficientBalance(
                f"insufficient balance in {code} for {draft.kind}", field="amount"
            )
        balance_after[row.id] = new_balance

    # Running balances per posting, walking each account's postings backwards from the final.
    rows = []
    running = dict(balance_after)
    for p in reversed(draft.postings):
        account = accounts[p.account]
        rows.append(
            {
                "entry_id": entry.id,
                "account_id": account.id,
                "amount": p.amount,
                "balance_after": running[account.id],
            }
        )
        running[account.id] -= AccountType(account.type).balance_delta(p.amount)
    rows.reverse()
    s.execute(
        text(
            "INSERT INTO postings (entry_id, account_id, amount, balance_after) "
            "VALUES (:entry_id, :account_id, :amount, :balance_after)"
        ),
        rows,
    )
    note_entry(uow, draft, entry.id, [(a.owner_kind, a.owner_id) for a in accounts.values()])
    return Posted(entry_id=entry.id, replayed=False)


def balance(uow: UnitOfWork, code: str) -> int:
    value = uow.s.execute(select(Account.balance).where(Account.code == code)).scalar()
    if value is None:
        raise NotFound(f"no such account: {code}", field="account")
    return int(value)


def balances(uow: UnitOfWork, codes: list[str]) -> dict[str, int]:
    rows = uow.s.execute(select(Account.code, Account.balance).where(Account.code.in_(codes)))
    return {r.code: int(r.balance) for r in rows}


@dataclass
class Verification:
    entries: int
    accounts: int
    problems: list[str]

    @property
    def balanced(self) -> bool:
        return not self.problems


def verify(uow: UnitOfWork, *, limit: int = 1000) -> Verification:
    """Recompute every balance from the postings and check the books; set-based SQL only."""
    s = uow.s
    problems: list[str] = []
    entries = int(s.execute(text("SELECT COUNT(*) FROM journal_entries")).scalar() or 0)
    n_accounts = int(s.execute(text("SELECT COUNT(*) FROM accounts")).scalar() or 0)

    for row in s.execute(
        text(
            "SELECT e.id, e.kind, COALESCE(SUM(p.amount), 0) AS total, COUNT(p.id) AS n "
            "FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id "
            "GROUP BY e.id, e.kind HAVING COALESCE(SUM(p.amount), 0) <> 0 OR COUNT(p.id) = 0 "
            "ORDER BY e.id LIMIT :limit"
        ),
        {"limit": limit},
    ):
        problems.append(
            f"entry {row.id} ({row.kind}) does not balance: postings sum to {row.total} fen"
            if row.n
            else f"entry {row.id} ({row.kind}) has no postings"
        )

    debit_types = tuple(t.value for t in AccountType if t.debit_normal)
    for row in s.execute(
        text(
            "SELECT a.id, a.code, a.balance, a.non_negative, "
            "  CASE WHEN a.type IN (:d1, :d2) THEN COALESCE(SUM(p.amount), 0) "
            "       ELSE -COALESCE(SUM(p.amount), 0) END AS computed "
            "FROM accounts a LEFT JOIN postings p ON p.account_id = a.id "
            "GROUP BY a.id, a.code, a.balance, a.non_negative, a.type "
            "HAVING a.balance <> CASE WHEN a.type IN (:d1, :d2) THEN COALESCE(SUM(p.amount), 0) "
            "       ELSE -COALESCE(SUM(p.amount), 0) END "
            "   OR (a.non_negative AND a.balance < 0) "
            "ORDER BY a.id LIMIT :limit"
        ),
        {"d1": debit_types[0], "d2": debit_types[1], "limit": limit},
    ):
        if row.balance != row.computed:
            problems.append(
                f"account {row.code}: stored balance {row.balance} fen, postings give "
                f"{row.computed} fen"
            )
        if row.non_negative and row.balance < 0:
            problems.append(f"account {row.code} is negative ({row.balance} fen)")

    for row in s.execute(
        text(
            # Each account's last posting found in one grouped pass over the postings: a
            # correlated MAX(id) per account was planned on PostgreSQL as a backward scan of
            # all postings per account (quadratic: seconds at a few thousand postings).
            "SELECT a.code, a.balance, p.balance_after FROM accounts a "
            "JOIN (SELECT account_id, MAX(id) AS last_id FROM postings GROUP BY account_id) m "
            "ON m.account_id = a.id JOIN postings p ON p.id = m.last_id "
            "WHERE p.balance_after <> a.balance ORDER BY a.id LIMIT :limit"
        ),
        {"limit": limit},
    ):
        problems.append(
            f"account {row.code}: last posting's running balance {row.balance_after} fen "
            f"differs from stored {row.balance} fen"
        )

    total = int(s.execute(text("SELECT COALESCE(SUM(amount), 0) FROM postings")).scalar() or 0)
    if total != 0:
        problems.append(f"all postings together sum to {total} fen instead of 0")
    return Verification(entries=entries, accounts=n_accounts, problems=problems)


def entry_steps(draft: EntryDraft, entry_id: int, specs: dict[str, AccountSpec],
                known: dict[str, int], sql: Sql, *, idempotency_key: str | None = None,
                prefix: str = "je") -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """`post` as three statements for `sqlkit.write_together`, for a hot path that writes its
    entry together with other rows: the accounts (opened where missing, every balance moved
    by one upsert, in id order like `post`; returning id, code, balance as `moved`), the
    entry itself with the id `entry_id` reserved by the caller (`Sql.next_id`), and its
    postings with their running balances, in draft order. The accounts and the postings go
    as one JSON parameter each (`Sql.json_table`): the statements' text is the same
    whatever the entry.

    `specs` describes every account the draft names, `known` the ids of those that exist. A
    non-negative account that would go below zero fails the accounts' CHECK constraint
    (`non_negative_balance`): the caller turns that IntegrityError into InsufficientBalance.
    The caller binds `:now` (a DateTime) and `:today` (a Date), and notes the entry for the
    audit trail itself (`note_entry`, which sends nothing)."""
    draft.validate()
    kinds = {code: AccountType(spec.type) for code, spec in specs.items()}
    totals: dict[str, int] = defaultdict(int)
    for p in draft.postings:
        totals[p.account] += kinds[p.account].balance_delta(p.amount)
    order = sorted(specs, key=lambda c: (c not in known, known.get(c, 0), c))
    # A proposed row must pass the CHECK even where it only updates: an existing account
    # proposes balance 0 and moves by its delta; a new one opens with its delta.
    accounts = [{"n": n, "code": code, "type": specs[code].type.value,
                 "owner_kind": specs[code].owner_kind.value, "owner_id": specs[code].owner_id,
                 "purpose": specs[code].purpose, "non_negative": specs[code].non_negative,
                 "opening": 0 if code in known else totals.get(code, 0),
                 "delta": totals.get(code, 0)} for n, code in enumerate(order)]
    legs, later = [], defaultdict(int)
    for n, p in reversed(list(enumerate(draft.postings))):
        legs.append({"n": n, "code": p.account, "amount": p.amount, "later": later[p.account]})
        later[p.account] += kinds[p.account].balance_delta(p.amount)
    params: dict[str, Any] = {f"{prefix}_id": entry_id, f"{prefix}_kind": draft.kind,
                              f"{prefix}_memo": draft.memo, f"{prefix}_key": idempotency_key,
                              f"{prefix}_accounts": as_json(accounts),
                              f"{prefix}_legs": as_json(legs[::-1])}
    return list(_entry_sql(sql, prefix)), params


@lru_cache(maxsize=8)
def _entry_sql(sql: Sql, prefix: str) -> tuple[tuple[str, str], ...]:
    rows = sql.json_table(
        f"{prefix}_accounts", "v", "n INTEGER, code TEXT, type TEXT, owner_kind TEXT, "
        "owner_id BIGINT, purpose TEXT, non_negative BOOLEAN, opening BIGINT, delta BIGINT")
    deltas = sql.json_table(f"{prefix}_accounts", "d", "code TEXT, delta BIGINT")
    accounts = (
        "INSERT INTO accounts (code, type, owner_kind, owner_id, purpose, non_negative, "
        f"balance, created_at) SELECT v.code, v.type, v.owner_kind, v.owner_id, v.purpose, "
        f"v.non_negative, v.opening, :now FROM {rows} WHERE true ORDER BY v.n "
        "ON CONFLICT (code) DO UPDATE SET balance = accounts.balance + "
        f"(SELECT d.delta FROM {deltas} WHERE d.code = accounts.code) "
        "RETURNING id, code, balance")
    entry = (
        "INSERT INTO journal_entries (id, kind, memo, idempotency_key, request_hash, actor_id,"
        f" business_date, created_at) VALUES (:{prefix}_id, :{prefix}_kind, :{prefix}_memo, "
        f":{prefix}_key, NULL, NULL, :today, :now)")
    legs = sql.json_table(f"{prefix}_legs", "v",
                          "n INTEGER, code TEXT, amount BIGINT, later BIGINT")
    postings = (
        "INSERT INTO postings (entry_id, account_id, amount, balance_after) "
        f"SELECT CAST(:{prefix}_id AS BIGINT), m.id, v.amount, m.balance - v.later "
        f"FROM {legs} JOIN {{moved}} m ON m.code = v.code ORDER BY v.n")
    return (("moved", accounts), ("entry", entry), ("legs", postings))
