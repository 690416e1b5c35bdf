"""The documents' close-of-business step: issue the contracts of the day's fundings and
purchases (after the loan steps, in a transaction of its own)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.services.documents.contracts import issue_contracts, renderer_for
from biaodi.services.servicing.close_day import DayStep


def document_steps(font: Path, *, at_close: bool = True) -> list[DayStep]:
    """The `contracts` step; none when the installation issues them in a job of its own
    (`BIAODI_CONTRACTS_AT_CLOSE=false`, then `biaodi contracts issue`)."""
    if not at_close:
        return []
    renderer = renderer_for(font)

    def contracts(uow: UnitOfWork, day: date) -> int:
        return issue_contracts(uow, renderer)

    return [DayStep("contracts", contracts)]
