"""The book as Parquet, partitioned by month (`biaodi export --out book/`): one folder per
table, `book/<table>/month=YYYY-MM/…parquet` (Hive-style, which Spark, pyarrow and DuckDB
read as a `month` column). The month is the one of the table's own date column in China
Standard Time (a timestamp's business day); a table without one (`user_roles`,
`servicing_positions`, `guarantor_profiles`) sits under `month=all`, and `postings` take their
journal entry's business date. Money stays integer fen (int64); dates are dates, timestamps UTC.

The tables are those the metrics read (`spark.py`, `spark_users.py`, `spark_risk.py`): users
and roles, questionnaires, campaigns, listings, servicing (loans, positions, instalments, the
bucket history), investments and holdings, repayments (which carry the guarantor's
compensation, the originator's buy-back, disposal proceeds and recoveries), the secondary
market's offers and purchases, payment orders, the ledger (accounts, journal entries and
postings: fees, buy-back reserves, custody), guarantors' terms, pledged assets and risk
decisions.

Personal data stays behind: of `users` only the id, status, registration time and acquisition
channel and campaign are written (never names, mobiles, ID numbers or password hashes); of
risk assessments not the answers; of payment orders not the gateway's pay URL; of pledged
assets not the description, plate number or registration certificate number; of risk decisions
only the outcome, grade and default rates (not the inputs, score, reasons or rules fired); of
guarantors only the terms.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, Select, select
from sqlalchemy.types import JSON, TypeEngine

from biaodi.adapters.clock import CST
from biaodi.adapters.db.schema import Base
from biaodi.services.analytics.common import UnitOfWork

#: Rows fetched and written at a time (a file per chunk and month).
CHUNK = 50_000
ALL = "all"


@dataclass(frozen=True)
class Export:
    table: str
    month_of: str | None  # the column whose month partitions the rows
    columns: tuple[str, ...] | None = None  # None: every column
    #: postings: the business date of the journal entry they belong to
    via_entry: bool = False


BOOK: tuple[Export, ...] = (
    Export("users", "created_at",
           ("id", "status", "created_at", "acquisition_channel", "acquisition_campaign")),
    Export("user_roles", None),
    Export("risk_assessments", "assessed_at",
           ("id", "investor_id", "score", "level", "assessed_at", "valid_until")),
    Export("campaigns", "recorded_at"),
    Export("listings", "created_at"),
    Export("loan_servicing", "onboarded_on"),
    Export("servicing_positions", None),
    Export("loan_instalments", "due_date"),
    Export("investments", "subscribed_on"),
    Export("holdings", "interest_start"),
    Export("repayments", "business_date"),
    Export("secondary_purchases", "business_date"),
    Export("payment_orders", "business_date",
           ("id", "order_no", "user_id", "role", "kind", "channel", "amount_fen", "status",
            "txn_id", "settled_fen", "failure_reason", "business_date", "created_at",
            "updated_at")),
    Export("journal_entries", "business_date",
           ("id", "kind", "memo", "actor_id", "business_date", "created_at")),
    Export("postings", "business_date", via_entry=True),
    Export("accounts", "created_at"),
    Export("bucket_history", "business_date"),
    Export("secondary_sales", "listed_on"),
    Export("guarantor_profiles", None,
           ("user_id", "name", "capacity_fen", "fee_rate_ppm", "compensation_days")),
    Export("pledged_assets", "appraised_on",
           ("id", "listing_id", "asset_class", "appraisal_value_fen", "appraised_on",
            "appraiser")),
    Export("risk_decisions", "decided_at",
           ("id", "application_id", "user_id", "outcome", "grade", "pd_ppm",
            "expected_default_ppm", "decided_at")),
)


def arrow_type(kind: TypeEngine[Any]) -> pa.DataType:
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(kind, Date):
        return pa.date32()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Numeric):
        return pa.decimal128(kind.precision or 38, kind.scale or 0)
    return pa.string()  # strings, text, JSON (as its text)


def _month(value: date | datetime | None) -> str:
    if value is None:
        return ALL
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(CST).date()
    return value.strftime("%Y-%m")


def _plain(kind: TypeEngine[Any]) -> Callable[[Any], Any]:
    if isinstance(kind, JSON):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False,
                                                           sort_keys=True)
    if isinstance(kind, DateTime):
        return lambda v: None if v is None else (v if v.tzinfo else v.replace(tzinfo=UTC))
    return lambda v: v


def _statement(spec: Export) -> tuple[Select[Any], list[tuple[str, TypeEngine[Any]]]]:
    table = Base.metadata.tables[spec.table]
    columns = [table.c[n] for n in spec.columns] if spec.columns else list(table.c)
    chosen = [(c.name, c.type) for c in columns]
    if spec.via_entry:
        entries = Base.metadata.tables["journal_entries"]
        statement = (select(*columns, entries.c.business_date)
                     .join(entries, entries.c.id == table.c.entry_id))
        chosen.append(("business_date", entries.c.business_date.type))
    else:
        statement = select(*columns)
    key = table.primary_key.columns.values()
    return statement.order_by(*key), chosen


@dataclass(frozen=True)
class Written:
    table: str
    rows: int
    months: int


def export_table(uow: UnitOfWork, spec: Export, out: Path) -> Written:
    """One table under `out/<table>/month=…/`, replacing what an earlier export left there."""
    folder = out / spec.table
    if folder.exists():
        shutil.rmtree(folder)
    statement, chosen = _statement(spec)
    schema = pa.schema([(n, arrow_type(k)) for n, k in chosen])
    converters = [_plain(k) for _, k in chosen]
    at = [n for n, _ in chosen].index(spec.month_of) if spec.month_of else None
    rows = 0
    months: set[str] = set()
    for number, part in enumerate(uow.s.execute(statement).yield_per(CHUNK).partitions()):
        by_month: dict[str, list[list[Any]]] = {}
        for row in part:
            month = _month(row[at]) if at is not None else ALL
            by_month.setdefault(month, []).append([f(v) for f, v in zip(converters, row,
                                                                         strict=True)])
        for month, found in by_month.items():
            columns = list(zip(*found, strict=True))
            batch = pa.table([pa.array(list(c), type=t) for c, t in zip(columns, schema.types,
                                                                       strict=True)],
                             schema=schema)
            target = folder / f"month={month}"
            target.mkdir(parents=True, exist_ok=True)
            pq.write_table(batch, target / f"part-{number:05d}.parquet")
            months.add(month)
            rows += len(found)
    if not rows:  # an empty table still says what its columns are
        target = folder / f"month={ALL}"
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(schema.empty_table(), target / "part-00000.parquet")
    return Written(spec.table, rows, len(months))


def export_book(uow: UnitOfWork, out: Path,
                progress: Callable[[Written], None] | None = None) -> list[Written]:
    """Every table of `BOOK` under `out`; `progress` hears of each one written."""
    done = []
    for spec in BOOK:
        written = export_table(uow, spec, out)
        done.append(written)
        if progress:
            progress(written)
    return done
