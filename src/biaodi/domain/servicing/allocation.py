"""Allocating a payment: to creditor tiers, then to components in the product's order, then to
each creditor pro rata by largest remainder.

Default order (configurable per product): penalty → interest → principal. Holders (tier 0)
are paid before a guarantor's subrogated claim (tier 1): the guarantor recovers what it paid
only once investors are whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import allocate_largest_remainder


class Component(StrEnum):
    PENALTY = "penalty"
    INTEREST = "interest"
    PRINCIPAL = "principal"


DEFAULT_ORDER = (Component.PENALTY, Component.INTEREST, Component.PRINCIPAL)
#: The collateral waterfall's order is fixed by contract: costs first, then these.
WATERFALL_ORDER = DEFAULT_ORDER
HOLDERS_TIER = 0
SUBROGATION_TIER = 1


@dataclass(frozen=True)
class AllocationOrder:
    components: tuple[Component, ...] = DEFAULT_ORDER

    @classmethod
    def parse(cls, text: str | Sequence[str], *, field: str = "allocation_order"
              ) -> AllocationOrder:
        """"penalty,interest,principal" (or a list) → an order; every component exactly once."""
        if not isinstance(text, str | list | tuple):
            raise InvalidInput(f"{field} must list penalty, interest and principal",
                               field=field)
        names = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
        try:
            parts = tuple(Component(n) for n in names)
        except ValueError:
            raise InvalidInput(
                f"{field} lists components from penalty, interest, principal", field=field
            ) from None
        if sorted(parts) != sorted(Component):
            raise InvalidInput(f"{field} must name penalty, interest and principal once each",
                               field=field)
        return cls(parts)

    def rank(self, component: Component) -> int:
        """1 for the first component paid, 3 for the last (stored per loan for SQL)."""
        return self.components.index(component) + 1

    def __str__(self) -> str:
        return ",".join(c.value for c in self.components)


def allocate_components(amount: int, owed: Mapping[Component, int],
                        order: AllocationOrder = AllocationOrder()) -> dict[Component, int]:
    """Pay `amount` (≤ total owed) to the components in order, each up to what is owed."""
    if amount < 0 or amount > sum(owed.values()):
        raise ValueError("amount must be between 0 and what is owed")
    left, paid = amount, {}
    for component in order.components:
        paid[component] = min(left, owed.get(component, 0))
        left -= paid[component]
    return paid


@dataclass(frozen=True)
class Creditor:
    """One creditor position of a loan: what it is owed per component."""

    position_id: int
    tier: int
    owed: Mapping[Component, int]

    @property
    def total(self) -> int:
        return sum(self.owed.values())


def distribute(amount: int, creditors: Sequence[Creditor],
               order: AllocationOrder = AllocationOrder()) -> dict[int, dict[Component, int]]:
    """Shares per position: tiers in ascending order, components in `order` within a tier,
    each component split among the tier's positions by largest remainder weighted by what
    each is owed of it (ties to the lower position id). The shares add up to `amount`.

    This is the reference for the set-based SQL of close of business, which must agree."""
    if amount > sum(c.total for c in creditors):
        raise ValueError("cannot pay more than the creditors are owed")
    shares: dict[int, dict[Component, int]] = {
        c.position_id: dict.fromkeys(Component, 0) for c in creditors}
    left = amount
    for tier in sorted({c.tier for c in creditors}):
        members = sorted((c for c in creditors if c.tier == tier), key=lambda c: c.position_id)
        owed = {k: sum(c.owed.get(k, 0) for c in members) for k in Component}
        tier_paid = min(left, sum(owed.values()))
        left -= tier_paid
        for component, paid in allocate_components(tier_paid, owed, order).items():
            if not paid:
                continue
            parts = allocate_largest_remainder(paid, [c.owed.get(component, 0) for c in members])
            for creditor, part in zip(members, parts, strict=True):
                shares[creditor.position_id][component] += part
    return shares
