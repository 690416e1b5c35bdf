"""`biaodi report`: the month's dashboards as one self-contained HTML file plus every table as
CSV and Parquet; `biaodi export`: the book as Parquet partitioned by month; `biaodi analytics
--engine spark`: the metrics computed by PySpark from an exported book."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from biaodi.cli.common import console, err_console, fail, platform
from biaodi.domain.analytics.tiers import parse_tiers
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.analytics import catalog, dashboards, export, report, spark, spark_base
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


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be a date YYYY-MM-DD, not {text!r}", 2)


@app.command("export")
def export_command(
    out: str = typer.Option("book", "--out", help="Folder to write the book into."),
) -> None:
    """The book every metric reads (users without personal data, listings, loans and their
    bucket history, investments, holdings, instalments, repayments, the secondary market,
    payment orders, accounts, journal entries and postings, guarantors' terms, pledged assets
    and risk decisions without personal details, …) as Parquet, one folder per table,
    partitioned by month (month=YYYY-MM)."""
    folder = Path(out)
    p = platform()
    try:
        with Progress(*_columns(), TextColumn("{task.fields[rows]} rows"),
                      console=err_console) as bar:
            task = bar.add_task("export", total=len(export.BOOK), rows=0)

            def progress(written: export.Written) -> None:
                bar.update(task, advance=1, description=written.table,
                           rows=bar.tasks[task].fields["rows"] + written.rows)

            with p.reader() as uow:
                done = export.export_book(uow, folder, progress)
    finally:
        p.close()
    console.print(f"book exported to {folder}: "
                  + ", ".join(f"{w.table} {w.rows}" for w in done))


_METRIC = typer.Option(None, "--metric", help="A metric by name (repeat; default: every one).")


@app.command("analytics")
def analytics_command(
    engine: str = typer.Option("spark", "--engine", help="spark (from an exported book) or "
                                                         "sql (from the database)."),
    book: str = typer.Option("book", "--book", help="The folder `biaodi export` wrote."),
    metric: list[str] | None = _METRIC,
    start: str = typer.Option(None, "--start", help="Period start YYYY-MM-DD."),
    end: str = typer.Option(None, "--end", help="Period end YYYY-MM-DD."),
    as_of: str = typer.Option(None, "--as-of", help="The day months count to (default today)."),
    grain: str = typer.Option(None, "--grain", help="day or month (active investors)."),
) -> None:
    """The metrics as JSON: with `--engine spark` computed by PySpark (local mode, the extra
    `spark`) from an exported book; with `--engine sql` from the database, for comparison."""
    if engine not in ("spark", "sql"):
        fail("--engine must be spark or sql", 2)
    names = metric or list(spark.SPARK_METRICS)
    params = {"start": _day(start, "--start"), "end": _day(end, "--end"),
              "as_of": _day(as_of, "--as-of"), "grain": grain}
    p = platform()
    results: dict[str, object] = {}
    try:
        tiers = parse_tiers(p.settings.analytics_tiers)
        if engine == "sql":
            with p.reader() as uow:
                for name in names:
                    results[name] = catalog.compute(uow, name, tiers=tiers, **params)
        else:
            try:
                ours = not spark_base.running()
                session = spark_base.start_session()
            except ImportError:
                fail("PySpark is not installed: pip install 'biaodi[spark]' (Java 17 on PATH)")
            try:
                with Progress(*_columns(), console=err_console) as bar:
                    task = bar.add_task("spark", total=len(names))
                    source = spark_base.Book(session, Path(book))
                    for name in names:
                        bar.update(task, description=name)
                        results[name] = spark.compute(source, name, today=p.clock.today(),
                                                      tiers=tiers, **params)
                        bar.advance(task)
            finally:
                if ours:  # a session the caller had started stays theirs
                    session.stop()
    except BiaodiError as error:
        fail(error.message, 2 if error.status in (404, 422) else 1)
    finally:
        p.close()
    console.print_json(json.dumps(results, ensure_ascii=False))
