"""Collecting the fees that fell due with instalments, set-based over a range of listing ids.

When an instalment falls due (`due.mark_due`) its service and guarantee fees are added to what
the loan owes in fees (`loan_servicing.due_service_fee_fen`, `due_guarantee_fee_fen`). Fees are
collected after the holders were paid, from what the payer's wallet still holds — several
loans of one payer in listing-id order from one balance, like `collect` — the guarantor's fee
before the platform's. A fee not covered stays owed (no penalty runs on it, and it does not
make the loan overdue) and is collected when money arrives.

One `fee_collection` entry per loan: debit the payer's wallet; the service fee leaves custody
for the platform (credit `custody:cash`, debit `platform:cash`, credit `platform:fee_income`);
credit the guarantor's wallet with the guarantee fee.
"""

from __future__ import annotations

from datetime import date

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.services.ledger import bulk as ledger_bulk
from biaodi.services.shared.sqlkit import Sql, run

_OWED = "(s.due_service_fee_fen + s.due_guarantee_fee_fen)"
#: the predicate of the partial index `ix_loan_servicing_fees_owed`, verbatim
_ANY_OWED = f"{_OWED} > 0"


def _account(code: str) -> str:
    return f"(SELECT a.id FROM accounts a WHERE a.code = {code})"


def collect_fees(uow: UnitOfWork, day: date, lo: int, hi: int, batch: str,
                 cap: int | None = None) -> int:
    """Collect the fees owed by loans with listing ids in [lo, hi] (at most `cap` fen a loan);
    the number of loans that paid some."""
    sql = Sql.of(uow)
    owed = _OWED if cap is None else sql.least(_OWED, ":cap")
    paid = f"{sql.least('o.bal', 'o.cum')} - {sql.least('o.bal', 'o.cum - o.owed')}"
    guarantor = _account("'guarantor:' || l.guarantor_id || '\\:available'")
    params = dict(d=day, lo=lo, hi=hi, b=batch, cap=cap, now=uow.clock.now())
    if sql.pg:
        run(uow, f"""SELECT a.id FROM accounts a WHERE a.id IN (
                         SELECT s.payer_account_id FROM loan_servicing s
                         WHERE s.listing_id BETWEEN :lo AND :hi AND {_ANY_OWED}
                           AND {owed} > 0)
                     ORDER BY a.id FOR UPDATE""", **params)
    made = run(uow, f"""
        INSERT INTO fee_payments (batch, listing_id, business_date, payer_account_id,
                                  guarantor_account_id, guarantee_fen, service_fen, created_at)
        SELECT :b, o.listing_id, {sql.date("d")}, o.payer, o.guarantor,
               {sql.least(paid, "o.due_g")}, {paid} - {sql.least(paid, "o.due_g")}, :now
        FROM (
            SELECT s.listing_id, s.payer_account_id AS payer, a.balance AS bal,
                   {owed} AS owed, s.due_guarantee_fee_fen AS due_g,
                   CASE WHEN s.due_guarantee_fee_fen > 0 THEN {guarantor} END AS guarantor,
                   CAST(SUM({owed}) OVER (PARTITION BY s.payer_account_id
                        ORDER BY s.listing_id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS cum
            FROM loan_servicing s JOIN accounts a ON a.id = s.payer_account_id
            JOIN listings l ON l.id = s.listing_id
            WHERE s.listing_id BETWEEN :lo AND :hi AND {_ANY_OWED} AND {owed} > 0
        ) o
        WHERE {paid} > 0""", **params)
    if not made:
        return 0
    run(uow, f"""
        INSERT INTO journal_entries (kind, memo, idempotency_key, business_date, created_at)
        SELECT 'fee_collection', 'listing ' || f.listing_id || ' fees', 'fees:' || f.id,
               {sql.date("d")}, :now
        FROM fee_payments f WHERE f.batch = :b""", **params)
    run(uow, """UPDATE fee_payments SET entry_id = (
                    SELECT e.id FROM journal_entries e
                    WHERE e.idempotency_key = 'fees:' || fee_payments.id)
                WHERE batch = :b""", b=batch)
    fees = "FROM fee_payments f WHERE f.batch = :b"
    ledger_bulk.post_legs(
        uow,
        f"""SELECT f.entry_id, f.payer_account_id AS account_id,
                   f.service_fen + f.guarantee_fen AS amount, 1 AS leg {fees}
            UNION ALL
            SELECT f.entry_id, {_account("'platform:cash'")}, f.service_fen, 2 {fees}
            UNION ALL
            SELECT f.entry_id, {_account("'custody:cash'")}, -f.service_fen, 3 {fees}
            UNION ALL
            SELECT f.entry_id, {_account("'platform:fee_income'")}, -f.service_fen, 4 {fees}
            UNION ALL
            SELECT f.entry_id, f.guarantor_account_id, -f.guarantee_fen, 5 {fees}
                   AND f.guarantee_fen > 0""",
        "SELECT entry_id FROM fee_payments WHERE batch = :b", b=batch)
    run(uow, """
        UPDATE loan_servicing SET
            due_service_fee_fen = due_service_fee_fen - f.service_fen,
            due_guarantee_fee_fen = due_guarantee_fee_fen - f.guarantee_fen,
            paid_fee_fen = paid_fee_fen + f.service_fen + f.guarantee_fen
        FROM fee_payments f
        WHERE f.batch = :b AND f.listing_id = loan_servicing.listing_id""", b=batch)
    return made
