"""Servicing cancels open sales whose loan changed under them: at close of business, set-based
per chunk of listing ids (arrears → `loan_overdue`; an instalment fell due and was paid →
`repayment_day`, the holding shrank and the seller may offer it again; the loan closed →
`loan_closed`), and at once when the borrower repays early (`repaid_early`)."""

from __future__ import annotations

from datetime import date

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.services.shared import audit
from biaodi.services.shared.sqlkit import Sql, run

_REASON = """(SELECT CASE
        WHEN s.status = 'closed' THEN 'loan_closed'
        WHEN s.status <> 'performing' OR s.accelerated_on IS NOT NULL
             OR s.due_principal_fen + s.due_interest_fen + s.penalty_fen > 0
          THEN 'loan_overdue'
        ELSE 'repayment_day' END
    FROM loan_servicing s WHERE s.listing_id = secondary_sales.listing_id)"""


def cancel_changed(uow: UnitOfWork, day: date, lo: int, hi: int) -> int:
    d = Sql.of(uow).date("d")
    cancelled = run(uow, f"""
        UPDATE secondary_sales SET status = 'cancelled', cancel_reason = {_REASON},
            closed_at = :now
        WHERE status = 'open' AND listing_id BETWEEN :lo AND :hi
          AND listing_id IN (
            SELECT s.listing_id FROM loan_servicing s
            WHERE s.listing_id BETWEEN :lo AND :hi
              AND (s.status <> 'performing' OR s.accelerated_on IS NOT NULL
                   OR s.due_principal_fen + s.due_interest_fen + s.penalty_fen > 0
                   OR EXISTS (SELECT 1 FROM servicing_due_marks m
                              WHERE m.listing_id = s.listing_id AND m.business_date = {d})))""",
        d=day, lo=lo, hi=hi, now=uow.clock.now())
    if cancelled:  # one event per chunk, never one per sale
        audit.note(uow, "secondary.cancel_changed", changes={
            "cancelled": cancelled, "listing_ids": [lo, hi], "business_date": day})
    return cancelled


def cancel_for_listing(uow: UnitOfWork, listing_id: int, reason: str) -> int:
    cancelled = run(uow, """
        UPDATE secondary_sales SET status = 'cancelled', cancel_reason = :reason, closed_at = :now
        WHERE status = 'open' AND listing_id = :id""",
               reason=reason, now=uow.clock.now(), id=listing_id)
    if cancelled:
        audit.note(uow, "secondary.cancel_for_listing", subjects=[
            ("listing", listing_id), ("loan", listing_id)],
            changes={"cancelled": cancelled, "reason": reason})
    return cancelled
