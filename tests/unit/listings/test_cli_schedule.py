"""`biaodi schedule`: JSON contract, readable table, and exit 2 with one line on bad input."""

from __future__ import annotations

import json
from datetime import date

import pytest
import typer
from typer.testing import CliRunner

from biaodi.cli import listings as schedule_module
from biaodi.cli.listings import schedule

app = typer.Typer()


@app.callback()
def main() -> None:
    """A stand-in for the real `biaodi` app, registering the command the same way."""


app.command("schedule")(schedule)

runner = CliRunner(env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "100"})

GOLDEN = [
    "schedule",
    "--amount",
    "100000",
    "--annual-rate",
    "12",
    "--term",
    "12",
    "--term-unit",
    "month",
    "--method",
    "equal_installment",
    "--start",
    "2026-01-15",
]


def run_json(*args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_json_contract() -> None:
    rows = run_json(*GOLDEN)
    assert len(rows) == 12
    assert rows[0] == {
        "seq": 1,
        "due_date": "2026-02-15",
        "principal": "7884.88",
        "interest": "1000.00",
        "payment": "8884.88",
        "balance": "92115.12",
    }
    assert rows[-1] == {
        "seq": 12,
        "due_date": "2027-01-15",
        "principal": "8796.88",
        "interest": "87.97",
        "payment": "8884.85",
        "balance": "0.00",
    }
    assert {row["payment"] for row in rows[:-1]} == {"8884.88"}


def test_decimal_percent_rate() -> None:
    rows = run_json(
        "schedule", "--amount", "200000", "--annual-rate", "7.5", "--term", "180",
        "--start", "2026-01-15",
    )  # fmt: skip
    assert len(rows) == 180
    assert rows[0]["payment"] == "1854.02" and rows[0]["interest"] == "1250.00"


def test_day_term_bullet_with_each_day_count() -> None:
    base = ["schedule", "--amount", "10000.00", "--annual-rate", "12", "--term", "30",
            "--term-unit", "day", "--method", "bullet", "--start", "2026-01-31"]  # fmt: skip
    act = run_json(*base)
    thirty = run_json(*base, "--day-count", "30/360")
    assert act == run_json(*base, "--day-count", "act365")
    assert [(r["due_date"], r["interest"]) for r in act] == [("2026-03-02", "98.63")]
    assert [(r["due_date"], r["interest"]) for r in thirty] == [("2026-03-02", "106.67")]


def test_other_methods_and_clamped_dates() -> None:
    rows = run_json(
        "schedule", "--amount", "3000", "--annual-rate", "0", "--term", "3",
        "--method", "equal_principal", "--start", "2028-01-31",
    )  # fmt: skip
    assert [(r["due_date"], r["principal"], r["interest"]) for r in rows] == [
        ("2028-02-29", "1000.00", "0.00"),
        ("2028-03-31", "1000.00", "0.00"),
        ("2028-04-30", "1000.00", "0.00"),
    ]
    first = run_json(
        "schedule", "--amount", "50000", "--annual-rate", "9.6", "--term", "2",
        "--method", "interest_first", "--start", "2026-01-15",
    )  # fmt: skip
    assert [r["payment"] for r in first] == ["400.00", "50400.00"]


def test_start_defaults_to_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule_module, "_today", lambda: date(2026, 8, 31))
    rows = run_json("schedule", "--amount", "1000", "--annual-rate", "12", "--term", "2")
    assert [r["due_date"] for r in rows] == ["2026-09-30", "2026-10-31"]


def test_today_is_a_date() -> None:
    assert isinstance(schedule_module._today(), date)


def test_table_has_rows_and_totals() -> None:
    result = runner.invoke(app, GOLDEN)  # --format table is the default
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert "100,000.00 yuan at 12 % a year, equal_installment (等额本息)" in out
    assert "2026-02-15" in out and "8,884.88" in out and "92,115.12" in out
    total = next(line for line in out.splitlines() if "Total" in line)
    for amount in ("100,000.00", "6,618.53", "106,618.53"):
        assert amount in total
    explicit = runner.invoke(app, [*GOLDEN, "--format", "table"])
    assert explicit.stdout == out


def test_table_never_truncates_amounts() -> None:
    narrow = CliRunner(env={"NO_COLOR": "1", "FORCE_COLOR": None, "COLUMNS": "40"})
    result = narrow.invoke(
        app,
        ["schedule", "--amount", "100000000", "--annual-rate", "99.99", "--term", "360",
         "--method", "bullet", "--start", "2026-01-31"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2,999,700,000.00" in result.stdout and "3,099,700,000.00" in result.stdout
    assert "…" not in result.stdout


def test_help_documents_the_options() -> None:
    result = runner.invoke(app, ["schedule", "--help"])
    assert result.exit_code == 0
    for text in ("--annual-rate", "PERCENT", "act365", "30/360", "--format", "json", "bullet"):
        assert text in result.stdout


BASE = ["schedule", "--amount", "1000", "--annual-rate", "12", "--term", "12"]


@pytest.mark.parametrize(
    ("changes", "option"),
    [
        (["--amount", "12.345"], "--amount"),
        (["--amount", "abc"], "--amount"),
        (["--amount", "-5"], "--amount"),
        (["--amount", "0"], "--amount"),
        (["--amount", "1e5"], "--amount"),
        (["--amount", "[bold]1"], "--amount"),
        (["--amount", "200000000"], "--amount"),
        (["--annual-rate", "-1"], "--annual-rate"),
        (["--annual-rate=-0.5"], "--annual-rate"),
        (["--annual-rate", "abc"], "--annual-rate"),
        (["--annual-rate", "1e1"], "--annual-rate"),
        (["--annual-rate", "NaN"], "--annual-rate"),
        (["--annual-rate", "100"], "--annual-rate"),
        (["--term", "0"], "--term"),
        (["--term", "12.5"], "--term"),
        (["--term", "361"], "--term"),
        (["--term-unit", "week"], "--term-unit"),
        (["--method", "balloon"], "--method"),
        (["--term-unit", "day", "--term", "30"], "--method"),
        (["--term-unit", "day", "--term", "30", "--method", "equal_principal"], "--method"),
        (["--term-unit", "day", "--term", "3651", "--method", "bullet"], "--term"),
        (["--start", "2026-02-30"], "--start"),
        (["--start", "2026/01/15"], "--start"),
        (["--start", "yesterday"], "--start"),
        (["--day-count", "act/360"], "--day-count"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(changes: list[str], option: str) -> None:
    result = runner.invoke(app, [*BASE, *changes])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert option in lines[0]
    assert lines[0].startswith("error: ")


@pytest.mark.parametrize(
    "args",
    [
        ["schedule", "--annual-rate", "12", "--term", "12"],  # --amount missing
        [*BASE, "--bogus"],
        [*BASE, "--term"],
        [*BASE, "extra"],
    ],
)
def test_typer_usage_errors_also_exit_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
