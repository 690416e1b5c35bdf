"""What every metric shares: the period it covers, the dialect spellings of month arithmetic,
and running a read-only statement."""

from __future__ import annotations

from dataclasses import asdict, dataclass, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.shared.sqlkit import Sql, rows

__all__ = ["Period", "Sql", "UnitOfWork", "as_plain", "fetch", "month_index", "month_of"]


@dataclass(frozen=True)
class Period:
    """Business dates from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("the period ends before it starts", field="end")


def month_of(sql: Sql, column: str) -> str:
    """'YYYY-MM' of a DATE column."""
    return f"to_char({column}, 'YYYY-MM')" if sql.pg else f"substr({column}, 1, 7)"


def month_index(sql: Sql, column: str) -> str:
    """year × 12 + month of a DATE column: differences are whole calendar months."""
    if sql.pg:
        return f"CAST(EXTRACT(YEAR FROM {column}) * 12 + EXTRACT(MONTH FROM {column}) AS INTEGER)"
    return (f"(CAST(strftime('%Y', {column}) AS INTEGER) * 12"
            f" + CAST(strftime('%m', {column}) AS INTEGER))")


def day_of_month(sql: Sql, column: str) -> str:
    if sql.pg:
        return f"CAST(EXTRACT(DAY FROM {column}) AS INTEGER)"
    return f"CAST(strftime('%d', {column}) AS INTEGER)"


def month_text(index: int) -> str:
    """'YYYY-MM' of a `month_index` value."""
    return f"{(index - 1) // 12:04d}-{(index - 1) % 12 + 1:02d}"


def fetch(uow: UnitOfWork, statement: str, **params: Any) -> list[Any]:
    """Rows of one SELECT (dates bound as the dialect stores them)."""
    return rows(uow, statement, **params)


def as_plain(value: Any) -> Any:
    """A metric's result as JSON-ready data: dataclasses → dicts, Decimal → string, dates →
    ISO strings (integers stay integers: fen)."""
    if is_dataclass(value) and not isinstance(value, type):
        return as_plain(asdict(value))
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
