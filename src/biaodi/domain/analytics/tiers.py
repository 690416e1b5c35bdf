"""Investor tiers (会员等级) from assets held and history.

A tier is reached when the investor's assets held are at least its threshold AND the whole
months since their first investment are at least its minimum; an investor is in the highest
tier reached. Assets held = investor wallet available + frozen + outstanding principal of
active holdings. The tiers and thresholds come from configuration (`Settings.analytics_tiers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from itertools import pairwise

from biaodi.domain.shared.errors import InvalidInput

#: The default tiers (`Settings.analytics_tiers` spells the same): name:minimum assets held
#: in yuan:minimum whole months since the first investment.
DEFAULT_TIERS = "普通:0:0,白银:10000:1,黄金:100000:6,钻石:1000000:12"


@dataclass(frozen=True)
class Tier:
    name: str
    min_assets_fen: int
    min_months: int


def parse_tiers(spec: str, *, field: str = "analytics_tiers") -> tuple[Tier, ...]:
    """`name:yuan:months,…`, lowest first; the first tier must need nothing (0:0) so that
    every investor has one, and each later tier must need at least as much as the one before."""
    tiers: list[Tier] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        bits = part.split(":")
        if len(bits) != 3 or not bits[0].strip():
            raise InvalidInput(f"{field}: {part!r} is not name:yuan:months", field=field)
        try:
            exact = Decimal(bits[1]) * 100
            if exact != exact.to_integral_value():
                raise ValueError(bits[1])
            fen, months = int(exact), int(bits[2])
        except (InvalidOperation, ValueError, ArithmeticError):
            raise InvalidInput(f"{field}: {part!r} needs a whole-fen amount and whole months",
                               field=field) from None
        if fen < 0 or months < 0:
            raise InvalidInput(f"{field}: {part!r} has a negative threshold", field=field)
        tiers.append(Tier(bits[0].strip(), fen, months))
    if not tiers or (tiers[0].min_assets_fen, tiers[0].min_months) != (0, 0):
        raise InvalidInput(f"{field}: the first tier must need nothing (name:0:0)", field=field)
    for low, high in pairwise(tiers):
        if high.min_assets_fen < low.min_assets_fen or high.min_months < low.min_months:
            raise InvalidInput(f"{field}: {high.name} needs less than {low.name}", field=field)
    if len({t.name for t in tiers}) != len(tiers):
        raise InvalidInput(f"{field}: tier names must differ", field=field)
    return tuple(tiers)


def tier_for(assets_fen: int, months: int, tiers: tuple[Tier, ...]) -> Tier:
    """The highest tier whose thresholds `assets_fen` and `months` both reach."""
    found = tiers[0]
    for tier in tiers:
        if assets_fen >= tier.min_assets_fen and months >= tier.min_months:
            found = tier
    return found


def whole_months(earlier_y: int, earlier_m: int, earlier_d: int,
                 later_y: int, later_m: int, later_d: int) -> int:
    """Whole calendar months from one date to a later one (31 Jan → 28 Feb is 0)."""
    months = (later_y * 12 + later_m) - (earlier_y * 12 + earlier_m)
    return max(0, months - (1 if later_d < earlier_d else 0))


RATE_PLACES = Decimal("0.000001")


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator rounded half-even to 6 decimal places; None when the
    denominator is 0 (no base to divide by)."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, ROUND_HALF_EVEN)
