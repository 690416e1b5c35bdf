"""The collateral disposal waterfall (抵押物处置): costs → penalty → interest → principal to
the holders pro rata; a surplus returns to the borrower, a shortfall is the holders' loss."""

from __future__ import annotations

from dataclasses import dataclass

from biaodi.domain.shared.errors import InvalidInput


@dataclass(frozen=True)
class Waterfall:
    costs: int
    penalty: int
    interest: int
    principal: int
    surplus: int  # back to the borrower
    shortfall: int  # owed and not covered: written off as the holders' loss
    unpaid_costs: int  # costs above the proceeds (borne by whoever advanced them)

    @property
    def to_creditors(self) -> int:
        return self.penalty + self.interest + self.principal


def waterfall(proceeds: int, costs: int, penalty: int, interest: int,
              principal: int) -> Waterfall:
    if proceeds < 0:
        raise InvalidInput("proceeds must not be negative", field="proceeds")
    if costs < 0:
        raise InvalidInput("costs must not be negative", field="costs")
    left = proceeds
    paid_costs = min(left, costs)
    left -= paid_costs
    paid = []
    for owed in (penalty, interest, principal):
        part = min(left, owed)
        paid.append(part)
        left -= part
    owed_total = penalty + interest + principal
    return Waterfall(costs=paid_costs, penalty=paid[0], interest=paid[1], principal=paid[2],
                     surplus=left, shortfall=owed_total - sum(paid),
                     unpaid_costs=costs - paid_costs)
