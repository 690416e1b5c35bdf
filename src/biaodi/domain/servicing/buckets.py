"""Days past due and overdue buckets (逾期分类)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class Bucket(StrEnum):
    CURRENT = "current"
    M1 = "M1"  # 1–30 days past due
    M2 = "M2"  # 31–60
    M3 = "M3"  # 61–90
    M3_PLUS = "M3+"  # more than 90


#: (first day past due, bucket), in order: the SQL CASE of close of business is built from it.
BUCKETS: tuple[tuple[int, Bucket], ...] = (
    (0, Bucket.CURRENT),
    (1, Bucket.M1),
    (31, Bucket.M2),
    (61, Bucket.M3),
    (91, Bucket.M3_PLUS),
)
#: Default handling of secured and unsecured loans starts in this bucket.
DEFAULT_BUCKET = Bucket.M3_PLUS
DEFAULT_GRACE_DAYS = 3


def days_past_due(oldest_unpaid_due: date | None, today: date) -> int:
    """Days from the oldest instalment not yet covered by what was paid (FIFO) to `today`;
    0 when nothing is unpaid or the oldest unpaid amount falls due today or later."""
    if oldest_unpaid_due is None:
        return 0
    return max(0, (today - oldest_unpaid_due).days)


def bucket_for(days: int) -> Bucket:
    found = Bucket.CURRENT
    for first_day, bucket in BUCKETS:
        if days >= first_day:
            found = bucket
    return found


def penalty_applies(days: int, grace_days: int) -> bool:
    """Penalty interest accrues for each day past due beyond the grace period: with 3 days of
    grace the 4th day past due is the first penalty day (not retroactive)."""
    return days > grace_days


def bucket_case_sql(column: str) -> str:
    """`CASE WHEN col >= 91 THEN 'M3+' … ELSE 'current' END` from BUCKETS."""
    whens = " ".join(f"WHEN {column} >= {first} THEN '{bucket.value}'"
                     for first, bucket in reversed(BUCKETS) if first > 0)
    return f"CASE {whens} ELSE '{Bucket.CURRENT.value}' END"
