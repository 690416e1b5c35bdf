"""The metrics on Apache Spark (`biaodi analytics --engine spark --book book/`): the same
definitions as the SQL metrics, computed by PySpark in local mode from the book that
`biaodi export` wrote as Parquet, for a platform whose book has outgrown one database.

Spark does the set work (joins, filters, sums and counts over every row); what is left — the
division of two exact integers into a rate, the average in whole fen, filling in the months —
is the very same Python the SQL metrics use (their row builders: `users.funnel_rows`,
`risk.bucket_rows`, …, over `domain/analytics/tiers.rate` and `users.per`), and each metric
returns the SQL metric's own rows, so the two agree to the fen
(`tests/integration/analytics/test_spark_parity.py`). PySpark is the optional extra `spark`
(Java 17 on PATH); this module imports it only when a session is started.

The session and the book's views are `spark_base.py`; the users, products and money metrics
beyond these are `spark_users.py`, the risk ones `spark_risk.py`. `SPARK_METRICS` names every
metric the engine computes — every one of `catalog.METRICS` — in the catalogue's order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from biaodi.domain.analytics.tiers import Tier
from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.analytics import catalog, spark_risk, spark_users
from biaodi.services.analytics.common import Period, as_plain
from biaodi.services.analytics.money import ChannelRow, channel_rows
from biaodi.services.analytics.products import (
    AutoShare,
    FundingTime,
    RateRow,
    VolumeRow,
    auto_share_of,
    funding_rows,
    rate_rows,
    volume_rows,
)
from biaodi.services.analytics.risk import (
    BadDebt,
    BucketRow,
    OutstandingRow,
    VintagePoint,
    bad_debt_of,
    bucket_rows,
    outstanding_rows,
    vintage_points,
)
from biaodi.services.analytics.spark_base import (
    ACTS,
    LIVE,
    Book,
    cst_start,
    d,
    m,
    ts,
)
from biaodi.services.analytics.users import (
    ActiveRow,
    CohortRow,
    FunnelRow,
    Ticket,
    active_rows,
    cohort_rows,
    funnel_rows,
    ticket_of,
)


# --- users ------------------------------------------------------------------------------------
def funnel(book: Book, period: Period | None) -> list[FunnelRow]:
    where = ""
    if period is not None:
        where = (f"WHERE u.created_at >= {ts(cst_start(period.start))} "
                 f"AND u.created_at < {ts(cst_start(period.end + timedelta(days=1)))}")
    found = book.rows(f"""
        SELECT u.acquisition_channel AS channel, u.acquisition_campaign AS campaign,
               COUNT(*) AS registered,
               SUM(CASE WHEN q.x IS NOT NULL THEN 1 ELSE 0 END) AS questionnaire,
               SUM(CASE WHEN q.x IS NOT NULL AND d.x IS NOT NULL THEN 1 ELSE 0 END) AS deposit,
               SUM(CASE WHEN q.x IS NOT NULL AND d.x IS NOT NULL AND i.x IS NOT NULL
                        THEN 1 ELSE 0 END) AS invested
        FROM users u
        JOIN (SELECT user_id FROM user_roles WHERE role = 'investor') r ON r.user_id = u.id
        LEFT JOIN (SELECT DISTINCT investor_id AS x FROM risk_assessments) q ON q.x = u.id
        LEFT JOIN (SELECT DISTINCT user_id AS x FROM payment_orders
                   WHERE kind = 'deposit' AND status = 'succeeded') d ON d.x = u.id
        LEFT JOIN (SELECT DISTINCT investor_id AS x FROM investments) i ON i.x = u.id
        {where}
        GROUP BY u.acquisition_channel, u.acquisition_campaign""")
    return funnel_rows(found)


def active_investors(book: Book, period: Period, grain: str = "day") -> list[ActiveRow]:
    if grain not in ("day", "month"):
        raise InvalidInput("grain must be day or month", field="grain")
    key = f"date_format(a.d, '{'yyyy-MM-dd' if grain == 'day' else 'yyyy-MM'}')"
    found = book.rows(f"""
        SELECT {key} AS k, COUNT(DISTINCT a.who) AS n FROM ({ACTS}) a
        WHERE a.d >= {d(period.start)} AND a.d <= {d(period.end)} GROUP BY {key}""")
    return active_rows(found)


def cohort_retention(book: Book, period: Period) -> list[CohortRow]:
    found = book.rows(f"""
        WITH acts AS (SELECT a.who, {m('a.d')} AS m FROM ({ACTS}) a
                      WHERE a.d <= {d(period.end)}),
             firsts AS (SELECT who, MIN(m) AS m0 FROM acts GROUP BY who)
        SELECT f.m0, x.m - f.m0 AS k, COUNT(DISTINCT x.who) AS n
        FROM acts x JOIN firsts f ON f.who = x.who
        WHERE f.m0 >= {period.start.year * 12 + period.start.month}
          AND f.m0 <= {period.end.year * 12 + period.end.month}
        GROUP BY f.m0, x.m - f.m0""")
    return cohort_rows(found, period)


def average_ticket(book: Book, period: Period) -> Ticket:
    r = book.rows(f"""
        SELECT COALESCE(SUM(amount_fen), 0) AS fen, COUNT(*) AS n,
               COUNT(DISTINCT investor_id) AS who
        FROM investments WHERE status <> 'refunded'
          AND subscribed_on >= {d(period.start)} AND subscribed_on <= {d(period.end)}""")[0]
    return ticket_of(int(r.fen), int(r.n), int(r.who))


# --- products ---------------------------------------------------------------------------------
def volume(book: Book, period: Period) -> list[VolumeRow]:
    found = book.rows(f"""
        SELECT l.kind, l.term, l.term_unit, COALESCE(l.grade, '') AS grade, COUNT(*) AS n,
               COALESCE(SUM(l.funded_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.onboarded_on >= {d(period.start)} AND s.onboarded_on <= {d(period.end)}
        GROUP BY l.kind, l.term, l.term_unit, COALESCE(l.grade, '')""")
    return volume_rows(found)


_FUNDED = ("FROM loan_servicing s JOIN listings l ON l.id = s.listing_id "
           "WHERE s.onboarded_on >= {s} AND s.onboarded_on <= {e}")


def weighted_rates(book: Book, period: Period) -> list[RateRow]:
    found = book.rows(f"""
        SELECT l.kind, COALESCE(SUM(l.funded_fen), 0) AS fen,
               COALESCE(SUM(l.funded_fen * l.annual_rate_ppm), 0) AS r,
               COALESCE(SUM(l.funded_fen * COALESCE(l.all_in_cost_ppm, l.annual_rate_ppm)), 0)
                   AS c
        {_FUNDED.format(s=d(period.start), e=d(period.end))} GROUP BY l.kind""")
    return rate_rows(found)


def funding_time(book: Book, period: Period) -> list[FundingTime]:
    seconds = ("CAST(ROUND((unix_micros(l.funded_at) - unix_micros(l.published_at)) "
               "/ 1000000.0) AS BIGINT)")
    found = book.rows(f"""
        SELECT l.kind, COUNT(*) AS n, COALESCE(SUM({seconds}), 0) AS total,
               COALESCE(MAX({seconds}), 0) AS longest
        {_FUNDED.format(s=d(period.start), e=d(period.end))}
          AND l.published_at IS NOT NULL AND l.funded_at IS NOT NULL
        GROUP BY l.kind""")
    return funding_rows(found)


def auto_invest_share(book: Book, period: Period) -> AutoShare:
    r = book.rows(f"""
        SELECT COALESCE(SUM(CASE WHEN source = 'auto' THEN amount_fen ELSE 0 END), 0) AS auto,
               COALESCE(SUM(CASE WHEN source = 'auto' THEN 0 ELSE amount_fen END), 0) AS manual
        FROM investments WHERE status <> 'refunded'
          AND subscribed_on >= {d(period.start)} AND subscribed_on <= {d(period.end)}""")[0]
    return auto_share_of(int(r.manual), int(r.auto))


# --- risk -------------------------------------------------------------------------------------
def outstanding_principal(book: Book) -> list[OutstandingRow]:
    found = book.rows(f"""
        SELECT l.kind, COUNT(*) AS n, COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id WHERE {LIVE}
        GROUP BY l.kind""")
    return outstanding_rows(found)


def overdue_by_bucket(book: Book) -> list[BucketRow]:
    found = book.rows(f"""
        SELECT s.bucket, COUNT(*) AS n, COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen,
               COALESCE(SUM(s.due_principal_fen + s.due_interest_fen), 0) AS due
        FROM loan_servicing s WHERE {LIVE} GROUP BY s.bucket""")
    return bucket_rows(found)


def bad_debt_rate(book: Book) -> BadDebt:
    m3 = book.rows(f"""SELECT COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen
                       FROM loan_servicing s WHERE {LIVE} AND s.bucket = 'M3+'""")[0]
    off = book.rows("SELECT COALESCE(SUM(written_off_fen), 0) AS fen FROM servicing_positions")
    funded = book.rows("""SELECT COALESCE(SUM(l.funded_fen), 0) AS fen FROM loan_servicing s
                          JOIN listings l ON l.id = s.listing_id""")[0]
    return bad_debt_of(int(m3.fen), int(off[0].fen), int(funded.fen))


def vintage_curves(book: Book, as_of: date) -> list[VintagePoint]:
    on, dd = m("s.onboarded_on"), m("s.defaulted_on")
    born = book.rows(f"""
        SELECT {on} AS m0, COUNT(*) AS n, COALESCE(SUM(l.funded_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.onboarded_on <= {d(as_of)} GROUP BY {on}""")
    died = book.rows(f"""
        SELECT {on} AS m0, {dd} - {on} AS k, COUNT(*) AS n,
               COALESCE(SUM(l.funded_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.onboarded_on <= {d(as_of)} AND s.defaulted_on IS NOT NULL
          AND s.defaulted_on <= {d(as_of)}
        GROUP BY {on}, {dd} - {on}""")
    return vintage_points(born, died, as_of)


# --- money ------------------------------------------------------------------------------------
def payments_by_channel(book: Book, period: Period) -> list[ChannelRow]:
    found = book.rows(f"""
        SELECT kind, channel, COUNT(*) AS n,
               COALESCE(SUM(COALESCE(settled_fen, amount_fen)), 0) AS fen
        FROM payment_orders WHERE status = 'succeeded'
          AND business_date >= {d(period.start)} AND business_date <= {d(period.end)}
        GROUP BY kind, channel""")
    return channel_rows(found)


#: name → (function, what it takes), as in `catalog.METRICS`.
_HERE: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "funnel": (funnel, ("period?",)),
    "active-investors": (active_investors, ("period", "grain")),
    "cohort-retention": (cohort_retention, ("period",)),
    "average-ticket": (average_ticket, ("period",)),
    "volume": (volume, ("period",)),
    "weighted-rates": (weighted_rates, ("period",)),
    "funding-time": (funding_time, ("period",)),
    "auto-invest-share": (auto_invest_share, ("period",)),
    "outstanding-principal": (outstanding_principal, ()),
    "overdue-by-bucket": (overdue_by_bucket, ()),
    "bad-debt-rate": (bad_debt_rate, ()),
    "vintage-curves": (vintage_curves, ("as_of",)),
    "payments-by-channel": (payments_by_channel, ("period",)),
}
_ALL = {**_HERE, **spark_users.METRICS, **spark_risk.METRICS}
SPARK_METRICS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    name: _ALL[name] for name in catalog.METRICS}


def compute(book: Book, name: str, *, today: date, tiers: tuple[Tier, ...],
            start: date | None = None, end: date | None = None, as_of: date | None = None,
            grain: str | None = None) -> Any:
    """The metric `name` from the book, JSON-ready exactly as `catalog.compute` gives it (the
    same defaults: a bound left out is month to date, `as_of` today; `tiers` from
    configuration, `Settings.analytics_tiers`)."""
    found = SPARK_METRICS.get(name)
    if found is None:
        raise InvalidInput(f"no metric {name!r}; these are: {', '.join(SPARK_METRICS)}",
                           field="metric")
    function, takes = found
    args: list[Any] = []
    for need in takes:
        if need in ("period", "period?"):
            if need == "period?" and start is None and end is None:
                args.append(None)
                continue
            last = end or as_of or today
            args.append(Period(start or last.replace(day=1), last))
        elif need == "as_of":
            args.append(as_of or today)
        elif need == "grain":
            args.append(grain or "day")
        elif need == "tiers":
            args.append(tiers)
    return as_plain(function(book, *args))
