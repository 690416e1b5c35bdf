"""The Spark engine's base: a local session, an exported book as Spark views, and the literal
helpers the Spark metrics (`spark.py`, `spark_users.py`, `spark_risk.py`) write their SQL with.
PySpark is imported only when a session is started."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biaodi.adapters.clock import CST
from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.analytics.export import BOOK

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

#: Local mode on this kind of machine (docs/ANALYTICS.md): two cores, no UI, few shuffle
#: partitions; timestamps read as UTC; partition folders (month=2026-11) stay text.
SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # our own progress bar
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.driver.memory": "1g",
    "spark.sql.ansi.enabled": "true",
}
LIVE = "s.status NOT IN ('closed', 'written_off')"
ACTS = """SELECT investor_id AS who, subscribed_on AS d FROM investments
           UNION ALL SELECT buyer_id AS who, business_date AS d FROM secondary_purchases"""


def start_session(master: str = "local[2]") -> SparkSession:
    """A local Spark session with `SETTINGS` (SPARK_LOCAL_IP 127.0.0.1 unless set)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("biaodi-analytics")
    for key, value in SETTINGS.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def running() -> bool:
    """Whether this process already has a Spark session (that a caller started)."""
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() is not None


class Book:
    """An exported book's tables as Spark views (one per folder of `export.BOOK`)."""

    def __init__(self, spark: SparkSession, folder: Path) -> None:
        self.spark = spark
        missing = [s.table for s in BOOK if not (folder / s.table).is_dir()]
        if missing:
            raise InvalidInput(f"{folder} is not an exported book: no {', '.join(missing)} "
                               "(write one with `biaodi export`)", field="book")
        for spec in BOOK:
            spark.read.parquet(str(folder / spec.table)).createOrReplaceTempView(spec.table)

    def rows(self, statement: str) -> list[Any]:
        return self.spark.sql(statement).collect()


def d(day: date) -> str:
    return f"DATE'{day.isoformat()}'"


def text(value: str) -> str:
    """A Spark SQL string literal (backslash escapes, as Spark's parser reads them)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ts(moment: datetime) -> str:
    return f"TIMESTAMP'{moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')}'"


def m(column: str) -> str:
    return f"(year({column}) * 12 + month({column}))"


def cst_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CST)
