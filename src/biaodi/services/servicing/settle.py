"""Closing what is paid: creditor positions with nothing left, their holdings (settled), and
loans with nothing owed and nothing scheduled — the listing moves to settled (or recovered
after a default). Set-based over a range of listing ids."""

from __future__ import annotations

from datetime import date

from biaodi.adapters.db.servicing_tables import FINISHING
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.listings.lifecycle import ListingStatus
from biaodi.services.servicing.delinquency import move_listings
from biaodi.services.shared.sqlkit import Sql, run

_NOTHING_OWED = ("outstanding_principal_fen = 0 AND due_principal_fen = 0 "
                 "AND due_interest_fen = 0 AND penalty_fen = 0")


def settle(uow: UnitOfWork, day: date, lo: int, hi: int) -> int:
    d = Sql.of(uow).date("d")
    run(uow, f"""UPDATE servicing_positions SET status = 'closed', days_past_due = 0,
                     bucket = 'current'
                 WHERE listing_id BETWEEN :lo AND :hi AND status <> 'closed' AND {_NOTHING_OWED}""",
        lo=lo, hi=hi)
    run(uow, """UPDATE holdings SET status = 'settled'
                WHERE listing_id BETWEEN :lo AND :hi AND status IN ('active', 'written_off')
                  AND id IN (SELECT holding_id FROM servicing_positions
                             WHERE listing_id BETWEEN :lo AND :hi AND status = 'closed'
                               AND holding_id IS NOT NULL)""", lo=lo, hi=hi)
    # through `ix_loan_servicing_finishing` (its predicate, verbatim): the few loans with
    # nothing left to fall due, not every loan of the chunk
    closed = run(uow, f"""
        UPDATE loan_servicing SET status = 'closed', closed_on = {d}, days_past_due = 0,
            bucket = 'current', oldest_due_date = NULL, holders_oldest_due_date = NULL,
            accrued_interest_fen = 0
        WHERE listing_id BETWEEN :lo AND :hi AND {FINISHING} AND {_NOTHING_OWED}""",
        d=day, lo=lo, hi=hi)
    if not closed:
        return 0
    today = (f"SELECT listing_id FROM loan_servicing WHERE listing_id BETWEEN :lo AND :hi "
             f"AND status = 'closed' AND closed_on = {d}")
    run(uow, f"UPDATE collateral_disposals SET status = 'cancelled' "
             f"WHERE status = 'pending' AND listing_id IN ({today})", d=day, lo=lo, hi=hi)
    move_listings(uow, today, ListingStatus.SETTLED, "repaid in full", d=day, lo=lo, hi=hi)
    move_listings(uow, today, ListingStatus.RECOVERED, "recovered in full", d=day, lo=lo, hi=hi)
    return closed
