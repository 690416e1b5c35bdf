"""Marking instalments due and accruing interest, set-based over a range of listing ids.

Marking due: every instalment with a due date up to the business date falls due; each
position's share is added to what it is owed and the loan's next instalment moves on. Nothing
is written to the instalment rows (the delinquency step writes each one's state once, after
collection) nor to the ledger: the interest becomes a claim when collection trues the claim
accounts up to what is owed (`collect.true_up`) — paid at once, it never shows as a claim.
Principal claims exist since disbursement. The instalments' fees are added to what the loan
owes in fees, collected after the holders are paid (`fees.collect_fees`).
"""

from __future__ import annotations

from datetime import date

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.services.shared.sqlkit import Sql, run

_MARKED_SHARES = """
    FROM servicing_due_marks m
    JOIN servicing_positions pos ON pos.listing_id = m.listing_id AND pos.holding_id IS NOT NULL
    JOIN holding_instalments hi ON hi.holding_id = pos.holding_id
         AND hi.seq BETWEEN m.seq_from AND m.seq_to
    WHERE m.batch = :b"""


def mark_due(uow: UnitOfWork, day: date, lo: int, hi: int, batch: str) -> int:
    """Returns the number of loans with instalments newly due."""
    sql = Sql.of(uow)
    d = sql.date("d")
    marked = run(uow, f"""
        INSERT INTO servicing_due_marks (listing_id, business_date, batch, seq_from, seq_to,
            first_due_date, last_due_date, principal_fen, interest_fen)
        SELECT li.listing_id, {d}, :b, MIN(li.seq), MAX(li.seq), MIN(li.due_date),
               MAX(li.due_date), SUM(li.principal_fen), SUM(li.interest_fen)
        FROM loan_servicing s
        JOIN loan_instalments li ON li.listing_id = s.listing_id AND li.seq >= s.next_seq
             AND li.status = 'scheduled' AND li.due_date <= {d}
        WHERE s.listing_id BETWEEN :lo AND :hi AND s.next_due_date <= {d}
          AND s.status <> 'closed' AND s.accelerated_on IS NULL
          AND NOT EXISTS (SELECT 1 FROM servicing_due_marks x
                          WHERE x.listing_id = s.listing_id AND x.business_date = {d})
        GROUP BY li.listing_id""", d=day, b=batch, lo=lo, hi=hi)
    if not marked:
        return 0
    run(uow, f"""
        UPDATE servicing_positions SET
            due_principal_fen = due_principal_fen + x.p, due_interest_fen = due_interest_fen + x.i
        FROM (SELECT pos.id, SUM(hi.principal_fen) AS p, SUM(hi.interest_fen) AS i
              {_MARKED_SHARES} GROUP BY pos.id) x
        WHERE servicing_positions.id = x.id""", b=batch)
    # The instalments that fell due and the one after them, read once per loan by one range
    # of `listing_seq` (the fees of those that fell due; the next one's seq, date, interest).
    following = "li.seq = m.seq_to + 1 AND li.status = 'scheduled'"
    run(uow, f"""
        UPDATE loan_servicing SET
            due_principal_fen = due_principal_fen + x.principal_fen,
            due_interest_fen = due_interest_fen + x.interest_fen,
            due_service_fee_fen = due_service_fee_fen + x.service_fee_fen,
            due_guarantee_fee_fen = due_guarantee_fee_fen + x.guarantee_fee_fen,
            oldest_due_date = COALESCE(oldest_due_date, x.first_due_date),
            holders_oldest_due_date = COALESCE(holders_oldest_due_date, x.first_due_date),
            period_start = x.last_due_date,
            accrued_interest_fen = 0,
            next_seq = x.next_seq, next_due_date = x.next_due_date,
            next_interest_fen = x.next_interest_fen, next_principal_fen = x.next_principal_fen
        FROM (SELECT m.listing_id, m.principal_fen, m.interest_fen, m.first_due_date,
                     m.last_due_date,
                     CAST(COALESCE(SUM(CASE WHEN li.seq <= m.seq_to THEN li.service_fee_fen
                                            ELSE 0 END), 0) AS BIGINT) AS service_fee_fen,
                     CAST(COALESCE(SUM(CASE WHEN li.seq <= m.seq_to THEN li.guarantee_fee_fen
                                            ELSE 0 END), 0) AS BIGINT) AS guarantee_fee_fen,
                     MAX(CASE WHEN {following} THEN li.seq END) AS next_seq,
                     MAX(CASE WHEN {following} THEN li.due_date END) AS next_due_date,
                     MAX(CASE WHEN {following} THEN li.interest_fen END) AS next_interest_fen,
                     MAX(CASE WHEN {following} THEN li.principal_fen END) AS next_principal_fen
              FROM servicing_due_marks m
              LEFT JOIN loan_instalments li ON li.listing_id = m.listing_id
                   AND li.seq BETWEEN m.seq_from AND m.seq_to + 1
              WHERE m.batch = :b
              GROUP BY m.listing_id, m.principal_fen, m.interest_fen, m.first_due_date,
                       m.last_due_date) x
        WHERE x.listing_id = loan_servicing.listing_id""", b=batch)
    return marked


def accrue_interest(uow: UnitOfWork, day: date, lo: int, hi: int) -> int:
    """Each loan's interest earned in the current period up to `day`: the next instalment's
    interest × elapsed days ÷ days in the period, rounded half-up (`domain.servicing.accrual`)."""
    sql = Sql.of(uow)
    d = sql.date("d")
    span = sql.days("next_due_date", "period_start")
    elapsed = sql.least(sql.greatest(sql.days(d, "period_start"), "0"), span)
    value = (f"CASE WHEN {span} <= 0 THEN 0 "
             f"ELSE (2 * next_interest_fen * {elapsed} + {span}) / (2 * {span}) END")
    changed = run(uow, f"""
        UPDATE loan_servicing SET accrued_interest_fen = {value}
        WHERE listing_id BETWEEN :lo AND :hi AND next_seq IS NOT NULL AND status <> 'closed'
          AND accrued_interest_fen <> {value}""", d=day, lo=lo, hi=hi)
    changed += run(uow, """
        UPDATE loan_servicing SET accrued_interest_fen = 0
        WHERE listing_id BETWEEN :lo AND :hi AND next_seq IS NULL AND accrued_interest_fen <> 0""",
        lo=lo, hi=hi)
    return changed
