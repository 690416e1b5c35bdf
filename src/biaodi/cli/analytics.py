"""`biaodi report`: the month's dashboards as one self-contained HTML file plus every table as
CSV and Parquet; `biaodi export`: the book as Parquet partitioned by month; `biaodi analytics
--engine spark`: the metrics computed by PySpark from an exported book."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from biaodi.cli.common import console, err_console, fail, platform
from biaodi.domain.analytics.tiers import parse_tiers
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.analytics import dashboards, report
from biaodi.web import dashboards as views
from biaodi.web import i18n
from biaodi.web import report as html_report

app = typer.Typer(help="Analytics: the monthly report, the book's export, Spark.")


def _columns() -> tuple:  # type: ignore[type-arg]
    return (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn())


@app.command("report")
def report_command(
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM (e.g. 2026-10)."),
    out: str = typer.Option("report", "--out", help="Folder to write into."),
    lang: str = typer.Option("zh-CN", "--lang", help="zh-CN or en."),
) -> None:
    """The month's operations report: report-YYYY-MM.html (one file, opens offline: Plotly's
    bundle is written into it) and each table as CSV and Parquet beside it."""
    if lang not in i18n.LANGUAGES:
        fail(f"--lang must be one of {', '.join(i18n.LANGUAGES)}", 2)
    try:
        first = dashboards.parse_month(month)
    except BiaodiError as error:
        fail(f"--month: {error.message}", 2)
    folder = Path(out)
    p = platform()
    label = first.strftime("%Y-%m")
    tiers = parse_tiers(p.settings.analytics_tiers)
    sections: list[tuple[str, list[dict]]] = []  # type: ignore[type-arg]
    written: list[Path] = []
    try:
        with Progress(*_columns(), console=err_console) as bar:
            task = bar.add_task(f"report {label}", total=dashboards.panel_count() + 1)
            with p.reader() as uow:
                for tab in dashboards.TABS:
                    views_of_tab = []
                    for panel in dashboards.panels(uow, first, tiers, (tab,)):
                        bar.update(task, description=f"{tab}: {panel.key}")
                        written += report.write_table(panel.table, folder)
                        views_of_tab.append(views.view(panel, lang))
                        bar.advance(task)
                    sections.append((i18n.translate(lang, f"dash.tab.{tab}"), views_of_tab))
            bar.update(task, description="html")
            page = folder / f"report-{label}.html"
            page.write_text(html_report.render(label, sections, lang=lang,
                                               generated_at=p.clock.now()), encoding="utf-8")
            written.append(page)
            bar.advance(task)
    except BiaodiError as error:
        fail(error.message, 2 if error.status == 422 else 1)
    finally:
        p.close()
    console.print(f"report {label}: {page} and {len(written) - 1} table files in {folder}")
