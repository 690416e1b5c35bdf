"""The monthly report as one self-contained HTML file: the dashboards' panels (charts and
tables) with Plotly's bundle, our chart script and our stylesheet written into the file, so it
opens offline and loads nothing from anywhere (no external src or href)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from markupsafe import Markup

from biaodi.web import charts, i18n
from biaodi.web.pages import env

i18n.register({
    "report.title": ("{month} 月度运营报告", "Operations report, {month}"),
    "report.generated": ("生成于 {at}；金额单位为元，图表旁附数据表"
                         "（CSV 与 Parquet 文件在同一目录）。",
                         "Generated {at}; amounts in yuan, each chart with its table (CSV and "
                         "Parquet files in the same folder)."),
    "report.files": ("数据文件", "Data files"),
})


def _script(text: str) -> Markup:
    # nothing inside may close the script element early
    return Markup(text.replace("</script", "<\\/script").replace("<!--", "<\\!--"))


@cache
def _assets() -> tuple[Markup, Markup, Markup]:
    static = resources.files("biaodi.web") / "static"
    return (_script(charts.plotly_js().read_text(encoding="utf-8")),
            _script((static / "charts.js").read_text(encoding="utf-8")),
            Markup((static / "site.css").read_text(encoding="utf-8").replace("</style", "")))


def render(month: str, tabs: list[tuple[str, list[dict[str, Any]]]], *, lang: str,
           generated_at: datetime) -> str:
    """The report's HTML: `tabs` are (tab name, panel views of `web/dashboards.view`)."""
    plotly_js, charts_js, css = _assets()

    def t(key: str, **values: Any) -> str:
        return i18n.translate(lang, key, **values)

    return env.get_template("report/monthly.html").render(
        lang=lang, t=t, month=month, tabs=tabs, plotly_js=plotly_js, charts_js=charts_js,
        css=css, generated=generated_at.strftime("%Y-%m-%d %H:%M %Z").strip())
