"""Operator configuration: servicing products per listing type and the dated LPR table (read
through `services.shared.rates.lpr_on`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from biaodi.adapters.db.servicing_tables import LprRate, ServicingProduct
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.listings import policy_for
from biaodi.domain.servicing.allocation import AllocationOrder
from biaodi.domain.servicing.penalty import check_product_penalty
from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.servicing.rules import ServicingRules
from biaodi.services.shared.rates import lpr_on


def set_lpr(uow: UnitOfWork, effective_on: date, one_year_ppm: int,
            five_year_ppm: int | None, source: str) -> LprRate:
    if not 0 < one_year_ppm < 1_000_000:
        raise InvalidInput("one_year must be a rate above 0 % and below 100 %", field="one_year")
    row = uow.s.get(LprRate, effective_on) or LprRate(effective_on=effective_on)
    row.one_year_ppm, row.five_year_ppm, row.source = one_year_ppm, five_year_ppm, source
    uow.s.add(row)
    uow.s.flush()
    return row


@dataclass(frozen=True)
class SetProduct:
    kind: str
    penalty_daily_ppm: int
    grace_days: int
    allocation_order: str
    guarantor_full_at_m3: bool
    operator_id: int


def set_product(uow: UnitOfWork, cmd: SetProduct, rules: ServicingRules) -> ServicingProduct:
    """Create or change a type's servicing product; a penalty rate that alone breaks the cost
    cap for a contract made today (the profile's dated table, at today's LPR) is refused with
    the rule's id and the date."""
    policy_for(cmd.kind)
    order = AllocationOrder.parse(cmd.allocation_order)
    if cmd.penalty_daily_ppm < 0:
        raise InvalidInput("penalty rate must not be negative", field="penalty_daily_rate")
    if not 0 <= cmd.grace_days <= 30:
        raise InvalidInput("grace_days must be from 0 to 30", field="grace_days")
    today = uow.clock.today()
    check_product_penalty(cmd.penalty_daily_ppm, rules.profile, today, lpr_on(uow, today))
    row = uow.s.get(ServicingProduct, cmd.kind) or ServicingProduct(kind=cmd.kind)
    row.penalty_daily_ppm, row.grace_days = cmd.penalty_daily_ppm, cmd.grace_days
    row.allocation_order, row.guarantor_full_at_m3 = str(order), cmd.guarantor_full_at_m3
    row.updated_by, row.updated_at = cmd.operator_id, uow.clock.now()
    uow.s.add(row)
    uow.s.flush()
    return row
