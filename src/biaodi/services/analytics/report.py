"""The monthly report's tables as files: each dashboard panel's table as CSV (UTF-8 with a
byte-order mark, so a spreadsheet opens the Chinese right) and as Parquet (pyarrow), with the
exact values — fen as integers, rates as decimals with six places — never the display strings.

The HTML file beside them is drawn by `web/report.py`; `biaodi report` (`cli/analytics.py`)
runs both under one progress bar."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from biaodi.services.analytics.dashboards import Table

#: Rates are exact fractions rounded to 6 places (docs/ANALYTICS.md).
RATE_TYPE = pa.decimal128(18, 6)


def column_type(values: Sequence[Any]) -> pa.DataType:
    """int64 for integers (fen, counts), decimal(18, 6) for rates, string otherwise."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, Decimal) for v in present):
        return RATE_TYPE
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    return pa.string()


def arrow_table(table: Table) -> pa.Table:
    columns = list(zip(*table.rows, strict=True)) if table.rows else [()] * len(table.columns)
    arrays = {}
    for name, values in zip(table.columns, columns, strict=True):
        kind = column_type(values)
        if kind == pa.string():
            values = tuple(None if v is None else str(v) for v in values)
        arrays[name] = pa.array(list(values), type=kind)
    return pa.table(arrays)


def _csv_value(value: Any) -> str:
    return "" if value is None else str(value)


def write_table(table: Table, folder: Path) -> list[Path]:
    """`<name>.csv` and `<name>.parquet` in `folder`; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    as_csv, as_parquet = folder / f"{table.name}.csv", folder / f"{table.name}.parquet"
    with as_csv.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(table.columns)
        writer.writerows([_csv_value(v) for v in row] for row in table.rows)
    pq.write_table(arrow_table(table), as_parquet)
    return [as_csv, as_parquet]
