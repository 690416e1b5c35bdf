"""Every metric by name, with the parameters it takes: the one door the API (and later the
console, the report and the exports) computes metrics through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from biaodi.domain.analytics.tiers import Tier
from biaodi.domain.shared.errors import NotFound
from biaodi.services.analytics import history, money, products, risk, users
from biaodi.services.analytics.common import Period, UnitOfWork, as_plain

#: What a metric takes besides the unit of work: a period (`start`, `end`; "period?" when
#: optional), a day (`as_of`, default today), a grain (day | month), the tiers.
Takes = tuple[str, ...]


@dataclass(frozen=True)
class Metric:
    name: str
    area: str  # users | products | risk | money
    compute: Callable[..., Any]
    takes: Takes = ()

    @property
    def summary(self) -> str:
        doc = (self.compute.__doc__ or "").strip()
        return " ".join(doc.split("\n\n")[0].split())


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("funnel", "users", users.funnel, ("period?",)),
    Metric("active-investors", "users", users.active_investors, ("period", "grain")),
    Metric("cohort-retention", "users", users.cohort_retention, ("period",)),
    Metric("average-ticket", "users", users.average_ticket, ("period",)),
    Metric("investors-by-tier", "users", users.investors_by_tier, ("as_of", "tiers")),
    Metric("borrowers-by-grade", "users", users.borrowers_by_grade),
    Metric("cost-per-investor", "users", users.cost_per_investor),
    Metric("volume", "products", products.volume, ("period",)),
    Metric("volume-by-vertical", "products", products.volume_by_vertical, ("period",)),
    Metric("weighted-rates", "products", products.weighted_rates, ("period",)),
    Metric("funding-time", "products", products.funding_time, ("period",)),
    Metric("auto-invest-share", "products", products.auto_invest_share, ("period",)),
    Metric("secondary-market", "products", products.secondary_market, ("period",)),
    Metric("outstanding-principal", "risk", risk.outstanding_principal),
    Metric("overdue-by-bucket", "risk", risk.overdue_by_bucket),
    Metric("bad-debt-rate", "risk", risk.bad_debt_rate),
    Metric("vintage-curves", "risk", risk.vintage_curves, ("as_of",)),
    Metric("roll-rates", "risk", history.roll_rates, ("period",)),
    Metric("grade-calibration", "risk", risk.grade_calibration),
    Metric("losses-and-recoveries", "risk", risk.losses_and_recoveries),
    Metric("guarantors", "risk", risk.guarantors),
    Metric("buyback-coverage", "risk", risk.buyback_coverage),
    Metric("collateral-ltv", "risk", risk.collateral_ltv),
    Metric("payments-by-channel", "money", money.payments_by_channel, ("period",)),
    Metric("platform-income", "money", money.platform_income, ("period",)),
    Metric("custody-against-wallets", "money", money.custody_against_wallets),
)}


def compute(uow: UnitOfWork, name: str, *, tiers: tuple[Tier, ...], start: date | None = None,
            end: date | None = None, as_of: date | None = None, grain: str | None = None
            ) -> Any:
    """The metric `name` as JSON-ready data (fen as integers, rates as decimal strings);
    a parameter it needs and lacks is refused naming it."""
    metric = METRICS.get(name)
    if metric is None:
        raise NotFound(f"no metric {name!r}", field="metric")
    args: list[Any] = []
    for need in metric.takes:
        if need in ("period", "period?"):
            if need == "period?" and start is None and end is None:
                args.append(None)  # all time
                continue
            # a bound left out: the period ends on `as_of` (today) and starts on the first
            # day of its end's month (month to date)
            last = end or as_of or uow.clock.today()
            args.append(Period(start or last.replace(day=1), last))
        elif need == "as_of":
            args.append(as_of or uow.clock.today())
        elif need == "grain":
            args.append(grain or "day")
        elif need == "tiers":
            args.append(tiers)
    return as_plain(metric.compute(uow, *args))


def listing() -> list[dict[str, Any]]:
    """Every metric: its name, area, parameters and the first paragraph of its definition."""
    return [{"name": m.name, "area": m.area, "takes": list(m.takes), "summary": m.summary}
            for m in METRICS.values()]
