"""`biaodi schedule`: print a loan's repayment schedule, as a table or as JSON.

Every option is read as text and checked here, so that any bad value exits with code 2 and
one line on stderr naming the option. Amounts go through `Money.parse`, the rate through
`Decimal`: no floats anywhere.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from biaodi.adapters.clock import clock_from_setting
from biaodi.cli.common import fail
from biaodi.config import get_settings
from biaodi.domain.listings.schedule import (
    DayCount,
    Instalment,
    RepaymentMethod,
    TermUnit,
    build_schedule,
)
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

#: Domain field → the option that feeds it, for error lines.
OPTION_OF_FIELD = {
    "amount": "--amount",
    "annual_rate": "--annual-rate",
    "term": "--term",
    "term_unit": "--term-unit",
    "method": "--method",
    "start": "--start",
    "day_count": "--day-count",
}
FORMATS = ("table", "json")
_E = TypeVar("_E", bound=StrEnum)
METHOD_NAMES = {
    RepaymentMethod.EQUAL_INSTALLMENT: "等额本息",
    RepaymentMethod.EQUAL_PRINCIPAL: "等额本金",
    RepaymentMethod.INTEREST_FIRST: "先息后本",
    RepaymentMethod.BULLET: "到期还本付息",
}

_PERCENT_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_TERM_RE = re.compile(r"^[0-9]{1,9}$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def schedule(
    amount: Annotated[
        str, typer.Option(help="Principal in yuan, at most two decimals: 100000 or 5000.50.")
    ],
    annual_rate: Annotated[
        str,
        typer.Option(
            "--annual-rate",
            help="Annual interest rate in PERCENT, 0 to below 100: 12 is 12 %; 7.5 is allowed.",
        ),
    ],
    term: Annotated[str, typer.Option(help="Length of the loan, in units of --term-unit.")],
    term_unit: Annotated[
        str,
        typer.Option("--term-unit", help="month (term 1-360) or day (term 1-3650)."),
    ] = TermUnit.MONTH.value,
    method: Annotated[
        str,
        typer.Option(
            help="equal_installment (等额本息), equal_principal (等额本金), interest_first"
            " (先息后本) or bullet (到期还本付息). A term in days must use bullet."
        ),
    ] = RepaymentMethod.EQUAL_INSTALLMENT.value,
    start: Annotated[
        str | None,
        typer.Option(help="Start (drawdown) date, YYYY-MM-DD. Default: today in Beijing."),
    ] = None,
    day_count: Annotated[
        str,
        typer.Option(
            "--day-count",
            help="Day count for terms in days: act365 (ACT/365, default) or 30/360"
            " (30/360 bond basis). Month terms always use annual rate ÷ 12.",
        ),
    ] = DayCount.ACT_365.value,
    output_format: Annotated[
        str, typer.Option("--format", help="table (readable, with totals) or json.")
    ] = "table",
) -> None:
    """Print the repayment schedule of a loan, exact to the fen."""
    fmt = output_format.strip().lower()
    if fmt not in FORMATS:
        _bad("--format", f"must be table or json (got {output_format!r})")
    money = _parse_amount(amount)
    rate = _parse_percent(annual_rate)
    months_or_days = _parse_term(term)
    unit = _choice(TermUnit, term_unit, "--term-unit")
    how = _choice(RepaymentMethod, method, "--method")
    convention = _choice(DayCount, day_count, "--day-count")
    start_date = _parse_date(start) if start is not None else _today()
    try:
        rows = build_schedule(money, rate, months_or_days, unit, how, start_date, convention)
    except InvalidInput as error:
        _bad_input(error)
    if fmt == "json":
        typer.echo(json.dumps([instalment_json(row) for row in rows], indent=2))
    else:
        _print_table(rows, heading=_heading(money, rate, how, rows, start_date))


def instalment_json(row: Instalment) -> dict[str, object]:
    """One instalment as the JSON contract has it: amounts as decimal strings, ISO dates."""
    return {
        "seq": row.seq,
        "due_date": row.due_date.isoformat(),
        "principal": str(row.principal),
        "interest": str(row.interest),
        "payment": str(row.payment),
        "balance": str(row.balance),
    }


# --- parsing ------------------------------------------------------------------------------


def _bad(option: str, message: str) -> NoReturn:
    fail(escape(f"{option}: {message}"), code=2)


def _bad_input(error: InvalidInput) -> NoReturn:
    """A domain refusal as one line: the option instead of the field name that opens it."""
    field = error.field or ""
    message = error.message.removeprefix(f"{field} ") if field else error.message
    _bad(OPTION_OF_FIELD.get(field, f"--{field.replace('_', '-')}"), message)


def _choice(enum: type[_E], text: str, option: str) -> _E:
    try:
        return enum(text.strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        _bad(option, f"must be one of {choices} (got {text[:40]!r})")


def _parse_amount(text: str) -> Money:
    try:
        return Money.parse(text, field="amount")
    except InvalidInput as error:
        _bad_input(error)


def _parse_percent(text: str) -> Decimal:
    """A percent as text ("12", "7.5") → a Decimal fraction (0.12, 0.075), exactly."""
    cleaned = text.strip()
    if not _PERCENT_RE.match(cleaned):
        _bad("--annual-rate", f"must be a percent such as 12 or 7.5 (got {text[:40]!r})")
    percent = Decimal(cleaned)
    if percent < 0:
        _bad("--annual-rate", f"must not be negative (got {cleaned})")
    if percent >= 100:
        _bad("--annual-rate", f"must be below 100 percent (got {cleaned})")
    return percent.scaleb(-2)


def _parse_term(text: str) -> int:
    cleaned = text.strip()
    if not _TERM_RE.match(cleaned):
        _bad("--term", f"must be a whole number of months or days (got {text[:40]!r})")
    return int(cleaned)


def _parse_date(text: str) -> date:
    cleaned = text.strip()
    try:
        if _DATE_RE.match(cleaned):
            return date.fromisoformat(cleaned)
    except ValueError:
        pass
    _bad("--start", f"must be a date as YYYY-MM-DD (got {text[:40]!r})")


def _today() -> date:
    return clock_from_setting(get_settings().fixed_now).today()


# --- presentation -------------------------------------------------------------------------


def _heading(
    money: Money, rate: Decimal, how: RepaymentMethod, rows: list[Instalment], start: date
) -> str:
    percent = format(rate.scaleb(2).normalize(), "f")
    return (
        f"{money.formatted()} yuan at {percent} % a year, {how.value} ({METHOD_NAMES[how]}),"
        f" {start.isoformat()} to {rows[-1].due_date.isoformat()}, {len(rows)} instalment(s)"
    )


def _print_table(rows: list[Instalment], heading: str) -> None:
    table = Table()
    table.add_column("#", justify="right")
    table.add_column("Due date")
    for name in ("Principal", "Interest", "Payment", "Balance"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            str(row.seq),
            row.due_date.isoformat(),
            row.principal.formatted(),
            row.interest.formatted(),
            row.payment.formatted(),
            row.balance.formatted(),
        )
    table.add_section()
    table.add_row(
        "",
        "Total",
        sum((row.principal for row in rows), Money.zero()).formatted(),
        sum((row.interest for row in rows), Money.zero()).formatted(),
        sum((row.payment for row in rows), Money.zero()).formatted(),
        "",
        style="bold",
    )
    console = Console()
    # Never squeeze or truncate an amount: widen past a narrow terminal instead.
    needed = Measurement.get(console, console.options.update_width(1000), table).maximum
    if needed > console.width:
        console = Console(width=needed)
    console.print(heading, highlight=False, soft_wrap=True)
    console.print(table)
