"""Buy-back coverage and collateral loan-to-value on a small book, on SQLite and PostgreSQL:
a 抵押标 of 10,000.00 on a car appraised at 30,000.00, and a 流转标 of 10,000.00 whose
originator keeps 2,000.00 in its buy-back reserve, both taken on by close of business."""

from __future__ import annotations

from decimal import Decimal

from biaodi.bootstrap import Platform
from biaodi.services.analytics import risk
from servicing_support import funded_loan, run_close


def test_buyback_coverage_and_collateral_ltv(platform: Platform) -> None:
    funded_loan(platform, "collateral")
    transferred = funded_loan(platform, "transfer", reserve_yuan=2_000)
    run_close(platform)
    with platform.reader() as uow:
        coverage = risk.buyback_coverage(uow)
        ltv = risk.collateral_ltv(uow)
    assert coverage == [risk.BuybackRow(transferred.applicant, 1, 1_000_000, 200_000,
                                        Decimal("0.200000"))]
    # 10,000 / 30,000 = 33 %: over 30 %, at most 50 %
    assert ltv == [risk.LtvBand("0-30%", 0, 0, 0),
                   risk.LtvBand("30-50%", 1, 1_000_000, 3_000_000),
                   risk.LtvBand("50-70%", 0, 0, 0), risk.LtvBand("70-100%", 0, 0, 0),
                   risk.LtvBand(">100%", 0, 0, 0)]
