"""Set-based postings: many balanced journal entries written by a few SQL statements.

The same rules as `ledger.post`, for close of business. The caller inserts the entries and
hands over a SELECT of their legs (entry_id, account_id, signed amount, leg order). Here:

1. the legs are staged once in a temporary table, legs of one entry on one account summed and
   zero legs dropped;
2. every entry must balance and have legs (checked before anything is written);
3. every balance moves by one aggregated UPDATE … FROM — which also takes the row locks, so
   nobody can change these balances until commit; a non-negative account that would go below
   zero fails the accounts' CHECK constraint (callers never ask for that: payers are debited
   at most their balance) and the whole entry set is refused;
4. the postings are inserted with each account's running balance, computed by a window
   function backwards from the balance just written (as `ledger.post` walks backwards).

Anything wrong raises and the whole transaction rolls back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import AccountType
from biaodi.domain.shared.errors import InsufficientBalance, UnbalancedEntry
from biaodi.services.shared import audit
from biaodi.services.shared.sqlkit import Sql, rows, run

_DEBIT_NORMAL = ", ".join(f"'{t.value}'" for t in AccountType if t.debit_normal)
_DELTA = f"CASE WHEN a.type IN ({_DEBIT_NORMAL}) THEN l.amount ELSE -l.amount END"


def _stage(uow: UnitOfWork) -> None:
    columns = "(entry_id BIGINT, account_id BIGINT, amount BIGINT, leg INTEGER)"
    if Sql.of(uow).pg:
        run(uow, f"CREATE TEMPORARY TABLE IF NOT EXISTS bulk_legs {columns} "
                 "ON COMMIT DELETE ROWS")
    else:
        run(uow, f"CREATE TEMPORARY TABLE IF NOT EXISTS bulk_legs {columns}")
    run(uow, "DELETE FROM bulk_legs")


def post_legs(uow: UnitOfWork, legs_sql: str, entries_sql: str, **params: Any) -> int:
    """Post the legs yielded by `legs_sql` to the entries yielded by `entries_sql` (a SELECT
    whose column `entry_id` lists the entries). Returns the number of postings written."""
    _stage(uow)
    run(uow, f"""INSERT INTO bulk_legs (entry_id, account_id, amount, leg)
                 SELECT entry_id, account_id, CAST(SUM(amount) AS BIGINT), MIN(leg)
                 FROM ({legs_sql}) raw GROUP BY entry_id, account_id HAVING SUM(amount) <> 0""",
        **params)
    if Sql.of(uow).pg:
        run(uow, "ANALYZE bulk_legs")  # temporary tables get no statistics otherwise
    unbalanced = rows(uow, """SELECT entry_id, SUM(amount) AS total FROM bulk_legs
                              GROUP BY entry_id HAVING SUM(amount) <> 0 LIMIT 1""")
    if unbalanced:
        raise UnbalancedEntry(f"bulk entry {unbalanced[0].entry_id} does not balance:"
                              f" postings sum to {unbalanced[0].total} fen")
    counts = rows(uow, f"""SELECT (SELECT COUNT(*) FROM ({entries_sql}) e) AS entries,
                                  (SELECT COUNT(DISTINCT entry_id) FROM bulk_legs) AS posted,
                                  (SELECT COALESCE(SUM(amount), 0) FROM bulk_legs
                                   WHERE amount > 0) AS debits""",
                  **params)[0]
    if counts.entries != counts.posted:
        raise UnbalancedEntry(f"{counts.entries - counts.posted} bulk entries have no postings")
    # the sign from the account's own row: joining `accounts` in the sum as well made the
    # planner merge-join the legs with the whole accounts index
    moves = ("SELECT l.account_id, CAST(SUM(l.amount) AS BIGINT) AS amount FROM bulk_legs l "
             "GROUP BY l.account_id")
    delta = f"CASE WHEN accounts.type IN ({_DEBIT_NORMAL}) THEN m.amount ELSE -m.amount END"
    try:
        moved = run(uow, f"UPDATE accounts SET balance = balance + {delta} FROM ({moves}) m "
                 "WHERE accounts.id = m.account_id")
    except IntegrityError as exc:  # the accounts' CHECK: a non-negative balance went below 0
        raise InsufficientBalance("a non-negative account would go below zero",
                                  field="amount") from exc
    later = (f"COALESCE(SUM({_DELTA}) OVER (PARTITION BY l.account_id ORDER BY l.entry_id, "
             f"l.leg ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0)")
    written = run(uow, f"""
        INSERT INTO postings (entry_id, account_id, amount, balance_after)
        SELECT l.entry_id, l.account_id, l.amount, a.balance - CAST({later} AS BIGINT)
        FROM bulk_legs l JOIN accounts a ON a.id = l.account_id
        ORDER BY l.entry_id, l.leg, l.account_id""")
    run(uow, "DELETE FROM bulk_legs")
    # One audit event for the whole set (never one per entry): what was posted, in sum.
    audit.note(uow, "ledger.post_bulk", changes={
        "entries": int(counts.entries), "postings": written, "accounts": moved,
        "debits_fen": int(counts.debits)})
    return written
