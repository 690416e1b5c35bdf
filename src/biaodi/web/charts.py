"""Charts for the pages, drawn in the browser by Plotly from figure JSON built here.

The figure is built in Python (`bar_chart`, `line_chart`) and placed in the page as a
`<script type="application/json">` block by the `_chart.html` macro; `static/charts.js` draws
every such block with `Plotly.newPlot`. Plotly's own `plotly.min.js` is served from the
installed plotly package at `VENDOR_PATH` (never a CDN, never a copy in our tree).

Money stays exact: amounts come in as `Money` or `Decimal` yuan; only the bar heights become
floats (for drawing), and every hover label is our own `money` format of the exact amount.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
from markupsafe import Markup

from biaodi.domain.shared.money import Money
from biaodi.web import i18n
from biaodi.web.pages import env

VENDOR_PATH = "/static/vendor/plotly.min.js"
#: The pages' palette (site.css): principal blue, interest amber, then green, red, …
COLOURS = ("#1a4fa0", "#e0a030", "#1b7f4b", "#b3261e", "#5b6573", "#7c3aed")
FONT = ("system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Microsoft YaHei', "
        "'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif")


@cache
def plotly_js() -> Path:
    """The installed plotly package's own plotly.min.js."""
    found = resources.files("plotly") / "package_data" / "plotly.min.js"
    with resources.as_file(found) as path:
        return Path(path)


def plotly_version() -> str:
    return str(plotly.__version__)


@dataclass(frozen=True)
class Series:
    """One named row of values. `values` are what is drawn; `labels` what a hover says."""

    name: str
    values: Sequence[Decimal | int]
    labels: Sequence[str]


def money_series(name: str, amounts: Sequence[Money | Decimal]) -> Series:
    """Yuan amounts: drawn as numbers, labelled '¥1,234.56' in our money format."""
    exact = [a.decimal if isinstance(a, Money) else Decimal(a) for a in amounts]
    return Series(name, exact, [f"¥{i18n.money(a)}" for a in exact])


def _layout(lang: str, *, stacked: bool, y_title: str | None, x_title: str | None,
            title: str | None) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": "none", "font": {"family": FONT, "size": 13}, "colorway": list(COLOURS),
        "margin": {"l": 56, "r": 16, "t": 64 if title else 32, "b": 40},
        # above the plot: month labels turned on a phone's narrow axis never run into it
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom",
                   "traceorder": "normal"},
        "hovermode": "x unified", "separators": ".,",
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "yaxis": {"title": {"text": y_title or ""}, "rangemode": "tozero",
                  "tickformat": ",~r", "gridcolor": "#e5e7eb", "fixedrange": True,
                  "automargin": True},
        "xaxis": {"title": {"text": x_title or ""}, "type": "category", "fixedrange": True,
                  "automargin": True},
    }
    if stacked:
        layout["barmode"] = "stack"
    if title:
        layout["title"] = {"text": title, "x": 0}
    return layout


def _config(lang: str) -> dict[str, Any]:
    # the labels are ours, in the page's language; Plotly's own strings are not shown
    return {"displayModeBar": False, "responsive": True}


def _figure(fig: go.Figure, lang: str) -> dict[str, Any]:
    as_dict: dict[str, Any] = json.loads(fig.to_json())
    as_dict["config"] = _config(lang)
    return as_dict


def _drawn(values: Sequence[Decimal | int]) -> list[float]:
    return [float(v) for v in values]  # heights only: the exact amounts are in the labels


def bar_chart(categories: Sequence[str], series: Sequence[Series], *, lang: str,
              stacked: bool = True, y_title: str | None = None, x_title: str | None = None,
              title: str | None = None) -> dict[str, Any]:
    """Bars per category, one colour per series (stacked unless `stacked=False`): the figure
    as a JSON-ready dict with data, layout and config."""
    fig = go.Figure(layout=_layout(lang, stacked=stacked, y_title=y_title, x_title=x_title,
                                   title=title))
    for s in series:
        fig.add_trace(go.Bar(name=s.name, x=list(categories), y=_drawn(s.values),
                             customdata=list(s.labels),
                             hovertemplate=f"{s.name}: %{{customdata}}<extra></extra>"))
    return _figure(fig, lang)


def line_chart(categories: Sequence[str], series: Sequence[Series], *, lang: str,
               y_title: str | None = None, x_title: str | None = None,
               title: str | None = None) -> dict[str, Any]:
    """Lines with markers per series over the categories (dates, months)."""
    fig = go.Figure(layout=_layout(lang, stacked=False, y_title=y_title, x_title=x_title,
                                   title=title))
    for s in series:
        fig.add_trace(go.Scatter(name=s.name, x=list(categories), y=_drawn(s.values),
                                 mode="lines+markers", customdata=list(s.labels),
                                 hovertemplate=f"{s.name}: %{{customdata}}<extra></extra>"))
    return _figure(fig, lang)


def to_json(figure: dict[str, Any]) -> Markup:
    """The figure as JSON that is safe inside `<script type="application/json">`."""
    text = json.dumps(figure, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return Markup(text)  # escaped above for a script data block


def cash_flow_chart(months: Sequence[str], principal: Sequence[Money | Decimal],
                    interest: Sequence[Money | Decimal], *, lang: str) -> dict[str, Any]:
    """The investor's expected cash flows: principal and interest stacked per month."""
    return bar_chart(
        list(months),
        [money_series(i18n.translate(lang, "listing.principal"), principal),
         money_series(i18n.translate(lang, "listing.interest"), interest)],
        lang=lang, y_title=i18n.translate(lang, "charts.yuan"))


i18n.register({"charts.yuan": ("元", "Yuan")})


# The _chart.html macros find these in every template.
env.globals["chart_json"] = to_json
env.globals["plotly_src"] = f"{VENDOR_PATH}?v={plotly_version()}"
