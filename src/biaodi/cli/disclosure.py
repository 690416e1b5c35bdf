"""`biaodi disclosure …`: publish a month's operating report, show a published one, list
what has been published (docs/DISCLOSURE.md)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from biaodi.cli.common import console, fail, platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.disclosure import events, public, report
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="Information disclosure (信息披露): the monthly operating reports.",
                  no_args_is_help=True)

MONTH = typer.Option(..., "--month", help="The month, YYYY-MM (e.g. 2026-10).")


def _print(found: report.Published) -> None:
    status = "[red]LATE[/red]" if found.late else "on time"
    console.print(f"report {found.month} as of {found.as_of}: due {found.due_on}, published "
                  f"{found.published_on} ({status}) by {found.published_by}")
    table = Table("figure", "value", "formula")
    for f in found.content["figures"]:
        value = f["value"]
        if f["unit"] == "fen" and value is not None:
            value = f"{value // 100:,}.{value % 100:02d}"
        table.add_row(f"{f['label_zh']} {f['label_en']}", str(value), f["formula_en"])
    console.print(table)


@app.command()
def publish(month: str = MONTH) -> None:
    """Publish the report on a closed month that close of business has not published (it
    publishes each month on its last day); flagged late after the 5th working day."""
    p = platform()
    try:
        schedule = public.fee_schedule(p.settings)
        found = in_transaction(p.uow, lambda uow: report.publish(
            uow, month, schedule, by="cli"))
    except BiaodiError as error:
        fail(f"{error.field or 'month'}: {error.message}")
    finally:
        p.close()
    _print(found)


@app.command()
def show(month: str = MONTH,
         as_json: bool = typer.Option(False, "--json", help="The report as JSON.")) -> None:
    """A published report: every figure with its formula."""
    p = platform()
    try:
        with p.reader() as uow:
            found = report.get(uow, month)
    except BiaodiError as error:
        fail(error.message)
    finally:
        p.close()
    if as_json:
        console.print_json(json.dumps(found.as_dict(), ensure_ascii=False))
    else:
        _print(found)


@app.command("list")
def list_reports() -> None:
    """Published reports and the latest major events, each with its lateness."""
    p = platform()
    try:
        with p.reader() as uow:
            reports, recent = report.published(uow), events.events(uow, limit=20)
    finally:
        p.close()
    table = Table("month", "due", "published", "late")
    for r in reports:
        table.add_row(r["month"], r["due_on"], r["published_on"], "yes" if r["late"] else "")
    console.print(table)
    for e in recent:
        console.print(f"event {e['id']} {e['kind']}: {e['title']} (happened "
                      f"{e['occurred_at']}, recorded {e['recorded_at']}"
                      f"{', LATE' if e['late'] else ''})", highlight=False)
