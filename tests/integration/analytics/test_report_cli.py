"""`biaodi report --month … --out …` on a one-loan book, on both databases: one HTML file that
loads nothing from outside (Plotly's bundle written into it), and every panel's table as CSV
and Parquet with the exact figures (fen as integers, rates as decimals)."""

from __future__ import annotations

import csv
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from biaodi.adapters.clock import FixedClock
from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.services.analytics import dashboards
from conftest import TEST_KEY
from servicing_support import TICKETS, funded_loan, run_close


class _Links(HTMLParser):
    """Every src and href of the document's elements (a script's text is not an element)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script" and ("type", "application/json") not in attrs
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "data")]


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch, clock: FixedClock):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", clock.now().isoformat())
    return lambda *args: CliRunner().invoke(app, list(args))


def test_the_report_is_one_offline_file_and_exact_tables(run, platform: Platform,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    loan = funded_loan(platform, "credit")
    run_close(platform)
    out = tmp_path / "report"
    done = run("report", "--month", "2026-11", "--out", str(out))
    assert done.exit_code == 0, done.output
    page = (out / "report-2026-11.html").read_text(encoding="utf-8")
    links = _Links()
    links.feed(page)
    assert links.links == [] and links.scripts == 2  # code: the bundle and our chart script, inline
    assert "Plotly" in page and len(page) > 4_000_000
    assert "2026-11 月度运营报告" in page and 'id="chart-volume-figure"' in page
    assert "暂无数据" in page  # at least the roll rates or an empty panel say so

    expected = {p.table.name for p in _panels(platform)}
    assert {f.stem for f in out.glob("*.csv")} == expected
    assert {f.stem for f in out.glob("*.parquet")} == expected
    with (out / "volume-by-month.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["month", "loans", "funded_fen"] and len(rows) == 13
    assert rows[-1] == ["2026-11", "1", str(sum(TICKETS) * 100)]
    volume = pq.read_table(out / "volume-by-month.parquet")
    assert volume.schema.field("funded_fen").type == pa.int64()
    assert volume.column("funded_fen").to_pylist()[-1] == sum(TICKETS) * 100
    cohorts = pq.read_table(out / "cohort-retention.parquet").to_pylist()
    assert cohorts == [{"cohort": "2026-11", "months_since": 0, "cohort_size":
                        len(loan.investors), "active": len(loan.investors),
                        "retention": Decimal("1.000000")}]

    english = run("report", "--month", "2026-11", "--out", str(out), "--lang", "en")
    assert english.exit_code == 0, english.output
    assert "Operations report, 2026-11" in (out / "report-2026-11.html").read_text("utf-8")
    bad = run("report", "--month", "2026/11", "--out", str(out))
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def _panels(platform: Platform) -> list[dashboards.Panel]:
    with platform.reader() as uow:
        return list(dashboards.panels(uow, dashboards.parse_month("2026-11"), ()))
