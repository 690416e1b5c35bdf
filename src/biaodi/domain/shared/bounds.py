"""Bounded whole numbers for what callers send (ids, pages, limits, counts): a value outside its
range is refused with 422 naming the field before any query runs (a number too large for a
database column used to reach the database and end in a 500). Used by the API and the pages."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

#: The largest id a BIGINT column holds (PostgreSQL) and SQLite's INTEGER.
MAX_ID = 2**63 - 1
#: The largest value of an INTEGER column on PostgreSQL (terms, days, ages, counts).
MAX_INT32 = 2**31 - 1
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100
MAX_LIMIT = 1000

RowId = Annotated[int, Ge(1), Le(MAX_ID)]
PageNo = Annotated[int, Ge(1), Le(MAX_PAGE)]
PageSize = Annotated[int, Ge(1), Le(MAX_PAGE_SIZE)]
Limit = Annotated[int, Ge(1), Le(MAX_LIMIT)]
#: A small whole number stored in an INTEGER column (months, days, years, ages).
Count = Annotated[int, Ge(0), Le(MAX_INT32)]
