"""Bucket history and the roll rates between buckets.

Close of business keeps only each loan's bucket *today* (`loan_servicing`). The `bucket_history`
day step copies it, after the loan steps, into one row per live loan and business date, so
that any two closed dates can be compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from biaodi.domain.analytics.tiers import rate
from biaodi.domain.servicing.buckets import BUCKETS
from biaodi.services.analytics.common import Period, Sql, UnitOfWork, fetch
from biaodi.services.shared.sqlkit import run

#: Where a loan can be at the end of a roll: a bucket, or gone from the live book.
ENDS = (*(b.value for _, b in BUCKETS), "closed", "written_off")


def snapshot_buckets(uow: UnitOfWork, day: date) -> int:
    """The close-of-business step: each live loan's bucket, status, outstanding principal,
    outstanding interest (its schedule's interest less the interest repaid, whoever paid) and
    overdue amount (principal and interest fallen due and unpaid) on `day`, replacing any rows
    of that date so that a rerun writes the same; rows written."""
    sql = Sql.of(uow)
    run(uow, f"DELETE FROM bucket_history WHERE business_date = {sql.date('d')}", d=day)
    return run(uow, f"""
        INSERT INTO bucket_history (business_date, listing_id, bucket, status,
                                    outstanding_principal_fen, outstanding_interest_fen,
                                    overdue_fen)
        SELECT {sql.date('d')}, s.listing_id, s.bucket, s.status, s.outstanding_principal_fen,
               COALESCE((SELECT SUM(i.interest_fen) FROM loan_instalments i
                         WHERE i.listing_id = s.listing_id), 0)
               - COALESCE((SELECT SUM(r.interest_fen) FROM repayments r
                           WHERE r.listing_id = s.listing_id), 0),
               s.due_principal_fen + s.due_interest_fen
        FROM loan_servicing s WHERE s.status NOT IN ('closed', 'written_off')""", d=day)


@dataclass(frozen=True)
class RollRow:
    from_bucket: str
    to: str  # a bucket, or 'closed' / 'written_off' for loans that left the live book
    loans: int
    principal_fen: int  # their outstanding principal on the first date
    count_rate: Decimal | None  # loans / loans in from_bucket on the first date
    amount_rate: Decimal | None  # principal_fen / principal of from_bucket on the first date


def roll_rates(uow: UnitOfWork, period: Period) -> list[RollRow]:
    """Roll rates (迁徙率) between two closed business dates: the last date with a bucket
    history on or before `period.start` (d0) and on or before `period.end` (d1). Every loan
    live at d0 rolls from its bucket at d0 to its bucket at d1 — or, when it is not in the
    history of d1, to its servicing status now (`closed` or `written_off`: a loan leaves the
    live book only for good). Per (from, to): the loans, their outstanding principal at d0, and
    their share of the from-bucket's loans and of its principal. Pairs with no loan are left
    out; empty when either date has no history."""
    sql = Sql.of(uow)
    d = fetch(uow, f"""
        SELECT (SELECT MAX(business_date) FROM bucket_history
                WHERE business_date <= {sql.date('s')}) AS d0,
               (SELECT MAX(business_date) FROM bucket_history
                WHERE business_date <= {sql.date('e')}) AS d1""",
              s=period.start, e=period.end)[0]
    if d.d0 is None or d.d1 is None:
        return []
    found = fetch(uow, """
        SELECT a.bucket AS src, COALESCE(b.bucket, s.status) AS dst, COUNT(*) AS n,
               COALESCE(SUM(a.outstanding_principal_fen), 0) AS fen
        FROM bucket_history a
        JOIN loan_servicing s ON s.listing_id = a.listing_id
        LEFT JOIN bucket_history b ON b.listing_id = a.listing_id AND b.business_date = :d1
        WHERE a.business_date = :d0
        GROUP BY a.bucket, COALESCE(b.bucket, s.status)""", d0=d.d0, d1=d.d1)
    return roll_rows(found)


def roll_rows(found: Iterable[Any]) -> list[RollRow]:
    """The rows from loans `n` and principal `fen` grouped by bucket at d0 `src` and where
    they ended `dst`, with each pair's share of its from-bucket, in bucket order. Shared by the
    SQL metric and the Spark engine (`spark_risk.py`)."""
    found = list(found)
    totals: dict[str, tuple[int, int]] = {}
    for r in found:
        n, fen = totals.get(r.src, (0, 0))
        totals[r.src] = (n + int(r.n), fen + int(r.fen))
    order = {name: i for i, name in enumerate(ENDS)}
    out = [RollRow(r.src, r.dst, int(r.n), int(r.fen), rate(int(r.n), totals[r.src][0]),
                   rate(int(r.fen), totals[r.src][1])) for r in found]
    return sorted(out, key=lambda r: (order.get(r.from_bucket, 99), order.get(r.to, 99)))
