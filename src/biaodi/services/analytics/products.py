"""Product metrics: volume by listing type, term and grade; weighted average rate and all-in
cost; funding time; the auto-invest share; the secondary market's turnover, discount and
time to sell.

A loan is *funded* on the business day servicing took it on (`loan_servicing.onboarded_on`),
for what was raised (`listings.funded_fen`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from biaodi.domain.analytics.tiers import rate
from biaodi.services.analytics.common import Period, Sql, UnitOfWork, fetch
from biaodi.services.analytics.users import per

_FUNDED = ("FROM loan_servicing s JOIN listings l ON l.id = s.listing_id "
           "WHERE s.onboarded_on >= {s} AND s.onboarded_on <= {e}")


def _funded(sql: Sql) -> str:
    return _FUNDED.format(s=sql.date("s"), e=sql.date("e"))


@dataclass(frozen=True)
class VolumeRow:
    kind: str
    term: int
    term_unit: str
    grade: str  # '' when the loan has none
    loans: int
    funded_fen: int


def volume(uow: UnitOfWork, period: Period) -> list[VolumeRow]:
    """Loans funded in `period` — how many and the principal raised — by listing type, term
    (with its unit) and grade."""
    found = fetch(uow, f"""
        SELECT l.kind, l.term, l.term_unit, COALESCE(l.grade, '') AS grade, COUNT(*) AS n,
               COALESCE(SUM(l.funded_fen), 0) AS fen {_funded(Sql.of(uow))}
        GROUP BY l.kind, l.term, l.term_unit, COALESCE(l.grade, '')
        ORDER BY l.kind, l.term_unit, l.term, COALESCE(l.grade, '')""",
        s=period.start, e=period.end)
    return volume_rows(found)


def volume_rows(found: Iterable[Any]) -> list[VolumeRow]:
    """The rows from loans `n` and principal `fen` grouped by kind, term, unit and grade, in
    that order (unit before term). Shared by the SQL metric and the Spark engine."""
    return sorted((VolumeRow(r.kind, int(r.term), r.term_unit, r.grade, int(r.n), int(r.fen))
                   for r in found), key=lambda r: (r.kind, r.term_unit, r.term, r.grade))


@dataclass(frozen=True)
class RateRow:
    kind: str
    funded_fen: int
    rate: Decimal | None  # Σ funded × annual rate / Σ funded, as a fraction
    all_in_cost: Decimal | None  # the same weighting of the borrower's all-in annual cost


def weighted_rates(uow: UnitOfWork, period: Period) -> list[RateRow]:
    """For loans funded in `period`, by listing type: the annual rate investors earn and the
    borrower's all-in annual cost (rate and fees: `listings.all_in_cost_ppm`, the rate where
    none was fixed), each weighted by the principal raised."""
    found = fetch(uow, f"""
        SELECT l.kind, COALESCE(SUM(l.funded_fen), 0) AS fen,
               COALESCE(SUM(l.funded_fen * l.annual_rate_ppm), 0) AS r,
               COALESCE(SUM(l.funded_fen * COALESCE(l.all_in_cost_ppm, l.annual_rate_ppm)), 0)
                   AS c
        {_funded(Sql.of(uow))} GROUP BY l.kind ORDER BY l.kind""",
        s=period.start, e=period.end)
    return rate_rows(found)


def rate_rows(found: Iterable[Any]) -> list[RateRow]:
    """The rows from principal `fen` and the principal-weighted sums of rate `r` and all-in
    cost `c` (ppm) by kind. Shared by the SQL metric and the Spark engine."""
    return sorted((RateRow(r.kind, int(r.fen), rate(int(r.r), int(r.fen) * 1_000_000),
                           rate(int(r.c), int(r.fen) * 1_000_000)) for r in found),
                  key=lambda r: r.kind)


@dataclass(frozen=True)
class FundingTime:
    kind: str
    loans: int
    average_seconds: int | None  # whole seconds, rounded half-even
    longest_seconds: int


def funding_time(uow: UnitOfWork, period: Period) -> list[FundingTime]:
    """For loans funded in `period`, by listing type: the time from publication
    (`published_at`) to full (`funded_at`), average and longest, in whole seconds."""
    sql = Sql.of(uow)
    seconds = ("CAST(EXTRACT(EPOCH FROM (l.funded_at - l.published_at)) AS BIGINT)" if sql.pg
               else "CAST(ROUND((julianday(l.funded_at) - julianday(l.published_at)) * 86400)"
                    " AS INTEGER)")
    found = fetch(uow, f"""
        SELECT l.kind, COUNT(*) AS n, COALESCE(SUM({seconds}), 0) AS total,
               COALESCE(MAX({seconds}), 0) AS longest
        {_funded(sql)} AND l.published_at IS NOT NULL AND l.funded_at IS NOT NULL
        GROUP BY l.kind ORDER BY l.kind""", s=period.start, e=period.end)
    return funding_rows(found)


def funding_rows(found: Iterable[Any]) -> list[FundingTime]:
    """The rows from loans `n`, `total` and `longest` seconds by kind. Shared by the SQL
    metric and the Spark engine."""
    return sorted((FundingTime(r.kind, int(r.n), per(int(r.total), int(r.n)), int(r.longest))
                   for r in found), key=lambda r: r.kind)


@dataclass(frozen=True)
class AutoShare:
    manual_fen: int
    auto_fen: int
    auto_share: Decimal | None  # auto / (manual + auto)


def auto_invest_share(uow: UnitOfWork, period: Period) -> AutoShare:
    """Of the money invested in `period` (investments subscribed then and not refunded), how
    much came through auto-invest (自动投标, `source` auto) and its share of the whole."""
    sql = Sql.of(uow)
    r = fetch(uow, f"""
        SELECT COALESCE(SUM(CASE WHEN source = 'auto' THEN amount_fen ELSE 0 END), 0) AS auto,
               COALESCE(SUM(CASE WHEN source = 'auto' THEN 0 ELSE amount_fen END), 0) AS manual
        FROM investments WHERE status <> 'refunded'
          AND subscribed_on >= {sql.date('s')} AND subscribed_on <= {sql.date('e')}""",
        s=period.start, e=period.end)[0]
    return auto_share_of(int(r.manual), int(r.auto))


def auto_share_of(manual: int, auto: int) -> AutoShare:
    """Manual and auto-invested money with the auto share. Shared with the Spark engine."""
    return AutoShare(manual, auto, rate(auto, auto + manual))


@dataclass(frozen=True)
class Secondary:
    purchases: int
    principal_fen: int  # principal changing hands
    price_fen: int  # what buyers paid
    fair_value_fen: int  # principal + accrued interest on the day of purchase
    fee_fen: int  # transfer fees (the platform's)
    discount: Decimal | None  # (fair value − price) / fair value: > 0 a discount
    average_days_to_sell: Decimal | None  # from offer to purchase, per purchase


def secondary_market(uow: UnitOfWork, period: Period) -> Secondary:
    """Purchases on the secondary market (债权转让) settled on the business days of `period`:
    turnover (principal, price, fair value, fees), the discount to fair value weighted by
    fair value, and the average days from the offer (`listed_on`) to each purchase."""
    sql = Sql.of(uow)
    r = fetch(uow, f"""
        SELECT COUNT(*) AS n, COALESCE(SUM(p.principal_fen), 0) AS principal,
               COALESCE(SUM(p.price_fen), 0) AS price,
               COALESCE(SUM(p.fair_value_fen), 0) AS fair, COALESCE(SUM(p.fee_fen), 0) AS fee,
               COALESCE(SUM({sql.days('p.business_date', 's.listed_on')}), 0) AS days
        FROM secondary_purchases p JOIN secondary_sales s ON s.id = p.sale_id
        WHERE p.business_date >= {sql.date('s')} AND p.business_date <= {sql.date('e')}""",
        s=period.start, e=period.end)[0]
    return secondary_of(r)


def secondary_of(r: Any) -> Secondary:
    """The figures from one row of sums (`n` purchases, `principal`, `price`, `fair`, `fee`,
    `days` from offer to purchase). Shared by the SQL metric and the Spark engine."""
    n, fair = int(r.n), int(r.fair)
    return Secondary(n, int(r.principal), int(r.price), fair, int(r.fee),
                     rate(fair - int(r.price), fair), rate(int(r.days), n))


#: A loan's vertical (细分市场): the asset class of its first pledged asset (house, car, art,
#: other) when it is secured by assets, else its listing type.
VERTICAL = ("COALESCE((SELECT a.asset_class FROM pledged_assets a WHERE a.listing_id = l.id"
            " ORDER BY a.id LIMIT 1), l.kind)")


@dataclass(frozen=True)
class VerticalRow:
    vertical: str
    loans: int
    funded_fen: int


def volume_by_vertical(uow: UnitOfWork, period: Period) -> list[VerticalRow]:
    """Loans funded in `period` — how many and the principal raised — by vertical (细分市场):
    the asset class of a loan's first pledged asset (house 房产, car 车辆, art 艺术品, other)
    when it is secured by pledged assets, else its listing type (credit, guarantee, transfer,
    instant)."""
    found = fetch(uow, f"""
        SELECT x.vertical, COUNT(*) AS n, COALESCE(SUM(x.fen), 0) AS fen
        FROM (SELECT {VERTICAL} AS vertical, l.funded_fen AS fen {_funded(Sql.of(uow))}) x
        GROUP BY x.vertical ORDER BY x.vertical""", s=period.start, e=period.end)
    return vertical_rows(found)


def vertical_rows(found: Iterable[Any]) -> list[VerticalRow]:
    """The rows from loans `n` and principal `fen` grouped by `vertical`, by vertical.
    Shared by the SQL metric and the Spark engine."""
    return sorted((VerticalRow(r.vertical, int(r.n), int(r.fen)) for r in found),
                  key=lambda r: r.vertical)
