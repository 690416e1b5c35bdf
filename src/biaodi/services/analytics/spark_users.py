"""Users, products and money metrics on Apache Spark: investors by tier, borrowers by grade,
cost per acquired investor, volume by vertical, the secondary market, platform income and
custody against wallets. The definitions are the SQL metrics' (`users.py`, `products.py`,
`money.py`); Spark does the set work and the SQL metrics' own row builders do the rest, so the
rows are theirs to the fen. The session and the book's views are `spark_base.py`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from biaodi.domain.analytics.tiers import Tier
from biaodi.services.analytics.common import Period
from biaodi.services.analytics.money import (
    Custody,
    IncomeRow,
    custody_of,
    income_rows,
)
from biaodi.services.analytics.products import (
    Secondary,
    VerticalRow,
    secondary_of,
    vertical_rows,
)
from biaodi.services.analytics.spark_base import LIVE, Book, d, m, text
from biaodi.services.analytics.users import (
    AcquisitionCost,
    GradeRow,
    TierRow,
    acquisition_rows,
    grade_rows,
    tier_rows,
)


# --- users ------------------------------------------------------------------------------------
def investors_by_tier(book: Book, as_of: date, tiers: tuple[Tier, ...]) -> list[TierRow]:
    """`users.investors_by_tier`: assets held (wallet available + frozen + active holdings'
    outstanding principal) and whole months from the first investment to `as_of`."""
    asof = d(as_of)
    months = (f"{m(asof)} - {m('f.d')} - CASE WHEN dayofmonth({asof}) < dayofmonth(f.d) "
              "THEN 1 ELSE 0 END")
    whens = " ".join(f"WHEN x.assets >= {t.min_assets_fen} AND x.months >= {t.min_months} "
                     f"THEN {text(t.name)}" for t in reversed(tiers[1:]))
    case = f"CASE {whens} ELSE {text(tiers[0].name)} END" if whens else text(tiers[0].name)
    found = book.rows(f"""
        WITH cash AS (SELECT owner_id AS who, SUM(balance) AS fen FROM accounts
                      WHERE owner_kind = 'investor' AND purpose IN ('available', 'frozen')
                      GROUP BY owner_id),
             held AS (SELECT investor_id AS who, SUM(outstanding_principal_fen) AS fen
                      FROM holdings WHERE status = 'active' GROUP BY investor_id),
             firsts AS (SELECT investor_id AS who, MIN(subscribed_on) AS d FROM investments
                        WHERE subscribed_on <= {asof} GROUP BY investor_id),
             x AS (SELECT r.user_id AS who,
                          COALESCE(c.fen, 0) + COALESCE(h.fen, 0) AS assets,
                          CASE WHEN f.d IS NULL THEN 0 ELSE greatest(0, {months}) END AS months
                   FROM user_roles r LEFT JOIN cash c ON c.who = r.user_id
                   LEFT JOIN held h ON h.who = r.user_id LEFT JOIN firsts f ON f.who = r.user_id
                   WHERE r.role = 'investor')
        SELECT t.tier, COUNT(*) AS n, COALESCE(SUM(t.assets), 0) AS fen
        FROM (SELECT {case} AS tier, x.assets FROM x) t GROUP BY t.tier""")
    return tier_rows(found, tiers)


def borrowers_by_grade(book: Book) -> list[GradeRow]:
    """`users.borrowers_by_grade`: borrowers, loans and outstanding principal of live loans."""
    found = book.rows(f"""
        SELECT COALESCE(l.grade, '') AS grade, COUNT(DISTINCT l.applicant_id) AS who,
               COUNT(*) AS n, COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id WHERE {LIVE}
        GROUP BY COALESCE(l.grade, '')""")
    return grade_rows(found)


def cost_per_investor(book: Book) -> list[AcquisitionCost]:
    """`users.cost_per_investor`: each campaign's cost over the investors it acquired."""
    found = book.rows("""
        SELECT c.channel, c.name, c.cost_fen, COUNT(DISTINCT i.investor_id) AS n
        FROM campaigns c
        LEFT JOIN users u ON u.acquisition_channel = c.channel
                         AND u.acquisition_campaign = c.name
        LEFT JOIN investments i ON i.investor_id = u.id
        GROUP BY c.channel, c.name, c.cost_fen""")
    return acquisition_rows(found)


# --- products ---------------------------------------------------------------------------------
def volume_by_vertical(book: Book, period: Period) -> list[VerticalRow]:
    """`products.volume_by_vertical`: a loan's vertical is its first pledged asset's class
    (the lowest id: a window here, where the SQL metric takes `LIMIT 1`), else its type."""
    found = book.rows(f"""
        WITH firsts AS (SELECT listing_id, asset_class FROM (
                            SELECT listing_id, asset_class, ROW_NUMBER() OVER (
                                PARTITION BY listing_id ORDER BY id) AS k
                            FROM pledged_assets) a WHERE a.k = 1)
        SELECT COALESCE(a.asset_class, l.kind) AS vertical, COUNT(*) AS n,
               COALESCE(SUM(l.funded_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        LEFT JOIN firsts a ON a.listing_id = l.id
        WHERE s.onboarded_on >= {d(period.start)} AND s.onboarded_on <= {d(period.end)}
        GROUP BY COALESCE(a.asset_class, l.kind)""")
    return vertical_rows(found)


def secondary_market(book: Book, period: Period) -> Secondary:
    """`products.secondary_market`: turnover, discount and days from offer to purchase."""
    r = book.rows(f"""
        SELECT COUNT(*) AS n, COALESCE(SUM(p.principal_fen), 0) AS principal,
               COALESCE(SUM(p.price_fen), 0) AS price,
               COALESCE(SUM(p.fair_value_fen), 0) AS fair, COALESCE(SUM(p.fee_fen), 0) AS fee,
               COALESCE(SUM(datediff(p.business_date, s.listed_on)), 0) AS days
        FROM secondary_purchases p JOIN secondary_sales s ON s.id = p.sale_id
        WHERE p.business_date >= {d(period.start)}
          AND p.business_date <= {d(period.end)}""")[0]
    return secondary_of(r)


# --- money ------------------------------------------------------------------------------------
def platform_income(book: Book, period: Period) -> list[IncomeRow]:
    """`money.platform_income`: credits to the income accounts net of debits, by entry kind."""
    found = book.rows(f"""
        SELECT a.code, e.kind, COUNT(DISTINCT e.id) AS n, -SUM(p.amount) AS fen
        FROM postings p JOIN accounts a ON a.id = p.account_id
        JOIN journal_entries e ON e.id = p.entry_id
        WHERE a.code IN ('platform:fee_income', 'platform:penalty_income')
          AND e.business_date >= {d(period.start)} AND e.business_date <= {d(period.end)}
        GROUP BY a.code, e.kind""")
    return income_rows(found)


def custody_against_wallets(book: Book) -> Custody:
    """`money.custody_against_wallets`: custody:cash against the users' wallets."""
    r = book.rows("""
        SELECT COALESCE(SUM(CASE WHEN code = 'custody:cash' THEN balance ELSE 0 END), 0)
                   AS custody,
               COALESCE(SUM(CASE WHEN owner_kind IN ('investor', 'borrower', 'originator',
                                                     'guarantor')
                                  AND purpose <> 'subrogation' THEN balance ELSE 0 END), 0)
                   AS wallets
        FROM accounts""")[0]
    return custody_of(int(r.custody), int(r.wallets))


#: name → (function, what it takes), as in `catalog.METRICS`.
METRICS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "investors-by-tier": (investors_by_tier, ("as_of", "tiers")),
    "borrowers-by-grade": (borrowers_by_grade, ()),
    "cost-per-investor": (cost_per_investor, ()),
    "volume-by-vertical": (volume_by_vertical, ("period",)),
    "secondary-market": (secondary_market, ("period",)),
    "platform-income": (platform_income, ("period",)),
    "custody-against-wallets": (custody_against_wallets, ()),
}
