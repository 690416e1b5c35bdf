"""The operator's dashboards and the monthly report, as plain data: each panel is a chart
(its categories and series, or a heatmap's grid) and the table beside it, computed from the
metrics by name through `catalog` — a metric that is not in the catalog gives a panel marked
not ready ("no data yet") instead of an error.

The page (`web/routes/operator_analytics.py`) and `biaodi report` draw the same panels; the
report writes every panel's table as CSV and Parquet (`services/analytics/report.py`).
Money stays integer fen here; rates are exact `Decimal` fractions.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from biaodi.domain.analytics.tiers import Tier
from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.analytics import catalog
from biaodi.services.analytics.common import UnitOfWork

#: The dashboard's tabs, in order.
TABS = ("activity", "funnel", "cohorts", "vintages", "buckets", "rolls")
#: How many months the time series and cohorts look back (the chosen month included).
WINDOW = 12
#: The roll-rate metric (from the bucket history close of business keeps); the roll and
#: bucket-history panels say "no data yet" while it is not in the catalog.
ROLL_RATES = "roll-rates"
BUCKET_ORDER = ("current", "M1", "M2", "M3", "M3+")


@dataclass(frozen=True)
class Series:
    """One row of values over the panel's categories. `unit`: fen | count | rate. `name` is a
    message key when `key` is True (the page translates it), else shown as it is (a month,
    a bucket)."""

    name: str
    values: list[int | Decimal | None]
    unit: str
    key: bool = True


@dataclass(frozen=True)
class Table:
    """The figures behind a chart: `name` is the file stem in the report, `columns` message
    keys (`dash.col.<column>`), each row one value per column (fen as int, rates Decimal)."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Panel:
    key: str  # dash.panel.<key> is its title
    tab: str
    chart: str  # line | bar | stack | heatmap
    metric: str  # the catalog metric it reads
    ready: bool  # False: the metric is not in the catalog yet
    table: Table
    x: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    y: list[str] = field(default_factory=list)  # heatmap rows
    z: list[list[Decimal | None]] = field(default_factory=list)  # heatmap cells, rates
    x_key: str = ""  # message key of the x axis

    @property
    def empty(self) -> bool:
        return not self.table.rows


def parse_month(text: str, field_name: str = "month") -> date:
    """'YYYY-MM' → the first day of that month; anything else refused naming the field."""
    try:
        year, month = text.strip().split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        return date(int(year), int(month), 1)
    except ValueError:
        raise InvalidInput("a month is written YYYY-MM, e.g. 2026-10", field=field_name) from None


def month_end(first: date) -> date:
    return first.replace(day=monthrange(first.year, first.month)[1])


def months_back(first: date, count: int) -> list[date]:
    """The `count` months ending with `first`'s, oldest first (first days)."""
    index = first.year * 12 + first.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _rate(text: Any) -> Decimal | None:
    return None if text is None else Decimal(str(text))


class _Reader:
    """catalog.compute with the unit of work and tiers bound; None for a missing metric."""

    def __init__(self, uow: UnitOfWork, tiers: tuple[Tier, ...]) -> None:
        self.uow, self.tiers = uow, tiers

    def has(self, name: str) -> bool:
        return name in catalog.METRICS

    def __call__(self, name: str, **params: Any) -> Any:
        return catalog.compute(self.uow, name, tiers=self.tiers, **params)


def _volume(read: _Reader, month: date) -> Panel:
    rows = []
    for first in months_back(month, WINDOW):
        found = read("volume", start=first, end=month_end(first))
        rows.append((first.strftime("%Y-%m"), sum(r["loans"] for r in found),
                     sum(r["funded_fen"] for r in found)))
    return Panel("volume", "activity", "bar", "volume", True,
                 Table("volume-by-month", ("month", "loans", "funded_fen"), rows),
                 x=[r[0] for r in rows],
                 series=[Series("dash.s.funded", [r[2] for r in rows], "fen")],
                 x_key="dash.col.month")


def _active_monthly(read: _Reader, month: date) -> Panel:
    start = months_back(month, WINDOW)[0]
    found = {r["period"]: r["investors"] for r in read(
        "active-investors", start=start, end=month_end(month), grain="month")}
    rows = [(m.strftime("%Y-%m"), found.get(m.strftime("%Y-%m"), 0))
            for m in months_back(month, WINDOW)]
    return Panel("mau", "activity", "line", "active-investors", True,
                 Table("active-investors-by-month", ("month", "investors"), rows),
                 x=[r[0] for r in rows],
                 series=[Series("dash.s.investors", [r[1] for r in rows], "count")],
                 x_key="dash.col.month")


def _active_daily(read: _Reader, month: date) -> Panel:
    found = {r["period"]: r["investors"] for r in read(
        "active-investors", start=month, end=month_end(month), grain="day")}
    days = [month.replace(day=d).isoformat() for d in range(1, month_end(month).day + 1)]
    rows = [(d, found.get(d, 0)) for d in days]
    return Panel("dau", "activity", "line", "active-investors", True,
                 Table("active-investors-by-day", ("day", "investors"), rows),
                 x=days, series=[Series("dash.s.investors", [r[1] for r in rows], "count")],
                 x_key="dash.col.day")


FUNNEL_STEPS = ("registered", "real_name", "questionnaire", "first_deposit",
                "first_investment")


def _funnel(read: _Reader, month: date) -> Panel:
    found = read("funnel", start=month, end=month_end(month))
    rows = [(r["channel"], r["campaign"], *(r[s] for s in FUNNEL_STEPS)) for r in found]
    totals = [sum(r[2 + i] for r in rows) for i in range(len(FUNNEL_STEPS))]
    return Panel("funnel", "funnel", "bar", "funnel", True,
                 Table("funnel", ("channel", "campaign", *FUNNEL_STEPS), rows),
                 x=[f"dash.col.{s}" for s in FUNNEL_STEPS],
                 series=[Series("dash.s.investors", list(totals), "count")],
                 x_key="dash.col.step")


def _cohorts(read: _Reader, month: date) -> Panel:
    start = months_back(month, WINDOW)[0]
    found = read("cohort-retention", start=start, end=month_end(month))
    rows = [(r["cohort"], r["months_since"], r["cohort_size"], r["active"], _rate(r["retention"]))
            for r in found]
    cohorts = sorted({r[0] for r in rows})
    depth = max((r[1] for r in rows), default=-1) + 1
    grid: dict[tuple[str, int], Decimal | None] = {(r[0], r[1]): r[4] for r in rows}
    return Panel("cohorts", "cohorts", "heatmap", "cohort-retention", True,
                 Table("cohort-retention",
                       ("cohort", "months_since", "cohort_size", "active", "retention"), rows),
                 x=[str(k) for k in range(depth)], y=cohorts,
                 z=[[grid.get((c, k)) for k in range(depth)] for c in cohorts],
                 x_key="dash.col.months_since")


def _vintages(read: _Reader, month: date) -> Panel:
    found = read("vintage-curves", as_of=month_end(month))
    rows = [(r["vintage"], r["months_on_book"], r["loans"], r["funded_fen"],
             r["defaulted_loans"], r["defaulted_fen"], _rate(r["default_rate"])) for r in found]
    depth = max((r[1] for r in rows), default=-1) + 1
    series = []
    for vintage in sorted({r[0] for r in rows}):
        curve = {r[1]: r[6] for r in rows if r[0] == vintage}
        series.append(Series(vintage, [curve.get(k) for k in range(depth)], "rate", key=False))
    return Panel("vintages", "vintages", "line", "vintage-curves", True,
                 Table("vintage-curves", ("vintage", "months_on_book", "loans", "funded_fen",
                                          "defaulted_loans", "defaulted_fen", "default_rate"),
                       rows),
                 x=[str(k) for k in range(depth)], series=series,
                 x_key="dash.col.months_on_book")


def _buckets(read: _Reader, month: date) -> Panel:
    found = read("overdue-by-bucket")
    rows = [(r["bucket"], r["loans"], r["principal_fen"], r["overdue_fen"],
             _rate(r["amount_rate"]), _rate(r["count_rate"])) for r in found]
    return Panel("buckets", "buckets", "stack", "overdue-by-bucket", True,
                 Table("overdue-by-bucket", ("bucket", "loans", "principal_fen", "overdue_fen",
                                             "amount_rate", "count_rate"), rows),
                 x=["dash.s.now"],
                 series=[Series(r[0], [r[2]], "fen", key=False) for r in rows],
                 x_key="")


#: Where a roll ends: a bucket, or out of the live book.
ROLL_ENDS = (*BUCKET_ORDER, "closed", "written_off")


def _order(names: set[str]) -> list[str]:
    return [b for b in ROLL_ENDS if b in names] + sorted(names - set(ROLL_ENDS))


def _bucket_history(read: _Reader, month: date) -> Panel:
    """Outstanding principal per bucket at each month's end of the window, stacked: the
    bucket history of the last closed day on or before the month's end, read through the
    roll-rate metric (a roll from that day to itself: its rows by from-bucket are the day's
    buckets). Months before the first closed day are left out."""
    columns = ("month", "bucket", "loans", "principal_fen")
    if not read.has(ROLL_RATES):
        return Panel("bucket-history", "buckets", "stack", ROLL_RATES, False,
                     Table("bucket-history", columns, []))
    rows: list[tuple[Any, ...]] = []
    for first in months_back(month, WINDOW):
        last = month_end(first)
        totals: dict[str, tuple[int, int]] = {}
        for r in read(ROLL_RATES, start=last, end=last):
            n, fen = totals.get(r["from_bucket"], (0, 0))
            totals[r["from_bucket"]] = (n + r["loans"], fen + r["principal_fen"])
        rows += [(first.strftime("%Y-%m"), b, *totals[b]) for b in _order(set(totals))]
    months = sorted({r[0] for r in rows})
    cell = {(r[0], r[1]): r[3] for r in rows}
    return Panel("bucket-history", "buckets", "stack", ROLL_RATES, True,
                 Table("bucket-history", columns, rows), x=months,
                 series=[Series(b, [cell.get((m, b), 0) for m in months], "fen", key=False)
                         for b in _order({r[1] for r in rows})], x_key="dash.col.month")


def _rolls(read: _Reader, month: date) -> Panel:
    """The roll-rate matrix of the month: the share of the loans in each bucket (rows) at the
    last closed day before the month that were in each bucket, closed or written off (columns)
    at its last closed day (count rate; the table gives the amount rate too)."""
    columns = ("from_bucket", "to", "loans", "principal_fen", "count_rate", "amount_rate")
    if not read.has(ROLL_RATES):
        return Panel("rolls", "rolls", "heatmap", ROLL_RATES, False,
                     Table("roll-rates", columns, []))
    rows = [(r["from_bucket"], r["to"], r["loans"], r["principal_fen"], _rate(r["count_rate"]),
             _rate(r["amount_rate"])) for r in read(ROLL_RATES, start=month,
                                                    end=month_end(month))]
    sources = _order({r[0] for r in rows})
    targets = _order({r[1] for r in rows} | set(sources))
    cell = {(r[0], r[1]): r[4] for r in rows}
    return Panel("rolls", "rolls", "heatmap", ROLL_RATES, True,
                 Table("roll-rates", columns, rows), x=targets, y=sources,
                 z=[[cell.get((a, b)) for b in targets] for a in sources],
                 x_key="dash.col.to")


BUILDERS: dict[str, tuple[Callable[[_Reader, date], Panel], ...]] = {
    "activity": (_volume, _active_monthly, _active_daily),
    "funnel": (_funnel,),
    "cohorts": (_cohorts,),
    "vintages": (_vintages,),
    "buckets": (_buckets, _bucket_history),
    "rolls": (_rolls,),
}


def panels(uow: UnitOfWork, month: date, tiers: tuple[Tier, ...],
           tabs: tuple[str, ...] = TABS) -> Iterator[Panel]:
    """The panels of `tabs` for the month whose first day is `month`, one at a time (the
    report counts them on its progress bar)."""
    read = _Reader(uow, tiers)
    for tab in tabs:
        if tab not in BUILDERS:
            raise InvalidInput(f"tab must be one of {', '.join(TABS)}", field="tab")
        for build in BUILDERS[tab]:
            yield build(read, month)


def panel_count(tabs: tuple[str, ...] = TABS) -> int:
    return sum(len(BUILDERS[t]) for t in tabs)
