"""Spark and SQL agree to the fen: one small hand-built book on each database, exported with
`biaodi export` (Parquet by month), every one of the 26 metrics read both ways and compared
whole; the CLI's Spark engine gives the same JSON. One Spark session for the module; skipped
where PySpark or Java is missing (the `spark` extra, which the test command installs).

The book (through the services and close of business with the day steps, day by day):
- 2026-08-01: `good` 信用标 (6 months interest-first, grade A, its borrower pays on time), `bad`
  信用标 (grade B, never paid: written off at M3+ on 2026-12-01, then 5,000.00 recovered on
  2026-12-10) and `backed` 担保标 (never paid: its guarantor compensates holders), each borrower
  with a risk decision on file;
- 2026-10-05 a holder of `good` offers 1,000.00 of principal at a 2 % discount, bought
  2026-10-08 (a transfer fee: platform income);
- 2026-11-28: A signs up from the WeChat campaign 双十一 (its cost recorded), B from search
  ads, C organic; A and B answer the questionnaire; A deposits 50,000.00 by mobile and B
  1,000.00 through a third party; a 信用标 (3 months, 6 %), a 担保标 (1 month, 8 %), a 抵押标
  secured by a car (LTV 1/3) and a 流转标 with a 2,000.00 buy-back reserve are funded by three
  investors each; A invests 2,000.00 in a listing still open;
- 2026-12-02: B invests 500.00 in it;
- the book is read after the close of 2027-01-05: the November loans unpaid, past due since
  2026-12-28.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from biaodi.adapters.db.tables import Listing
from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.analytics.tiers import DEFAULT_TIERS, parse_tiers
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.analytics import campaigns, catalog, export, spark, spark_base
from biaodi.services.investing import suitability
from biaodi.services.payments import orders as payments
from biaodi.services.payments.orders import StartPayment
from biaodi.services.secondary import purchases, sales
from biaodi.services.servicing.close_day import CloseDay, close_day
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from disclosure_support import decided
from factories import identity
from investing_support import AGGRESSIVE, invest, investor, published_listing, user
from payment_support import gateway_event
from servicing_support import INVESTING, Loan, funded_loan, guarantor, pay_in, servicing_rules

pyspark = pytest.importorskip("pyspark", reason="the spark extra: pip install -e '.[spark]'")
#: Five months of close of business build the book (minutes on two shared cores), and the
#: first test pays for it; Spark's jobs are slow to start on a loaded machine.
pytestmark = pytest.mark.timeout(900)
END = date(2027, 1, 5)
FIRST = date(2026, 8, 1)
TIERS = parse_tiers(DEFAULT_TIERS)


def at(platform: Platform, day: date) -> None:
    platform.clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


def close_through(platform: Platform, day: date) -> None:
    """Close of business through `day`, with the day steps (the bucket history among them)."""
    close_day(CloseDay(platform.engine, platform.clock, servicing_rules(platform), INVESTING,
                       day_steps=platform.day_steps), day)


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("Java 17 is not on PATH: PySpark needs it")
    started = spark_base.start_session()
    yield started
    started.stop()


#: The book whose tables are the session's views now (views are the session's, not a book's).
_VIEWS: dict[str, Any] = {}


@pytest.fixture
def source(book: Path, session: Any) -> spark_base.Book:
    """The module's book as the session's views, read once per database's book."""
    if _VIEWS.get("folder") != book:
        _VIEWS.update(folder=book, book=spark_base.Book(session, book))
    return _VIEWS["book"]


def _sign_up(platform: Platform, channel: str | None, campaign: str | None = None) -> int:
    cmd = users.Register(**identity(), roles=("investor",), channel=channel, campaign=campaign)
    return in_transaction(platform.uow, lambda uow: users.register(
        uow, cmd, platform.cipher)).id


def _deposit(platform: Platform, who: int, amount: str, channel: str) -> None:
    order = in_transaction(platform.uow, lambda uow: payments.start_deposit(
        uow, StartPayment(who, Money.parse(amount), channel)))
    in_transaction(platform.uow, lambda uow: payments.apply_event(
        uow, gateway_event(order.order_no, amount), source="callback"))


def _graded(platform: Platform, loan: Loan, grade: str, pd_ppm: int, card_ppm: int) -> None:
    """The decision the loan was priced on (made the day before) and the grade it gave."""
    decided(platform, loan.applicant, grade=grade, pd_ppm=pd_ppm, expected_ppm=card_ppm,
            at=platform.clock.now() - timedelta(days=1))
    with platform.uow() as uow:
        uow.s.execute(update(Listing).where(Listing.id == loan.listing_id).values(grade=grade))
        uow.commit()


def _early_block(platform: Platform) -> Loan:
    """August 2026: three loans — one paid on time, one left for write-off, one compensated by
    its guarantor — and a claim sold on the secondary market in October."""
    at(platform, FIRST)
    good = funded_loan(platform, "credit", rate="0.09", term=6, method="interest_first")
    pay_in(platform, good.payer, 200_000)  # more than its interest
    bad = funded_loan(platform, "credit")
    funded_loan(platform, "guarantee", guarantor_id=guarantor(platform, days=3))
    _graded(platform, good, "A", 20_000, 25_000)
    _graded(platform, bad, "B", 100_000, 80_000)
    close_through(platform, FIRST)
    at(platform, date(2026, 10, 5))
    close_through(platform, date(2026, 10, 4))
    secondary = replace(platform.secondary_rules, servicing=platform.servicing_rules)
    sale = in_transaction(platform.uow, lambda uow: sales.offer(uow, sales.Offer(
        good.holdings[0], good.investors[0], Decimal("-0.02"), Money.yuan(1_000)), secondary))
    at(platform, date(2026, 10, 8))
    close_through(platform, date(2026, 10, 7))
    buyer = investor(platform, 5_000)
    in_transaction(platform.uow, lambda uow: purchases.buy(
        uow, purchases.Buy(sale.id, buyer, None, None), secondary))
    at(platform, date(2026, 11, 28))
    close_through(platform, date(2026, 11, 27))
    return bad


@pytest.fixture(scope="module")
def book(book_platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    platform = book_platform
    bad = _early_block(platform)
    a, b = _sign_up(platform, "wechat", "双十一"), _sign_up(platform, "search_ads")
    _sign_up(platform, None)
    in_transaction(platform.uow, lambda uow: campaigns.record_campaign(
        uow, campaigns.RecordCampaign("双十一", "wechat", Money.yuan(3_000)),
        actor_id=user(platform, "operator")))
    for who in (a, b):
        in_transaction(platform.uow, lambda uow, w=who: suitability.assess(uow, w, AGGRESSIVE))
    _deposit(platform, a, "50000.00", "mobile")
    _deposit(platform, b, "1000.00", "third_party")
    funded_loan(platform, "credit")
    funded_loan(platform, "guarantee", term=1, rate="0.08")
    funded_loan(platform, "collateral")
    funded_loan(platform, "transfer", reserve_yuan=2_000)
    open_listing = published_listing(platform, INVESTING, amount=100_000)
    invest(platform, INVESTING, open_listing, a, 2_000)
    close_through(platform, date(2026, 11, 28))
    at(platform, date(2026, 12, 2))
    invest(platform, INVESTING, open_listing, b, 500)
    at(platform, date(2026, 12, 10))
    close_through(platform, date(2026, 12, 9))
    pay_in(platform, bad.payer, 500_000)  # recovered after the write-off
    at(platform, END)
    close_through(platform, END)
    folder = tmp_path_factory.mktemp("book")
    with platform.reader() as uow:
        written = export.export_book(uow, folder)
    assert {w.table: w.rows for w in written}["investments"] == INVESTMENTS
    assert (folder / "investments" / "month=2026-12").is_dir()
    return folder


#: three tickets for each of the seven loans funded, A's and B's in the open listing
INVESTMENTS = 7 * 3 + 2
WHOLE = {"start": FIRST, "end": END}
CASES = [
    ("funnel", {}), ("funnel", {"start": date(2026, 11, 1), "end": date(2026, 11, 30)}),
    ("active-investors", {**WHOLE, "grain": "day"}),
    ("active-investors", {**WHOLE, "grain": "month"}),
    ("cohort-retention", WHOLE), ("average-ticket", WHOLE),
    ("investors-by-tier", {"as_of": END}), ("borrowers-by-grade", {}),
    ("cost-per-investor", {}),
    ("volume", WHOLE), ("volume-by-vertical", WHOLE), ("weighted-rates", WHOLE),
    ("funding-time", WHOLE), ("auto-invest-share", WHOLE), ("secondary-market", WHOLE),
    ("outstanding-principal", {}), ("overdue-by-bucket", {}), ("bad-debt-rate", {}),
    ("vintage-curves", {"as_of": END}),
    ("roll-rates", {"start": date(2026, 10, 1), "end": END}),
    ("grade-calibration", {}), ("losses-and-recoveries", {}), ("guarantors", {}),
    ("buyback-coverage", {}), ("collateral-ltv", {}),
    ("payments-by-channel", WHOLE), ("platform-income", WHOLE),
    ("custody-against-wallets", {}),
]


def _sorted(value: Any) -> Any:
    """Rows in one order (the databases may collate text differently from Spark)."""
    if isinstance(value, list):
        return sorted(value, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))
    return value


def _something(value: Any) -> bool:
    """Whether a metric's answer holds a figure other than 0 (a count, fen or a rate)."""
    if isinstance(value, dict):
        return any(_something(v) for v in value.values())
    if isinstance(value, list):
        return any(_something(v) for v in value)
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value != 0
    return isinstance(value, str) and value.replace(".", "").replace("0", "").isdigit()


def test_every_metric_is_computed_on_spark() -> None:
    assert {name for name, _ in CASES} == set(spark.SPARK_METRICS) == set(catalog.METRICS)
    assert list(spark.SPARK_METRICS) == list(catalog.METRICS)


@pytest.mark.parametrize(("name", "params"), CASES, ids=[
    f"{name}-{'-'.join(str(v) for v in params.values()) or 'all'}" for name, params in CASES])
def test_spark_and_sql_agree_to_the_fen(book_platform: Platform, source: spark_base.Book,
                                        name: str, params: dict[str, Any]) -> None:
    with book_platform.reader() as uow:
        by_sql = catalog.compute(uow, name, tiers=TIERS, **params)
    by_spark = spark.compute(source, name, today=END, tiers=TIERS, **params)
    assert _sorted(by_spark) == _sorted(by_sql)
    assert _something(by_sql), "the book must give it something"


def test_the_book_is_as_described(book_platform: Platform, book: Path) -> None:
    platform = book_platform
    with platform.reader() as uow:
        def of(name: str, **params: Any) -> Any:
            return catalog.compute(uow, name, tiers=TIERS, **params)
        buckets = {r["bucket"]: r["loans"] for r in of("overdue-by-bucket")}
        losses = of("losses-and-recoveries")
        calibration = {r["grade"]: r["defaulted"] for r in of("grade-calibration")}
        ltv = {r["band"]: r["loans"] for r in of("collateral-ltv")}
        rolls = {r["to"] for r in of("roll-rates", start=date(2026, 10, 1), end=END)}
        buyback = of("buyback-coverage")
        guarantors = of("guarantors")
        cost = of("cost-per-investor")
        income = of("platform-income", **WHOLE)
        verticals = {r["vertical"] for r in of("volume-by-vertical", **WHOLE)}
    assert buckets["M1"] >= 4  # the November loans are past due
    assert [(r["kind"], r["recovered_fen"]) for r in losses] == [("credit", 500_000)]
    assert losses[0]["written_off_fen"] > 0
    assert calibration == {"A": 0, "B": 1}
    assert ltv["30-50%"] == 1
    assert "written_off" in rolls
    assert [(r["loans"], r["reserve_fen"]) for r in buyback] == [(1, 200_000)]
    assert sum(r["compensations"] for r in guarantors) >= 3
    assert [(r["campaign"], r["investors"], r["per_investor_fen"]) for r in cost] == [
        ("双十一", 1, 300_000)]
    assert any(r["fee_type"] == "secondary_transfer" and r["income_fen"] > 0 for r in income)
    assert "car" in verticals


def test_the_commands(book_platform: Platform, book: Path, session: Any, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIAODI_DATABASE_URL", book_platform.settings.database_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", book_platform.clock.now().isoformat())
    runner = CliRunner()
    _VIEWS.clear()  # the command reads its own export into the session's views
    exported = runner.invoke(app, ["export", "--out", str(tmp_path / "book")])
    assert exported.exit_code == 0, exported.output
    assert f"investments {INVESTMENTS}" in exported.stdout
    people = pq.read_table(tmp_path / "book" / "users")  # no personal data leaves
    assert sorted(people.column_names) == ["acquisition_campaign", "acquisition_channel",
                                           "created_at", "id", "month", "status"]
    assert sorted(set(people.column("month").to_pylist())) == ["2026-08", "2026-10", "2026-11"]
    assert "answers" not in pq.read_table(tmp_path / "book" / "risk_assessments").column_names
    assets = pq.read_table(tmp_path / "book" / "pledged_assets").column_names
    assert not {"description", "plate_number", "registration_certificate_no"} & set(assets)
    assert sorted(pq.read_table(tmp_path / "book" / "risk_decisions").column_names) == [
        "application_id", "decided_at", "expected_default_ppm", "grade", "id", "month",
        "outcome", "pd_ppm", "user_id"]
    args = ["--metric", "volume", "--metric", "overdue-by-bucket", "--metric", "guarantors",
            "--metric", "investors-by-tier", "--start", "2026-11-01"]
    by_spark = runner.invoke(app, ["analytics", "--engine", "spark", "--book",
                                   str(tmp_path / "book"), *args])
    assert by_spark.exit_code == 0, by_spark.output
    by_sql = runner.invoke(app, ["analytics", "--engine", "sql", *args])
    assert json.loads(by_spark.stdout) == json.loads(by_sql.stdout)
    assert json.loads(by_sql.stdout)["volume"][0]["funded_fen"] > 0
    assert json.loads(by_sql.stdout)["guarantors"][0]["compensations"] > 0
    refused = runner.invoke(app, ["analytics", "--book", str(tmp_path / "book"),
                                  "--metric", "no-such-metric"])
    assert refused.exit_code == 2 and "no metric 'no-such-metric'" in refused.output
    assert session.sparkContext._jsc is not None  # the module's session still runs
