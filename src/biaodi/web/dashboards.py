"""The dashboards' panels (`services/analytics/dashboards.py`) as Plotly figures and readable
tables, in the page's language: used by the console's analytics page and by `biaodi report`.

Money is drawn in yuan (floats for the heights only) and labelled in our money format from
the exact fen; rates are drawn and labelled as percentages of the exact fraction."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import plotly
import plotly.graph_objects as go

from biaodi.domain.shared.money import Money
from biaodi.services.analytics.dashboards import Panel, Series
from biaodi.web import charts, i18n

i18n.register({
    "op.tab.analytics": ("运营分析", "Analytics"),
    "dash.title": ("运营分析", "Operations analytics"),
    "dash.intro": ("{month} 月的运营数据（时间序列回看 {window} 个月），由指标目录按名称计算，"
                   "每张图旁附数据表；金额单位为元。",
                   "Operations in {month} (time series look back {window} months), computed "
                   "from the metric catalogue by name; each chart has its table beside it; "
                   "amounts in yuan."),
    "dash.month": ("月份", "Month"), "dash.show": ("查看", "Show"),
    "dash.bad_month": ("月份的格式为 YYYY-MM（例如 2026-10）。",
                       "A month is written YYYY-MM (e.g. 2026-10)."),
    "dash.no_data": ("暂无数据", "No data yet"),
    "dash.not_ready": ("暂无数据：指标 {metric} 尚未提供。",
                       "No data yet: the metric {metric} is not available yet."),
    "dash.report": ("月度报告：biaodi report --month {month} --out report/",
                    "Monthly report: biaodi report --month {month} --out report/"),
    "dash.tab.activity": ("交易与活跃", "Volume and activity"),
    "dash.tab.funnel": ("转化漏斗", "Funnel"),
    "dash.tab.cohorts": ("留存", "Retention"),
    "dash.tab.vintages": ("账龄曲线", "Vintages"),
    "dash.tab.buckets": ("逾期分布", "Buckets"),
    "dash.tab.rolls": ("迁徙率", "Roll rates"),
    "dash.panel.volume": ("每月成交额", "Volume funded per month"),
    "dash.panel.mau": ("月活跃投资人", "Monthly active investors"),
    "dash.panel.dau": ("日活跃投资人", "Daily active investors"),
    "dash.panel.funnel": ("注册 → 首投 转化漏斗（当月注册）",
                          "Registration → first investment (registered in the month)"),
    "dash.panel.cohorts": ("月度队列留存", "Monthly cohort retention"),
    "dash.panel.vintages": ("账龄曲线（累计违约率）", "Vintage curves (cumulative default)"),
    "dash.panel.buckets": ("当前各逾期档未还本金", "Outstanding principal by bucket, now"),
    "dash.panel.bucket-history": ("各月末逾期档未还本金", "Principal by bucket at each month-end"),
    "dash.panel.rolls": ("逾期迁徙率矩阵", "Roll-rate matrix"),
    "dash.s.funded": ("成交本金", "Principal funded"),
    "dash.s.investors": ("投资人数", "Investors"),
    "dash.s.now": ("当前", "Now"),
    "dash.col.month": ("月份", "Month"), "dash.col.day": ("日期", "Day"),
    "dash.col.date": ("日期", "Day"),
    "dash.col.loans": ("笔数", "Loans"), "dash.col.funded_fen": ("成交本金", "Funded"),
    "dash.col.investors": ("投资人数", "Investors"), "dash.col.step": ("环节", "Step"),
    "dash.col.channel": ("渠道", "Channel"), "dash.col.campaign": ("活动", "Campaign"),
    "dash.col.registered": ("注册", "Registered"), "dash.col.real_name": ("实名", "Real name"),
    "dash.col.questionnaire": ("风险测评", "Questionnaire"),
    "dash.col.first_deposit": ("首次充值", "First deposit"),
    "dash.col.first_investment": ("首次投资", "First investment"),
    "dash.col.cohort": ("队列", "Cohort"), "dash.col.months_since": ("间隔月数", "Months since"),
    "dash.col.cohort_size": ("队列人数", "Cohort size"), "dash.col.active": ("活跃", "Active"),
    "dash.col.retention": ("留存率", "Retention"),
    "dash.col.vintage": ("放款月", "Vintage"),
    "dash.col.months_on_book": ("账龄（月）", "Months on book"),
    "dash.col.defaulted_loans": ("违约笔数", "Defaulted loans"),
    "dash.col.defaulted_fen": ("违约本金", "Defaulted principal"),
    "dash.col.default_rate": ("累计违约率", "Cumulative default rate"),
    "dash.col.bucket": ("逾期档", "Bucket"),
    "dash.col.principal_fen": ("未还本金", "Outstanding principal"),
    "dash.col.overdue_fen": ("逾期本息", "Overdue amount"),
    "dash.col.amount_rate": ("金额占比", "Amount rate"),
    "dash.col.count_rate": ("笔数占比", "Count rate"),
    "dash.col.from_bucket": ("月初所在档", "From (month start)"),
    "dash.col.to": ("月末所在档", "To (month end)"),
})


def _name(lang: str, s: Series) -> str:
    return i18n.translate(lang, s.name) if s.key else s.name


def percent(rate: Decimal | None) -> str:
    """An exact fraction as a percentage with two decimals: 0.125 → '12.50%'."""
    return "–" if rate is None else f"{rate * 100:.2f}%"


def cell(column: str, value: Any) -> str:
    """One table value as shown: fen as yuan, rates as percentages, the rest as it is."""
    if value is None:
        return "–"
    if column.endswith("_fen"):
        return i18n.money(Money(int(value)).decimal)
    if isinstance(value, Decimal):
        return percent(value)
    return str(value)


def _series(lang: str, s: Series) -> charts.Series:
    name = _name(lang, s)
    if s.unit == "fen":
        return charts.money_series(name, [Money(int(v or 0)) for v in s.values])
    if s.unit == "rate":
        return charts.Series(name, [v * 100 if v is not None else None  # type: ignore[misc]
                                    for v in s.values], [percent(v) for v in s.values])
    return charts.Series(name, [v or 0 for v in s.values], [str(v or 0) for v in s.values])


def _heatmap(panel: Panel, lang: str) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": "none", "font": {"family": charts.FONT, "size": 13},
        "margin": {"l": 72, "r": 16, "t": 24, "b": 48},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"type": "category", "title": {"text": i18n.translate(lang, panel.x_key)},
                  "fixedrange": True},
        "yaxis": {"type": "category", "autorange": "reversed", "fixedrange": True,
                  "automargin": True},
    }
    z = [[float(v * 100) if v is not None else None for v in row] for row in panel.z]
    text = [[percent(v) if v is not None else "" for v in row] for row in panel.z]
    fig = go.Figure(layout=layout)
    fig.add_trace(go.Heatmap(x=panel.x, y=panel.y, z=z, text=text, texttemplate="%{text}",
                             zmin=0, zmax=100, colorscale="Blues", showscale=False,
                             hovertemplate="%{y} → %{x}: %{text}<extra></extra>"))
    as_dict: dict[str, Any] = fig.to_plotly_json()
    figure = {"data": as_dict["data"], "layout": as_dict["layout"]}
    return _plain(figure) | {"config": {"displayModeBar": False, "responsive": True}}


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))


def figure(panel: Panel, lang: str) -> dict[str, Any] | None:
    """The panel's chart as Plotly figure JSON; None when there is nothing to draw."""
    if not panel.ready or panel.empty:
        return None
    if panel.chart == "heatmap":
        return _heatmap(panel, lang)
    categories = [i18n.translate(lang, x) if x.startswith("dash.") else x for x in panel.x]
    series = [_series(lang, s) for s in panel.series]
    x_title = i18n.translate(lang, panel.x_key) if panel.x_key else None
    y_unit = {"fen": "charts.yuan"}.get(panel.series[0].unit if panel.series else "")
    y_title = i18n.translate(lang, y_unit) if y_unit else (
        "%" if panel.series and panel.series[0].unit == "rate" else None)
    if panel.chart == "line":
        return charts.line_chart(categories, series, lang=lang, x_title=x_title,
                                 y_title=y_title)
    return charts.bar_chart(categories, series, lang=lang, stacked=panel.chart == "stack",
                            x_title=x_title, y_title=y_title)


def table(panel: Panel, lang: str) -> dict[str, Any]:
    """The panel's table as headers and rows of display strings."""
    columns = panel.table.columns
    return {"headers": [i18n.translate(lang, f"dash.col.{c}") for c in columns],
            "rows": [[cell(c, v) for c, v in zip(columns, row, strict=True)]
                     for row in panel.table.rows]}


def view(panel: Panel, lang: str) -> dict[str, Any]:
    """What a template needs of one panel."""
    return {"key": panel.key, "title": i18n.translate(lang, f"dash.panel.{panel.key}"),
            "ready": panel.ready, "metric": panel.metric, "figure": figure(panel, lang),
            "table": table(panel, lang), "id": f"chart-{panel.key}", "file": panel.table.name}
