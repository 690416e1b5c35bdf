"""Grade calibration and verticals on a small hand-built book, on SQLite and PostgreSQL.

Four loans funded on 2026-11-28, each borrower with a risk decision on file before the listing
was created: two of grade A (PD 2 % and 4 %, the model card's A rate 2.5 %), one of grade B (PD
10 %, card 8 %) secured by a car, one of grade B whose borrower also holds an older decision
of grade C (the latest before the listing counts). The second A loan and the car loan are
marked as having entered default handling.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from biaodi.adapters.db.servicing_tables import LoanServicing
from biaodi.adapters.db.tables import Listing
from biaodi.bootstrap import Platform
from biaodi.services.analytics import products, risk
from biaodi.services.analytics.common import Period
from disclosure_support import decided
from servicing_support import funded_loan, run_close

LOAN = 1_000_000


@pytest.fixture(scope="module")
def graded(book_platform: Platform) -> dict[str, int]:
    platform = book_platform
    before = platform.clock.now() - timedelta(days=1)
    loans = {name: funded_loan(platform, kind) for name, kind in (
        ("a1", "credit"), ("a2", "credit"), ("car", "collateral"), ("b", "credit"))}
    run_close(platform, platform.clock.today())
    for name, grade, pd, card in (("a1", "A", 20_000, 25_000), ("a2", "A", 40_000, 25_000),
                                  ("car", "B", 100_000, 80_000), ("b", "B", 60_000, 80_000)):
        decided(platform, loans[name].applicant, grade=grade, pd_ppm=pd, expected_ppm=card,
                at=before)
    # an older decision of b's borrower: not the one its listing was priced on
    decided(platform, loans["b"].applicant, grade="C", pd_ppm=300_000, expected_ppm=None,
            at=before - timedelta(days=30))
    # a decision after the listing was created does not count either
    decided(platform, loans["a1"].applicant, grade="E", pd_ppm=500_000, expected_ppm=None,
            at=platform.clock.now() + timedelta(days=1))
    with platform.uow() as uow:
        for name, grade in (("a1", "A"), ("a2", "A"), ("car", "B"), ("b", "B")):
            uow.s.execute(update(Listing).where(Listing.id == loans[name].listing_id)
                          .values(grade=grade))
        uow.s.execute(update(LoanServicing).where(LoanServicing.listing_id.in_(
            [loans["a2"].listing_id, loans["car"].listing_id]))
            .values(defaulted_on=datetime(2027, 3, 1, tzinfo=UTC).date()))
        uow.commit()
    return {name: loan.listing_id for name, loan in loans.items()}


def test_grade_calibration_expected_against_observed(book_platform: Platform,
                                                     graded: dict[str, int]) -> None:
    with book_platform.reader() as uow:
        found = risk.grade_calibration(uow)
    half = Decimal("0.500000")
    assert found == [
        # (2 % + 4 %) / 2; the card's 2.5 %; one of two defaulted
        risk.CalibrationRow("A", 2, Decimal("0.030000"), Decimal("0.025000"), 1, half),
        # (10 % + 6 %) / 2 — b's older grade-C decision is not the one it was priced on
        risk.CalibrationRow("B", 2, Decimal("0.080000"), Decimal("0.080000"), 1, half)]


def test_volume_by_vertical_names_the_pledged_asset(book_platform: Platform,
                                                    graded: dict[str, int]) -> None:
    day = book_platform.clock.today()
    with book_platform.reader() as uow:
        found = products.volume_by_vertical(uow, Period(day, day))
    assert found == [products.VerticalRow("car", 1, LOAN), products.VerticalRow("credit", 3,
                                                                                 3 * LOAN)]
