"""`biaodi disclosure …`: publish a month's operating report, show a published one, list
what has been published, and keep the related parties with their dates (docs/DISCLOSURE.md)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import typer
from rich.table import Table

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.cli.common import console, fail, platform
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.errors import BiaodiError, InvalidInput
from biaodi.services.accounts import users
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


related = typer.Typer(help="Related parties (关联方) and the days they are related.",
                      no_args_is_help=True)
app.add_typer(related, name="related")

OPERATOR = typer.Option(..., "--operator", help="The user id of the operator recording it.")


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", field=field) from None


def _check_operator(uow: UnitOfWork, user_id: int) -> None:
    if Role.OPERATOR.value not in users.roles_of(uow, user_id):
        raise InvalidInput(f"user {user_id} is not an operator", field="operator")


def _print_party(r: dict[str, Any]) -> None:
    console.print(f"related party {r['id']}: user {r['user_id']} ({r['relation']}) from "
                  f"{r['since']} to {r['until'] or 'now'}", highlight=False)


@related.command("add")
def add_related(user_id: int = typer.Option(..., "--user", help="The related user's id."),
                relation: str = typer.Option(..., "--relation",
                                             help="e.g. shareholder, director's spouse"),
                since: str | None = typer.Option(None, "--since",
                                                 help="First day related, YYYY-MM-DD "
                                                      "(default today)."),
                until: str | None = typer.Option(None, "--until",
                                                 help="Last day related, YYYY-MM-DD, if known."),
                operator: int = OPERATOR) -> None:
    """Record a user as a related party from --since to --until (both days included)."""
    p = platform()
    try:
        first, last = _day(since, "since"), _day(until, "until")

        def record(uow: UnitOfWork) -> dict[str, Any]:
            _check_operator(uow, operator)
            return events.record_related_party(uow, user_id, relation, actor_id=operator,
                                               since=first, until=last)
        found = in_transaction(p.uow, record)
    except BiaodiError as error:
        fail(f"{error.field or 'user'}: {error.message}")
    finally:
        p.close()
    _print_party(found)


@related.command("end")
def end_related(party_id: int = typer.Argument(..., help="The related party's id."),
                until: str | None = typer.Option(None, "--until",
                                                 help="Last day related, YYYY-MM-DD "
                                                      "(default today)."),
                operator: int = OPERATOR) -> None:
    """End a relation: --until is its last related day."""
    p = platform()
    try:
        last = _day(until, "until")

        def end(uow: UnitOfWork) -> dict[str, Any]:
            _check_operator(uow, operator)
            return events.end_related_party(uow, party_id, last, actor_id=operator)
        found = in_transaction(p.uow, end)
    except BiaodiError as error:
        fail(f"{error.field or 'party_id'}: {error.message}")
    finally:
        p.close()
    _print_party(found)


@related.command("list")
def list_related() -> None:
    """Every recorded relation with its dates."""
    p = platform()
    try:
        with p.reader() as uow:
            rows = events.related_parties(uow)
    finally:
        p.close()
    table = Table("id", "user", "relation", "since", "until", "today")
    for r in rows:
        table.add_row(str(r["id"]), f"{r['user_id']} {r['username']}", r["relation"],
                      r["since"], r["until"] or "", "related" if r["current"] else "")
    console.print(table)
