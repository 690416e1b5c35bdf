"""Risk metrics on Apache Spark: roll rates, grade calibration, losses and recoveries,
guarantors, buy-back coverage and collateral LTV. The definitions are the SQL metrics'
(`risk.py`, `history.py`); Spark does the set work and the SQL metrics' own row builders do
the rest. Where the SQL metric takes a correlated `LIMIT 1` or a correlated sum, the Spark one
ranks with `ROW_NUMBER()` or joins a grouped subquery: the same rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from biaodi.services.analytics.common import Period
from biaodi.services.analytics.history import RollRow, roll_rows
from biaodi.services.analytics.risk import (
    LOSSES_SQL,
    BuybackRow,
    CalibrationRow,
    GuarantorRow,
    LossRow,
    LtvBand,
    buyback_rows,
    calibration_rows,
    guarantor_rows,
    loss_rows,
    ltv_band,
    ltv_rows,
)
from biaodi.services.analytics.spark_base import LIVE, Book, d
from biaodi.services.listings.security import OUTSTANDING


def roll_rates(book: Book, period: Period) -> list[RollRow]:
    """`history.roll_rates`: from the last bucket history on or before each end of `period`."""
    dates = book.rows(f"""
        SELECT (SELECT MAX(business_date) FROM bucket_history
                WHERE business_date <= {d(period.start)}) AS d0,
               (SELECT MAX(business_date) FROM bucket_history
                WHERE business_date <= {d(period.end)}) AS d1""")[0]
    if dates.d0 is None or dates.d1 is None:
        return []
    found = book.rows(f"""
        SELECT a.bucket AS src, COALESCE(b.bucket, s.status) AS dst, COUNT(*) AS n,
               COALESCE(SUM(a.outstanding_principal_fen), 0) AS fen
        FROM bucket_history a
        JOIN loan_servicing s ON s.listing_id = a.listing_id
        LEFT JOIN bucket_history b ON b.listing_id = a.listing_id
                                  AND b.business_date = {d(dates.d1)}
        WHERE a.business_date = {d(dates.d0)}
        GROUP BY a.bucket, COALESCE(b.bucket, s.status)""")
    return roll_rows(found)


def grade_calibration(book: Book) -> list[CalibrationRow]:
    """`risk.grade_calibration`: each graded loan's pricing decision — its applicant's latest
    at or before the listing was created — ranked by `ROW_NUMBER()`."""
    found = book.rows("""
        WITH loans AS (SELECT s.listing_id, l.grade, s.defaulted_on, l.applicant_id,
                              l.created_at
                       FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
                       WHERE l.grade IS NOT NULL),
             ranked AS (SELECT x.listing_id, r.pd_ppm AS pd, r.expected_default_ppm AS card,
                               ROW_NUMBER() OVER (PARTITION BY x.listing_id
                                                  ORDER BY r.decided_at DESC, r.id DESC) AS k
                        FROM loans x JOIN risk_decisions r ON r.user_id = x.applicant_id
                                                          AND r.decided_at <= x.created_at)
        SELECT x.grade, COUNT(*) AS n, COUNT(p.pd) AS with_pd, COALESCE(SUM(p.pd), 0) AS pd,
               COUNT(p.card) AS with_card, COALESCE(SUM(p.card), 0) AS card,
               SUM(CASE WHEN x.defaulted_on IS NULL THEN 0 ELSE 1 END) AS dead
        FROM loans x LEFT JOIN (SELECT * FROM ranked WHERE k = 1) p
                     ON p.listing_id = x.listing_id
        GROUP BY x.grade""")
    return calibration_rows(found)


def losses_and_recoveries(book: Book) -> list[LossRow]:
    """`risk.losses_and_recoveries`: written off, and paid from the default date on except by
    a safeguard, by listing type."""
    return loss_rows(book.rows(LOSSES_SQL))


def guarantors(book: Book) -> list[GuarantorRow]:
    """`risk.guarantors`: capacity, capacity used by outstanding listings, compensation paid."""
    statuses = ", ".join(f"'{s}'" for s in OUTSTANDING)
    found = book.rows(f"""
        SELECT g.user_id, g.name, g.capacity_fen, COALESCE(u.used, 0) AS used,
               COALESCE(c.n, 0) AS n, COALESCE(c.paid, 0) AS paid
        FROM guarantor_profiles g
        LEFT JOIN (SELECT guarantor_id, SUM(amount_fen) AS used FROM listings
                   WHERE status IN ({statuses}) GROUP BY guarantor_id) u
               ON u.guarantor_id = g.user_id
        LEFT JOIN (SELECT l.guarantor_id, COUNT(*) AS n, SUM(r.amount_fen) AS paid
                   FROM repayments r JOIN listings l ON l.id = r.listing_id
                   WHERE r.source = 'guarantor' GROUP BY l.guarantor_id) c
               ON c.guarantor_id = g.user_id""")
    return guarantor_rows(found)


def buyback_coverage(book: Book) -> list[BuybackRow]:
    """`risk.buyback_coverage`: live transfer listings' outstanding principal per originator
    against its buy-back reserve."""
    found = book.rows(f"""
        SELECT x.who, x.n, x.fen, COALESCE(a.balance, 0) AS reserve
        FROM (SELECT l.applicant_id AS who, COUNT(*) AS n,
                     COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen
              FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
              WHERE {LIVE} AND l.kind = 'transfer' GROUP BY l.applicant_id) x
        LEFT JOIN accounts a ON a.owner_kind = 'originator' AND a.owner_id = x.who
                            AND a.purpose = 'buyback_reserve'""")
    return buyback_rows(found)


def collateral_ltv(book: Book) -> list[LtvBand]:
    """`risk.collateral_ltv`: live secured loans by loan-to-value band."""
    band = ltv_band("x.fen", "x.value")
    found = book.rows(f"""
        SELECT {band} AS band, COUNT(*) AS n, COALESCE(SUM(x.fen), 0) AS fen,
               COALESCE(SUM(x.value), 0) AS value
        FROM (SELECT s.listing_id, s.outstanding_principal_fen AS fen, a.value
              FROM loan_servicing s
              JOIN (SELECT listing_id, SUM(appraisal_value_fen) AS value FROM pledged_assets
                    GROUP BY listing_id) a ON a.listing_id = s.listing_id
              WHERE {LIVE}) x
        GROUP BY {band}""")
    return ltv_rows(found)


#: name → (function, what it takes), as in `catalog.METRICS`.
METRICS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "roll-rates": (roll_rates, ("period",)),
    "grade-calibration": (grade_calibration, ()),
    "losses-and-recoveries": (losses_and_recoveries, ()),
    "guarantors": (guarantors, ()),
    "buyback-coverage": (buyback_coverage, ()),
    "collateral-ltv": (collateral_ltv, ()),
}
