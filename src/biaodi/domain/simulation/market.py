"""The simulated market's people and their behaviour, as pure rules over a seeded random
source: which segment a borrower asks for, whether a borrower keeps paying, which strategy an
investor follows, what a pledged asset sells for.

A borrower's fate comes from the credit-data row they were drawn from: a row the data marks
`bad` stops paying with `BAD_DEFAULT_CHANCE` over the loan's life, a `good` row with
`GOOD_DEFAULT_CHANCE`. The risk model scores the same row, so defaults follow the score."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from biaodi.domain.shared.errors import InvalidInput

#: (listing type, vertical) → weight: what borrowers and originators ask for.
DEFAULT_MIX: Mapping[str, int] = MappingProxyType({
    "credit:consumer": 40, "collateral:house": 12, "collateral:car": 16, "collateral:art": 7,
    "guarantee:small_business": 15, "transfer:receivables": 10,
})
SEGMENTS = tuple(DEFAULT_MIX)
BAD_DEFAULT_CHANCE = Decimal("0.45")
GOOD_DEFAULT_CHANCE = Decimal("0.03")
#: Borrowers who keep paying repay the whole loan early with this chance at each due date.
EARLY_REPAYMENT_CHANCE = Decimal("0.03")


@dataclass(frozen=True)
class Strategy:
    """How an investor invests: by hand or by an auto-invest rule, within a risk appetite."""

    name: str
    auto: bool
    best_grade: str
    worst_grade: str
    answers: Mapping[str, int]  # the suitability questionnaire, as this investor answers
    ticket_share: Decimal  # of the wallet put into one listing
    sells_below: Decimal  # buys secondary offers at or below this premium (negative: discount)


def _answers(level: int) -> Mapping[str, int]:
    keys = ("age", "income", "experience", "horizon", "loss_tolerance", "share_of_assets")
    return MappingProxyType(dict.fromkeys(keys, level))


STRATEGIES: Mapping[str, Strategy] = MappingProxyType({
    "manual": Strategy("manual", False, "A", "E", _answers(3), Decimal("0.10"),
                       Decimal("-0.01")),
    "auto_conservative": Strategy("auto_conservative", True, "A", "B", _answers(3),
                                  Decimal("0.05"), Decimal("-0.03")),
    "auto_balanced": Strategy("auto_balanced", True, "A", "C", _answers(3), Decimal("0.08"),
                              Decimal("-0.02")),
    "auto_aggressive": Strategy("auto_aggressive", True, "A", "E", _answers(3),
                                Decimal("0.12"), Decimal("0.00")),
})
STRATEGY_WEIGHTS: Mapping[str, int] = MappingProxyType({
    "manual": 35, "auto_conservative": 20, "auto_balanced": 25, "auto_aggressive": 20})
#: Investor tiers by first deposit (yuan): the analytics tiers' names.
TIER_DEPOSITS: Sequence[tuple[str, int, int]] = (
    ("mass", 20_000, 60_000), ("affluent", 60_000, 200_000), ("high_net_worth", 200_000,
                                                               600_000))
TIER_WEIGHTS = (60, 30, 10)
CHANNELS = ("app_store", "search_ads", "wechat", "partner")


def pick(rng: random.Random, weights: Mapping[str, int]) -> str:
    names = sorted(weights)
    total = sum(weights[n] for n in names)
    if total <= 0:
        raise ValueError("the weights must add up to more than nothing")
    point = rng.randrange(total)
    for name in names:
        point -= weights[name]
        if point < 0:
            return name
    raise AssertionError("unreachable")  # pragma: no cover


def chance(rng: random.Random, probability: Decimal) -> bool:
    """True with `probability`, drawn in millionths so the result is exact everywhere."""
    return rng.randrange(1_000_000) < int(probability * 1_000_000)


def lifetime_default_chance(bad: bool) -> Decimal:
    return BAD_DEFAULT_CHANCE if bad else GOOD_DEFAULT_CHANCE


def stops_at_due_date(rng: random.Random, bad: bool, instalments: int,
                      factor: Decimal) -> bool:
    """Whether a paying borrower stops at this due date: the lifetime chance spread evenly
    over the instalments (1 − (1 − p)^(1/n), to six places), times a scenario's factor."""
    p = float(lifetime_default_chance(bad))
    per_due = Decimal(str(round(1 - (1 - p) ** (1 / max(instalments, 1)), 6)))
    return chance(rng, min(per_due * factor, Decimal(1)))


def sale_price_fen(appraisal_fen: int, haircut: Decimal, rng: random.Random) -> int:
    """What a pledged asset fetches at a forced sale: the appraisal less 10–25 % for the
    forced sale, less the scenario's price fall; whole fen, rounded down."""
    forced = Decimal(rng.randrange(75, 91)) / 100
    return int(Decimal(appraisal_fen) * forced * (1 - haircut))


def parse_mix(text: str) -> Mapping[str, int]:
    """`credit:consumer=40,collateral:house=10,…` → weights; unknown segments are named."""
    weights: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, raw = part.partition("=")
        name = name.strip()
        if name not in DEFAULT_MIX:
            raise InvalidInput(f"mix: unknown segment {name!r}: one of {', '.join(SEGMENTS)}",
                               field="mix")
        if not raw.strip().isdigit():
            raise InvalidInput(f"mix: {name}: the weight must be a whole number", field="mix")
        weights[name] = int(raw)
    if not weights or sum(weights.values()) <= 0:
        raise InvalidInput("the mix needs at least one segment with a weight above 0",
                           field="mix")
    return MappingProxyType(weights)
