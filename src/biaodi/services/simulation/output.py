"""The simulation's report: its figures as CSV tables and one self-contained HTML page with
Plotly charts (Plotly's own bundle inlined from the installed package), each scenario against
the baseline when both ran."""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from biaodi.services.simulation import figures
from biaodi.services.simulation.ports import Market as Platform

Rows = list[dict[str, Any]]


@dataclass
class Result:
    """What one run produced: its tables and its headline figures."""

    name: str
    daily: Rows
    losses: Rows
    returns: Rows
    coverage: Rows
    secondary: Rows
    events: dict[str, int]
    refusals: dict[str, int]
    headline: dict[str, Any] = field(default_factory=dict)
    pricing: Rows = field(default_factory=list)
    channels: Rows = field(default_factory=list)  # investor returns by acquisition channel

    def tables(self) -> dict[str, Rows]:
        return {"daily": self.daily, "losses": self.losses, "pricing": self.pricing,
                "returns": self.returns, "channels": self.channels,
                "coverage": self.coverage, "secondary": self.secondary,
                "headline": [{"figure": k, "value": v} for k, v in self.headline.items()],
                "events": [{"event": k, "count": v} for k, v in sorted(self.events.items())],
                "refusals": [{"refusal": k, "count": v}
                             for k, v in sorted(self.refusals.items())]}


def _ratio(part: int, whole: int) -> str:
    return f"{Decimal(part) / whole:.6f}" if whole else "0"


def collect(platform: Platform, sim: Any) -> Result:
    """The figures of a finished run (`sim`: the Simulator) from its database."""
    with platform.reader() as uow:
        losses = figures.losses(uow)
        positions = figures.investor_positions(uow)
        coverage = figures.coverage(uow)
        market = figures.secondary(uow)
        pricing = figures.pricing(uow)
    who = {i.user_id: i for i in sim.investors}
    groups: dict[tuple[str, str, str], dict[str, int]] = {}
    by_channel: dict[str, dict[str, int]] = {}
    for row in positions:
        investor = who.get(row["investor_id"])
        if investor is None:
            continue  # a live investor, outside the simulation's strategies
        net_in = int(row["deposited_fen"]) - int(row["withdrawn_fen"])
        worth = int(row["cash_fen"]) + int(row["holdings_fen"])
        channel = investor.channel or "unknown"
        for slot in (groups.setdefault((investor.strategy.name, investor.tier, channel),
                                       {"investors": 0, "deposited_fen": 0, "gain_fen": 0}),
                     by_channel.setdefault(channel, {"investors": 0, "deposited_fen": 0,
                                                     "gain_fen": 0})):
            slot["investors"] += 1
            slot["deposited_fen"] += int(row["deposited_fen"])
            slot["gain_fen"] += worth - net_in
    returns = [{"strategy": s, "tier": t, "channel": c, **v,
                "return": _ratio(v["gain_fen"], v["deposited_fen"])}
               for (s, t, c), v in sorted(groups.items())]
    channels = [{"channel": c, **v, "return": _ratio(v["gain_fen"], v["deposited_fen"])}
                for c, v in sorted(by_channel.items())]
    listed = sum(r["listed_fen"] for r in pricing)
    daily = [{"day": f.day, "business_date": f.business_date.isoformat(), "book_fen": f.book_fen,
              "overdue_fen": f.overdue_fen, "overdue_rate": f"{f.overdue_rate:.6f}",
              "listings": f.listings} for f in sim.history]
    lent = sum(int(r["lent_fen"] or 0) for r in losses)
    lost = sum(int(r["written_off_fen"] or 0) for r in losses)
    overdue = sum(int(r["overdue_fen"] or 0) for r in losses)
    proceeds = sum(int(r["disposal_net_proceeds_fen"] or 0) for r in losses)
    recovered = sum(int(r["disposal_recovered_fen"] or 0) for r in losses)
    owed = sum(int(r["disposal_owed_fen"] or 0) for r in losses)
    offered = sum(int(r["offered_fen"]) for r in market)
    sold = sum(int(r["sold_fen"]) for r in market)
    headline = {
        "days": len(sim.history), "loans": sum(int(r["loans"]) for r in losses),
        "lent_fen": lent, "written_off_fen": lost, "overdue_fen": overdue,
        "listed_rate_ppm": (sum(r["rate_ppm"] * r["listed_fen"] for r in pricing) // listed
                            if listed else 0),
        "loss_rate": _ratio(lost, lent), "loss_and_overdue_rate": _ratio(lost + overdue, lent),
        "collateral_cover": _ratio(proceeds, owed),
        "collateral_recovery_rate": _ratio(recovered, owed),
        "guarantor_paid_fen": sum(r["paid_fen"] for r in coverage if r["kind"] == "guarantee"),
        "buyback_paid_fen": sum(r["paid_fen"] for r in coverage if r["kind"] == "transfer"),
        "secondary_offered_fen": offered, "secondary_sold_fen": sold,
        "secondary_offered_premium_ppm": (sum(int(r["offered_premium_ppm"]) * int(r["offered_fen"])
                                              for r in market) // offered if offered else 0),
        "secondary_sold_premium_ppm": (sum(int(r["sold_premium_ppm"]) * int(r["sold_fen"])
                                           for r in market) // sold if sold else 0),
        "investor_gain_fen": sum(r["gain_fen"] for r in returns),
        "investor_return": _ratio(sum(r["gain_fen"] for r in returns),
                                  sum(r["deposited_fen"] for r in returns)),
    }
    return Result(sim.cfg.scenario.name, daily, losses, returns, coverage, market,
                  dict(sim.events), dict(sim.refusals), headline, pricing, channels)


def write_csv(path: Path, rows: Rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if not rows:
            handle.write("")
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write(out: Path, results: dict[str, Result], baseline: str | None) -> list[Path]:
    written = []
    for name, result in results.items():
        for table, rows in result.tables().items():
            path = out / f"{name}_{table}.csv"
            write_csv(path, rows)
            written.append(path)
    if baseline is not None and len(results) > 1:
        path = out / "comparison.csv"
        write_csv(path, comparison(results, baseline))
        written.append(path)
    page = out / "report.html"
    page.write_text(render(results, baseline), encoding="utf-8")
    written.append(page)
    return written


def comparison(results: dict[str, Result], baseline: str) -> Rows:
    base = results[baseline].headline
    rows = []
    for name, result in results.items():
        if name == baseline:
            continue
        for key, value in result.headline.items():
            rows.append({"scenario": name, "figure": key, "baseline": base.get(key),
                         "scenario_value": value})
    return rows


def _yuan(fen: Any) -> str:
    return f"{Decimal(int(fen or 0)) / 100:,.2f}"


def _table(rows: Rows) -> str:
    if not rows:
        return "<p>—</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(
        f"<td>{html.escape(_yuan(v) if k.endswith('_fen') else str(v))}</td>"
        for k, v in row.items()) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _charts(results: dict[str, Result]) -> list[str]:
    import plotly.graph_objects as go

    made = []
    book = go.Figure()
    rate = go.Figure()
    for name, r in results.items():
        days = [row["business_date"] for row in r.daily]
        book.add_trace(go.Scatter(x=days, y=[row["book_fen"] / 100 for row in r.daily],
                                  name=name, mode="lines"))
        rate.add_trace(go.Scatter(x=days, y=[float(row["overdue_rate"]) * 100 for row in r.daily],
                                  name=name, mode="lines"))
    book.update_layout(title="Book outstanding (yuan)")
    rate.update_layout(title="Overdue rate (% of the book)")
    losses = go.Figure()
    for name, r in results.items():
        losses.add_trace(go.Bar(x=[f"{row['kind']}/{row['vertical']}" for row in r.losses],
                                y=[int(row["written_off_fen"] or 0) / 100 for row in r.losses],
                                name=name))
    losses.update_layout(title="Written off by type and vertical (yuan)", barmode="group")
    returns = go.Figure()
    for name, r in results.items():
        returns.add_trace(go.Bar(x=[f"{row['strategy']}/{row['tier']}/{row['channel']}"
                                    for row in r.returns],
                                 y=[float(row["return"]) * 100 for row in r.returns], name=name))
    returns.update_layout(title="Investor return by strategy, tier and channel (%)",
                          barmode="group")
    channel = go.Figure()
    for name, r in results.items():
        channel.add_trace(go.Bar(x=[row["channel"] for row in r.channels],
                                 y=[float(row["return"]) * 100 for row in r.channels],
                                 name=name))
    channel.update_layout(title="Investor return by acquisition channel (%)", barmode="group")
    discount = go.Figure()
    for name, r in results.items():
        discount.add_trace(go.Bar(x=[row["month"] for row in r.secondary],
                                  y=[row["sold_premium_ppm"] / 10_000 for row in r.secondary],
                                  name=name))
    discount.update_layout(title="Secondary market: premium of what sold (%, below 0 = discount)",
                           barmode="group")
    for fig in (book, rate, losses, returns, channel, discount):
        made.append(fig.to_html(full_html=False, include_plotlyjs=False))
    return made


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:right}th{background:#f3f3f3}h2{margin-top:2em}"""


def render(results: dict[str, Result], baseline: str | None) -> str:
    from plotly.offline import get_plotlyjs

    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Biaodi market simulation</title><style>{STYLE}</style>"
             f"<script>{get_plotlyjs()}</script></head><body>",
             "<h1>Biaodi market simulation</h1>"]
    if baseline is not None and len(results) > 1:
        parts += ["<h2>Against the baseline</h2>", _table(comparison(results, baseline))]
    parts += ["<h2>Charts</h2>", *_charts(results)]
    for name, result in results.items():
        parts.append(f"<h2>{html.escape(name)}</h2>")
        for table, rows in result.tables().items():
            if table == "daily":
                continue
            parts += [f"<h3>{html.escape(table)}</h3>", _table(rows)]
    parts.append("</body></html>")
    return "".join(parts)
