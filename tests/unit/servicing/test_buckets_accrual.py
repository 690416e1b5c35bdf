"""Buckets, grace and pro-rata accrual."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biaodi.domain.servicing.accrual import accrued
from biaodi.domain.servicing.buckets import (
    Bucket,
    bucket_case_sql,
    bucket_for,
    days_past_due,
    penalty_applies,
)


@pytest.mark.parametrize(("days", "bucket"), [
    (0, Bucket.CURRENT), (1, Bucket.M1), (30, Bucket.M1), (31, Bucket.M2), (60, Bucket.M2),
    (61, Bucket.M3), (90, Bucket.M3), (91, Bucket.M3_PLUS), (400, Bucket.M3_PLUS)])
def test_bucket_edges(days: int, bucket: Bucket) -> None:
    assert bucket_for(days) is bucket


def test_days_past_due_and_grace() -> None:
    due = date(2026, 12, 28)
    assert days_past_due(None, due) == 0
    assert days_past_due(due, due) == 0
    assert days_past_due(due, due + timedelta(days=4)) == 4
    assert days_past_due(due + timedelta(days=3), due) == 0
    assert [penalty_applies(d, 3) for d in (1, 2, 3, 4)] == [False, False, False, True]
    assert penalty_applies(1, 0)


def test_bucket_sql_follows_the_table() -> None:
    assert bucket_case_sql("x") == ("CASE WHEN x >= 91 THEN 'M3+' WHEN x >= 61 THEN 'M3' "
                                    "WHEN x >= 31 THEN 'M2' WHEN x >= 1 THEN 'M1' "
                                    "ELSE 'current' END")


def test_accrual_is_pro_rata_half_up() -> None:
    start, end = date(2026, 11, 28), date(2026, 12, 28)  # 30 days
    assert accrued(3_000, start, end, start) == 0
    assert accrued(3_000, start, end, start + timedelta(days=1)) == 100
    assert accrued(1_001, start, end, start + timedelta(days=15)) == 501  # 500.5 → 501
    assert accrued(1_000, start, end, end + timedelta(days=9)) == 1_000
    assert accrued(1_000, start, end, start - timedelta(days=2)) == 0


@given(st.integers(0, 10**9), st.integers(1, 400), st.integers(-5, 420))
def test_accrual_never_leaves_its_period(interest: int, span: int, elapsed: int) -> None:
    start = date(2026, 1, 1)
    got = accrued(interest, start, start + timedelta(days=span),
                  start + timedelta(days=elapsed))
    assert 0 <= got <= interest
    if 0 <= elapsed <= span:
        exact = interest * elapsed / span
        assert abs(got - exact) <= 0.5
