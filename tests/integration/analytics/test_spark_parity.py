"""Spark and SQL agree to the fen: one small hand-built book on each database, exported with
`biaodi export` (Parquet by month), every metric Spark computes read both ways and compared
whole; the CLI's Spark engine gives the same JSON. One Spark session for the module; skipped
where PySpark or Java is missing (the `spark` extra, which the test command installs).

The book (through the services and close of business):
- 2026-11-28: A signs up from the WeChat campaign 双十一, B from search ads, C organic; A and B
  answer the questionnaire; A deposits 50,000.00 by mobile and B 1,000.00 through a third
  party; a 信用标 (3 months, 6 %) and a 担保标 (1 month, 8 %) are funded by three investors each; A
  invests 2,000.00 in a listing still open;
- 2026-12-02: B invests 500.00 in it;
- the book is read after the close of 2027-01-05: both loans unpaid, past due since 2026-12-28.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.analytics import catalog, export, spark, spark_base
from biaodi.services.investing import suitability
from biaodi.services.payments import orders as payments
from biaodi.services.payments.orders import StartPayment
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from factories import identity
from investing_support import AGGRESSIVE, invest, published_listing
from payment_support import gateway_event
from servicing_support import INVESTING, funded_loan, run_close

pyspark = pytest.importorskip("pyspark", reason="the spark extra: pip install -e '.[spark]'")
END = date(2027, 1, 5)


def at(platform: Platform, day: date) -> None:
    platform.clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("Java 17 is not on PATH: PySpark needs it")
    started = spark_base.start_session()
    yield started
    started.stop()


def _sign_up(platform: Platform, channel: str | None, campaign: str | None = None) -> int:
    cmd = users.Register(**identity(), roles=("investor",), channel=channel, campaign=campaign)
    return in_transaction(platform.uow, lambda uow: users.register(
        uow, cmd, platform.cipher)).id


def _deposit(platform: Platform, who: int, amount: str, channel: str) -> None:
    order = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, StartPayment(who, Money.parse(amount), channel)))
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(order.order_no, amount), source="callback"))


@pytest.fixture(scope="module")
def book(book_platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    platform = book_platform
    at(platform, date(2026, 11, 28))
    a, b = _sign_up(platform, "wechat", "双十一"), _sign_up(platform, "search_ads")
    _sign_up(platform, None)
    for who in (a, b):
        in_transaction(platform.uow, lambda uow, w=who: suitability.assess(uow, w, AGGRESSIVE))
    _deposit(platform, a, "50000.00", "mobile")
    _deposit(platform, b, "1000.00", "third_party")
    funded_loan(platform, "credit")
    funded_loan(platform, "guarantee", term=1, rate="0.08")
    open_listing = published_listing(platform, INVESTING, amount=100_000)
    invest(platform, INVESTING, open_listing, a, 2_000)
    run_close(platform)
    at(platform, date(2026, 12, 2))
    invest(platform, INVESTING, open_listing, b, 500)
    at(platform, END)
    run_close(platform, END)
    folder = tmp_path_factory.mktemp("book")
    with platform.reader() as uow:
        written = export.export_book(uow, folder)
    assert {w.table: w.rows for w in written}["investments"] == 8
    assert (folder / "investments" / "month=2026-12").is_dir()
    return folder


CASES = [
    ("funnel", {}), ("funnel", {"start": date(2026, 11, 1), "end": date(2026, 11, 30)}),
    ("active-investors", {"start": date(2026, 11, 1), "end": END, "grain": "day"}),
    ("active-investors", {"start": date(2026, 11, 1), "end": END, "grain": "month"}),
    ("cohort-retention", {"start": date(2026, 11, 1), "end": END}),
    ("average-ticket", {"start": date(2026, 11, 1), "end": END}),
    ("volume", {"start": date(2026, 11, 1), "end": END}),
    ("weighted-rates", {"start": date(2026, 11, 1), "end": END}),
    ("funding-time", {"start": date(2026, 11, 1), "end": END}),
    ("auto-invest-share", {"start": date(2026, 11, 1), "end": END}),
    ("outstanding-principal", {}), ("overdue-by-bucket", {}), ("bad-debt-rate", {}),
    ("vintage-curves", {"as_of": END}),
    ("payments-by-channel", {"start": date(2026, 11, 1), "end": END}),
]


def _sorted(value: Any) -> Any:
    """Rows in one order (the databases may collate text differently from Spark)."""
    if isinstance(value, list):
        return sorted(value, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))
    return value


def test_spark_and_sql_agree_to_the_fen(book_platform: Platform, book: Path,
                                        session: Any) -> None:
    assert {name for name, _ in CASES} == set(spark.SPARK_METRICS)
    source = spark_base.Book(session, book)
    with book_platform.reader() as uow:
        for name, params in CASES:
            by_sql = catalog.compute(uow, name, tiers=(), **params)
            by_spark = spark.compute(source, name, today=END, **params)
            assert _sorted(by_spark) == _sorted(by_sql), name
            assert by_sql not in ([], None), f"{name}: the book must give it something"
    buckets = {r["bucket"]: r for r in catalog_of(book_platform, "overdue-by-bucket")}
    assert buckets["M1"]["loans"] == 2  # the book is not trivially current


def catalog_of(platform: Platform, name: str) -> Any:
    with platform.reader() as uow:
        return catalog.compute(uow, name, tiers=())


def test_the_commands(book_platform: Platform, book: Path, session: Any, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIAODI_DATABASE_URL", book_platform.settings.database_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", book_platform.clock.now().isoformat())
    runner = CliRunner()
    exported = runner.invoke(app, ["export", "--out", str(tmp_path / "book")])
    assert exported.exit_code == 0, exported.output
    assert "investments 8" in exported.stdout
    people = pq.read_table(tmp_path / "book" / "users")  # no personal data leaves
    assert sorted(people.column_names) == ["acquisition_campaign", "acquisition_channel",
                                           "created_at", "id", "month", "status"]
    assert sorted(set(people.column("month").to_pylist())) == ["2026-11"]
    assert "answers" not in pq.read_table(tmp_path / "book" / "risk_assessments").column_names
    args = ["--metric", "volume", "--metric", "overdue-by-bucket", "--start", "2026-11-01"]
    by_spark = runner.invoke(app, ["analytics", "--engine", "spark", "--book",
                                   str(tmp_path / "book"), *args])
    assert by_spark.exit_code == 0, by_spark.output
    by_sql = runner.invoke(app, ["analytics", "--engine", "sql", *args])
    assert json.loads(by_spark.stdout) == json.loads(by_sql.stdout)
    assert json.loads(by_sql.stdout)["volume"][0]["funded_fen"] > 0
    refused = runner.invoke(app, ["analytics", "--book", str(tmp_path / "book"),
                                  "--metric", "guarantors"])
    assert refused.exit_code == 2 and "not computed on Spark" in refused.output
    assert session.sparkContext._jsc is not None  # the module's session still runs
