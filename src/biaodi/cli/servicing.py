"""`biaodi close-day` and the other servicing commands (top-level commands of `biaodi`)."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from biaodi.adapters.clock import CST
from biaodi.cli.common import console, err_console, fail, platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.servicing.close_day import STEPS, DaySummary, close_day
from biaodi.services.servicing.collections import send_notices
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="Servicing: close of business, repayments, defaults.", no_args_is_help=True)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--date must be YYYY-MM-DD, not {value!r}", 2)


def _table(days: list[DaySummary]) -> Table:
    table = Table(title="close of business")
    table.add_column("step")
    for day in days:
        table.add_column(day.business_date.isoformat(), justify="right")
    for name in days[0].steps:
        table.add_row(name, *(str(d.steps.get(name, 0)) for d in days))
    table.add_row("auto-debits", *(str(d.figures.get("auto_debits", 0)) for d in days))
    return table


@app.command("close-day")
def close_day_command(
    day: str = typer.Option(None, "--date", help="Business date YYYY-MM-DD (default: today, "
                                                 "China Standard Time)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Close of business (日终): accrue interest, mark instalments due, auto-debit and
    distribute, penalties, overdue buckets, defaults by listing type, notices. Resumes a run
    that stopped; a day already closed changes nothing; missed days are closed first."""
    p = platform()
    target = _parse_date(day) or p.clock.today()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[loans]} loans"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err_console,
                      disable=not err_console.is_terminal) as bar:
            tasks: dict[str, int] = {}

            def progress(step: str, done: int, total: int, rows: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total, loans=0)
                task = tasks[step]
                bar.update(task, completed=done, loans=bar.tasks[task].fields["loans"] + rows)

            cmd = p.close_day_command(progress)
            for name in (*(step.name for step in STEPS), *(s.name for s in cmd.day_steps)):
                tasks[name] = bar.add_task(name, total=None, loans=0)
            days = close_day(cmd, target)
    except BiaodiError as error:
        fail(error.message, 2 if error.status == 422 else 1)
    finally:
        p.close()
    if as_json:
        console.print_json(json.dumps({"days": [d.as_dict() for d in days]}))
        return
    console.print(_table(days))
    for d in days:
        console.print(f"{d.business_date}: {d.status}"
                      f"{' (resumed)' if d.resumed else ''}; loans by bucket "
                      f"{d.figures.get('loans_by_bucket', {})}")


@app.command("close-day-scheduler")
def scheduler(
    at: str = typer.Option(None, help="Local time HH:MM to close each day (default from "
                                      "BIAODI_SERVICING_CLOSE_DAY_AT, 23:30)."),
    once: bool = typer.Option(False, help="Wait for the next run time, run once and exit."),
) -> None:
    """Run close of business every day at a local time (China Standard Time)."""
    p = platform()
    when = at or p.settings.servicing_close_day_at
    try:
        hour, minute = (int(x) for x in when.split(":"))
    except ValueError:
        fail(f"--at must be HH:MM, not {when!r}", 2)
    while True:
        now = p.clock.now().astimezone(CST)
        wait = (next_run(now, hour, minute) - now).total_seconds()
        console.print(f"next close of business in {wait:.0f} s")
        time.sleep(max(0.0, wait))
        days = close_day(p.close_day_command(), p.clock.now().astimezone(CST).date())
        console.print(f"closed {', '.join(d.business_date.isoformat() for d in days)}")
        if once:
            return


def next_run(now: datetime, hour: int, minute: int) -> datetime:
    """The next local time hour:minute at or after `now`."""
    run = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return run if run >= now else run + timedelta(days=1)


@app.command("send-notices")
def send_notices_command() -> None:
    """Send queued reminders and overdue notices within the rules of conduct."""
    p = platform()
    rules = p.servicing_rules
    result = in_transaction(p.uow, lambda uow: send_notices(uow, rules.conduct))
    p.close()
    console.print(result)
