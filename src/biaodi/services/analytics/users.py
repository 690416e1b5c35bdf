"""User metrics: the acquisition funnel, active investors, cohort retention, average ticket
(客单价), investors by tier, borrowers by grade and cost per acquired investor.

Definitions shared by several metrics (docs/ANALYTICS.md):
- an *investor* is a user with the investor role;
- an *investment* is a subscription to a listing (`investments`, any status: a refunded one
  was still an investment made); *money invested* counts only those not refunded;
- an investor is *active* on a day when they made an investment or bought a claim on the
  secondary market that business day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import DateTime, bindparam, text

from biaodi.adapters.clock import CST
from biaodi.domain.analytics.tiers import Tier, rate
from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.analytics.common import (
    Period,
    Sql,
    UnitOfWork,
    day_of_month,
    fetch,
    month_index,
    month_of,
    month_text,
)

_INVESTORS = "SELECT user_id FROM user_roles WHERE role = 'investor'"
#: Every investing act, (investor, business date): primary subscriptions and secondary buys.
_ACTS = """SELECT investor_id AS who, subscribed_on AS d FROM investments
           UNION ALL SELECT buyer_id AS who, business_date AS d FROM secondary_purchases"""


def per(total: int, count: int) -> int | None:
    """total / count in whole fen, rounded half-even; None when count is 0."""
    if count == 0:
        return None
    return int((Decimal(total) / Decimal(count)).quantize(Decimal(1), ROUND_HALF_EVEN))


# --- the funnel ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunnelRow:
    channel: str
    campaign: str
    registered: int
    real_name: int
    questionnaire: int
    first_deposit: int
    first_investment: int


def funnel(uow: UnitOfWork, period: Period | None = None) -> list[FunnelRow]:
    """Investors registered (in `period`, by their registration's business date in China
    Standard Time; all of them when None), by acquisition channel and campaign, and how many
    of them reached each later step, every step counting only those who reached the ones
    before it: registration → real name (every registration is real-name verified — name,
    resident ID and mobile are checked at sign-up, so this step equals registration) → risk
    questionnaire (风险测评, at least one assessment) → first deposit (a deposit order the
    gateway settled, status `succeeded`) → first investment (an investment made)."""
    where, params = "", {}
    if period is not None:
        where = "WHERE u.created_at >= :t0 AND u.created_at < :t1"
        params = {"t0": _cst_start(period.start),
                  "t1": _cst_start(period.end + timedelta(days=1))}
    statement = text(f"""
        SELECT u.acquisition_channel AS channel, u.acquisition_campaign AS campaign,
               COUNT(*) AS registered,
               SUM(CASE WHEN q.x IS NOT NULL THEN 1 ELSE 0 END) AS questionnaire,
               SUM(CASE WHEN q.x IS NOT NULL AND d.x IS NOT NULL THEN 1 ELSE 0 END) AS deposit,
               SUM(CASE WHEN q.x IS NOT NULL AND d.x IS NOT NULL AND i.x IS NOT NULL
                        THEN 1 ELSE 0 END) AS invested
        FROM users u
        JOIN ({_INVESTORS}) r ON r.user_id = u.id
        LEFT JOIN (SELECT DISTINCT investor_id AS x FROM risk_assessments) q ON q.x = u.id
        LEFT JOIN (SELECT DISTINCT user_id AS x FROM payment_orders
                   WHERE kind = 'deposit' AND status = 'succeeded') d ON d.x = u.id
        LEFT JOIN (SELECT DISTINCT investor_id AS x FROM investments) i ON i.x = u.id
        {where}
        GROUP BY u.acquisition_channel, u.acquisition_campaign
        ORDER BY u.acquisition_channel, u.acquisition_campaign""")
    if params:
        statement = statement.bindparams(bindparam("t0", type_=DateTime(timezone=True)),
                                         bindparam("t1", type_=DateTime(timezone=True)))
    uow.s.flush()
    return funnel_rows(uow.s.execute(statement, params).all())


def funnel_rows(found: Iterable[Any]) -> list[FunnelRow]:
    """The rows from each (channel, campaign)'s counts, by channel and campaign (real name
    equals registration). Shared by the SQL metric and the Spark engine (`spark.py`)."""
    return sorted((FunnelRow(r.channel, r.campaign, int(r.registered), int(r.registered),
                             int(r.questionnaire), int(r.deposit), int(r.invested))
                   for r in found), key=lambda r: (r.channel, r.campaign))


def _cst_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CST).astimezone(UTC)


# --- activity ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActiveRow:
    period: str  # 'YYYY-MM-DD' (daily) or 'YYYY-MM' (monthly)
    investors: int


def active_investors(uow: UnitOfWork, period: Period, grain: str = "day") -> list[ActiveRow]:
    """Distinct investors active (an investment made or a claim bought) on each business day
    (`grain` "day", DAU) or in each calendar month (`grain` "month", MAU) of `period`;
    days or months without activity are left out."""
    sql = Sql.of(uow)
    if grain not in ("day", "month"):
        raise InvalidInput("grain must be day or month", field="grain")
    key = "a.d" if grain == "day" else month_of(sql, "a.d")
    found = fetch(uow, f"""
        SELECT {key} AS k, COUNT(DISTINCT a.who) AS n FROM ({_ACTS}) a
        WHERE a.d >= {sql.date('s')} AND a.d <= {sql.date('e')}
        GROUP BY {key} ORDER BY {key}""", s=period.start, e=period.end)
    return active_rows(found)


def active_rows(found: Iterable[Any]) -> list[ActiveRow]:
    """The rows from active investors `n` per day or month `k`, in time order. Shared by the
    SQL metric and the Spark engine."""
    return sorted((ActiveRow(str(r.k), int(r.n)) for r in found), key=lambda r: r.period)


@dataclass(frozen=True)
class CohortRow:
    cohort: str  # 'YYYY-MM': the month of the investors' first investing act
    months_since: int
    cohort_size: int
    active: int
    retention: Decimal | None


def cohort_retention(uow: UnitOfWork, period: Period) -> list[CohortRow]:
    """Monthly cohorts: investors grouped by the month of their first investing act, for the
    cohorts whose first month lies in `period`; for each later month k (0 = the first month)
    up to the month of `period.end`, how many of the cohort were active then, and that count
    over the cohort's size (k = 0 is always 1)."""
    sql = Sql.of(uow)
    m = month_index(sql, "a.d")
    found = fetch(uow, f"""
        WITH acts AS (SELECT a.who, {m} AS m FROM ({_ACTS}) a WHERE a.d <= {sql.date('e')}),
             firsts AS (SELECT who, MIN(m) AS m0 FROM acts GROUP BY who)
        SELECT f.m0, x.m - f.m0 AS k, COUNT(DISTINCT x.who) AS n
        FROM acts x JOIN firsts f ON f.who = x.who
        WHERE f.m0 >= :lo AND f.m0 <= :hi
        GROUP BY f.m0, x.m - f.m0 ORDER BY f.m0, x.m - f.m0""",
        e=period.end, lo=period.start.year * 12 + period.start.month,
        hi=period.end.year * 12 + period.end.month)
    return cohort_rows(found, period)


def cohort_rows(found: Iterable[Any], period: Period) -> list[CohortRow]:
    """The retention rows from the active investors per first month `m0` and months since
    `k`: each cohort from its first month to the period's end, months without activity as 0.
    Shared by the SQL metric and the Spark engine (`spark.py`)."""
    active = {(int(r.m0), int(r.k)): int(r.n) for r in found}
    last = period.end.year * 12 + period.end.month
    out = []
    for m0 in sorted({m0 for m0, _ in active}):
        size = active[(m0, 0)]
        for k in range(last - m0 + 1):
            n = active.get((m0, k), 0)
            out.append(CohortRow(month_text(m0), k, size, n, rate(n, size)))
    return out


# --- tickets ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ticket:
    invested_fen: int
    orders: int
    investors: int
    per_investor_fen: int | None  # 客单价
    per_order_fen: int | None


def average_ticket(uow: UnitOfWork, period: Period) -> Ticket:
    """Money invested in `period` (investments subscribed on its business days and not
    refunded), the number of those investments (orders) and of distinct investors, and the
    averages per investor (客单价) and per order, in whole fen rounded half-even."""
    sql = Sql.of(uow)
    r = fetch(uow, f"""
        SELECT COALESCE(SUM(amount_fen), 0) AS fen, COUNT(*) AS n,
               COUNT(DISTINCT investor_id) AS who
        FROM investments WHERE status <> 'refunded'
          AND subscribed_on >= {sql.date('s')} AND subscribed_on <= {sql.date('e')}""",
        s=period.start, e=period.end)[0]
    return ticket_of(int(r.fen), int(r.n), int(r.who))


def ticket_of(fen: int, orders: int, investors: int) -> Ticket:
    """Money invested, orders and investors with the averages. Shared with the Spark engine."""
    return Ticket(fen, orders, investors, per(fen, investors), per(fen, orders))


# --- tiers --------------------------------------------------------------------------------------
def _tier_sql(sql: Sql, tiers: tuple[Tier, ...], only_one: bool) -> tuple[str, dict[str, object]]:
    months = (f"{month_index(sql, sql.date('asof'))} - {month_index(sql, 'f.d')}"
              f" - CASE WHEN {day_of_month(sql, sql.date('asof'))} < {day_of_month(sql, 'f.d')}"
              " THEN 1 ELSE 0 END")
    params: dict[str, object] = {}
    whens = []
    for i, tier in reversed(list(enumerate(tiers))):
        params |= {f"tn{i}": tier.name, f"ta{i}": tier.min_assets_fen, f"tm{i}": tier.min_months}
        whens.append(f"WHEN x.assets >= :ta{i} AND x.months >= :tm{i} THEN :tn{i}")
    case = f"CASE {' '.join(whens[:-1])} ELSE :tn0 END"
    who = "AND r.user_id = :who" if only_one else ""
    return f"""
        WITH cash AS (SELECT owner_id AS who, SUM(balance) AS fen FROM accounts
                      WHERE owner_kind = 'investor' AND purpose IN ('available', 'frozen')
                      GROUP BY owner_id),
             held AS (SELECT investor_id AS who, SUM(outstanding_principal_fen) AS fen
                      FROM holdings WHERE status = 'active' GROUP BY investor_id),
             firsts AS (SELECT investor_id AS who, MIN(subscribed_on) AS d FROM investments
                        WHERE subscribed_on <= {sql.date('asof')} GROUP BY investor_id),
             x AS (SELECT r.user_id AS who,
                          COALESCE(c.fen, 0) + COALESCE(h.fen, 0) AS assets,
                          CASE WHEN f.d IS NULL THEN 0 ELSE {sql.greatest('0', months)} END
                              AS months
                   FROM user_roles r LEFT JOIN cash c ON c.who = r.user_id
                   LEFT JOIN held h ON h.who = r.user_id LEFT JOIN firsts f ON f.who = r.user_id
                   WHERE r.role = 'investor' {who})
        SELECT x.who, x.assets, x.months, {case} AS tier FROM x""", params


@dataclass(frozen=True)
class InvestorTier:
    investor_id: int
    assets_fen: int
    months: int
    tier: str


def tier_of(uow: UnitOfWork, investor_id: int, as_of: date,
            tiers: tuple[Tier, ...]) -> InvestorTier | None:
    """One investor's tier (domain/analytics/tiers.py): assets held now — wallet available +
    frozen + outstanding principal of active holdings — and whole months from the first
    investment to `as_of`. None when the user is not an investor."""
    statement, params = _tier_sql(Sql.of(uow), tiers, only_one=True)
    found = fetch(uow, statement, asof=as_of, who=investor_id, **params)
    if not found:
        return None
    r = found[0]
    return InvestorTier(int(r.who), int(r.assets), int(r.months), str(r.tier))


@dataclass(frozen=True)
class TierRow:
    tier: str
    investors: int
    assets_fen: int


def investors_by_tier(uow: UnitOfWork, as_of: date, tiers: tuple[Tier, ...]) -> list[TierRow]:
    """Investors per tier (as `tier_of` assigns them) and the assets they hold, every tier
    listed lowest first (with 0 where nobody is in it)."""
    statement, params = _tier_sql(Sql.of(uow), tiers, only_one=False)
    found = fetch(uow, f"""SELECT t.tier, COUNT(*) AS n, COALESCE(SUM(t.assets), 0) AS fen
                           FROM ({statement}) t GROUP BY t.tier""", asof=as_of, **params)
    return tier_rows(found, tiers)


def tier_rows(found: Iterable[Any], tiers: tuple[Tier, ...]) -> list[TierRow]:
    """Every tier's row, lowest first, from investors `n` and assets `fen` grouped by `tier`.
    Shared by the SQL metric and the Spark engine (`spark_users.py`)."""
    by = {str(r.tier): (int(r.n), int(r.fen)) for r in found}
    return [TierRow(t.name, *by.get(t.name, (0, 0))) for t in tiers]


# --- borrowers, acquisition cost ----------------------------------------------------------------
@dataclass(frozen=True)
class GradeRow:
    grade: str  # '' for loans without a grade
    borrowers: int
    loans: int
    outstanding_fen: int


def borrowers_by_grade(uow: UnitOfWork) -> list[GradeRow]:
    """Borrowers (applicants) with a loan still outstanding — in servicing and not closed or
    written off — by the grade of the loan (a borrower with loans of two grades counts in
    both), with the loans and their outstanding principal."""
    found = fetch(uow, """
        SELECT COALESCE(l.grade, '') AS grade, COUNT(DISTINCT l.applicant_id) AS who,
               COUNT(*) AS n, COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.status NOT IN ('closed', 'written_off')
        GROUP BY COALESCE(l.grade, '') ORDER BY COALESCE(l.grade, '')""")
    return grade_rows(found)


def grade_rows(found: Iterable[Any]) -> list[GradeRow]:
    """The rows from borrowers `who`, loans `n` and principal `fen` grouped by `grade`, in
    grade order ('' first). Shared by the SQL metric and the Spark engine."""
    return sorted((GradeRow(str(r.grade), int(r.who), int(r.n), int(r.fen)) for r in found),
                  key=lambda r: r.grade)


@dataclass(frozen=True)
class AcquisitionCost:
    channel: str
    campaign: str
    cost_fen: int
    investors: int
    per_investor_fen: int | None


def cost_per_investor(uow: UnitOfWork) -> list[AcquisitionCost]:
    """For each recorded campaign: its cost, the investors it acquired — users whose sign-up
    carried the campaign's channel and name and who made at least one investment — and the
    cost per acquired investor in whole fen (half-even; None when it acquired nobody)."""
    found = fetch(uow, """
        SELECT c.channel, c.name, c.cost_fen, COUNT(DISTINCT i.investor_id) AS n
        FROM campaigns c
        LEFT JOIN users u ON u.acquisition_channel = c.channel
                         AND u.acquisition_campaign = c.name
        LEFT JOIN investments i ON i.investor_id = u.id
        GROUP BY c.channel, c.name, c.cost_fen ORDER BY c.channel, c.name""")
    return acquisition_rows(found)


def acquisition_rows(found: Iterable[Any]) -> list[AcquisitionCost]:
    """The rows from each campaign's `channel`, `name`, `cost_fen` and acquired investors `n`,
    by channel and name. Shared by the SQL metric and the Spark engine."""
    return sorted((AcquisitionCost(r.channel, r.name, int(r.cost_fen), int(r.n),
                                   per(int(r.cost_fen), int(r.n))) for r in found),
                  key=lambda r: (r.channel, r.campaign))
