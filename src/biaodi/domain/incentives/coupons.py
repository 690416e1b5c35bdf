"""Coupon rules, free of I/O: what a template gives, when a coupon may be used, what it is
worth. Every refusal names the field and the rule (its `code`), and the coupon's campaign
rule text says the same to the public.

A boost's and a trial's interest are simple interest on an actual/365 basis — the same basis
as the platform's daily accrual — and are paid by the marketing account, never by the
borrower: the rate disclosed on a listing stays the borrower's contract rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money, round_half_up

PPM = 1_000_000
DAYS_A_YEAR = 365
#: A boost's accrual is kept in micro-fen (millionths of a fen) between payouts.
MICRO = 1_000_000


class CouponKind(StrEnum):
    CASH = "cash"  # 红包: a fixed amount paid into the wallet when the coupon is used
    BOOST = "boost"  # 加息券: an extra rate on the holding, for `days`
    TRIAL = "trial"  # 体验金: notional principal earning interest for `days`


class CouponRefused(InvalidInput):
    """A coupon cannot be used for this investment (HTTP 422); `code` names the rule."""

    code = "coupon_refused"


class CouponTaken(Conflict):
    """The coupon was used, expired or voided meanwhile (HTTP 409)."""

    code = "coupon_not_available"


@dataclass(frozen=True)
class TemplateTerms:
    kind: CouponKind
    amount: Money | None = None  # cash: the coupon's amount; trial: the notional principal
    rate_ppm: int | None = None  # boost and trial: a year
    days: int | None = None  # boost and trial: how long it runs
    validity_days: int = 30  # from issue
    min_invest: Money = field(default_factory=Money.zero)
    max_invest: Money | None = None
    listing_kinds: tuple[str, ...] = ()  # empty: every type
    terms: tuple[str, ...] = ()  # "12m", "30d"; empty: any term
    total_count: int | None = None
    per_user_count: int = 1
    stackable: bool = False
    auto_invest: bool = False
    expected_use_ppm: int = PPM

    def validate(self) -> None:
        """A template that can be issued: the amounts and rates its kind needs."""
        if self.kind in (CouponKind.CASH, CouponKind.TRIAL) and (
                self.amount is None or self.amount.fen <= 0):
            raise InvalidInput(f"a {self.kind} coupon needs a positive amount", field="amount")
        if self.kind in (CouponKind.BOOST, CouponKind.TRIAL):
            if self.rate_ppm is None or not 0 < self.rate_ppm <= 100_000:
                raise InvalidInput(f"a {self.kind} coupon needs a rate above 0 and at most "
                                   "10 % a year", field="rate")
            if self.days is None or not 0 < self.days <= 366:
                raise InvalidInput(f"a {self.kind} coupon runs 1 to 366 days", field="days")
        if self.kind == CouponKind.BOOST and self.max_invest is None:
            raise InvalidInput("a rate boost needs a maximum investment (the principal it "
                               "boosts at most)", field="max_invest")
        if self.validity_days <= 0:
            raise InvalidInput("validity must be at least one day", field="validity_days")
        if self.max_invest is not None and self.max_invest < self.min_invest:
            raise InvalidInput("the maximum investment is below the minimum",
                               field="max_invest")
        if self.kind == CouponKind.CASH and self.amount and self.amount > self.min_invest:
            raise InvalidInput("a cash coupon may not be worth more than its minimum "
                               "investment", field="amount")
        if self.per_user_count <= 0:
            raise InvalidInput("per-user count must be at least 1", field="per_user_count")
        if self.total_count is not None and self.total_count <= 0:
            raise InvalidInput("total count must be at least 1", field="total_count")
        if not 0 <= self.expected_use_ppm <= PPM:
            raise InvalidInput("expected use is a share between 0 and 1",
                               field="expected_use")
        for term in self.terms:
            parse_term(term)

    def face_value(self) -> Money:
        """What one coupon can cost the platform at most."""
        if self.kind == CouponKind.CASH:
            return self.amount or Money(0)
        principal = self.max_invest if self.kind == CouponKind.BOOST else self.amount
        assert principal is not None and self.rate_ppm is not None and self.days is not None
        return simple_interest(principal, self.rate_ppm, self.days)


def parse_term(term: str) -> tuple[int, str]:
    """"12m" → (12, "month"); "30d" → (30, "day")."""
    units = {"m": "month", "d": "day"}
    number, unit = term[:-1], term[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise InvalidInput(f"a term is a number of months or days such as 12m or 30d, "
                           f"not {term!r}", field="terms")
    return int(number), units[unit]


def term_label(term: int, unit: str) -> str:
    return f"{term}{'m' if unit == 'month' else 'd'}"


def simple_interest(principal: Money, rate_ppm: int, days: int) -> Money:
    """principal × rate × days / 365, rounded half-up to the fen."""
    return Money(round_half_up(Decimal(principal.fen) * rate_ppm * days
                               / (PPM * DAYS_A_YEAR)))


def boost_micro(principal_fen: int, rate_ppm: int, days: int) -> int:
    """A boost's accrual over `days` on `principal_fen`, in micro-fen (truncated: the
    truncation is at a millionth of a fen, so whole fen are never lost over a year)."""
    return principal_fen * rate_ppm * days * MICRO // (PPM * DAYS_A_YEAR)


def expires_on(issued_on: date, validity_days: int) -> date:
    """The last day a coupon may be used: `validity_days` counted from the day of issue."""
    return issued_on + timedelta(days=validity_days - 1)


@dataclass(frozen=True)
class CouponFacts:
    """One coupon as the investment sees it."""

    coupon_id: int
    kind: CouponKind
    status: str
    expires_on: date
    terms: TemplateTerms


@dataclass(frozen=True)
class InvestmentFacts:
    amount: Money
    listing_kind: str
    term: int
    term_unit: str
    source: str  # manual | auto
    today: date
    already_used_on_listing: Sequence[int] = field(default_factory=tuple)


def check_use(coupons: Sequence[CouponFacts], inv: InvestmentFacts) -> None:
    """Whether these coupons may go with this investment; raises the first rule broken."""
    if not coupons:
        return
    ids = [c.coupon_id for c in coupons]
    if len(set(ids)) != len(ids):
        raise CouponRefused("the same coupon is named twice", field="coupon_ids",
                            code="coupon_stacking")
    if len(coupons) > 1:
        alone = [c.coupon_id for c in coupons if not c.terms.stackable]
        if alone:
            raise CouponRefused(f"coupon {alone[0]} cannot be combined with another coupon "
                                "(one coupon per investment unless every one is stackable)",
                                field="coupon_ids", code="coupon_stacking")
    for coupon in coupons:
        _check_one(coupon, inv)


def _check_one(coupon: CouponFacts, inv: InvestmentFacts) -> None:
    t, cid = coupon.terms, coupon.coupon_id
    if coupon.kind == CouponKind.TRIAL:
        raise CouponRefused(f"coupon {cid} is trial principal and is not used with an "
                            "investment", field="coupon_ids", code="coupon_kind")
    if coupon.status == "expired" or (coupon.status == "issued"
                                      and inv.today > coupon.expires_on):
        raise CouponRefused(f"coupon {cid} expired on {coupon.expires_on}",
                            field="coupon_ids", code="coupon_expired")
    if coupon.status != "issued":
        raise CouponTaken(f"coupon {cid} is {coupon.status}, not available",
                          field="coupon_ids")
    if inv.amount < t.min_invest:
        raise CouponRefused(f"coupon {cid} needs an investment of at least {t.min_invest} "
                            f"yuan; this one is {inv.amount}", field="amount",
                            code="coupon_min_investment")
    if t.kind == CouponKind.CASH and t.max_invest is not None and inv.amount > t.max_invest:
        raise CouponRefused(f"coupon {cid} is for investments of at most {t.max_invest} yuan",
                            field="amount", code="coupon_max_investment")
    if t.listing_kinds and inv.listing_kind not in t.listing_kinds:
        raise CouponRefused(f"coupon {cid} is for {', '.join(t.listing_kinds)} listings, not "
                            f"{inv.listing_kind}", field="coupon_ids",
                            code="coupon_listing_kind")
    label = term_label(inv.term, inv.term_unit)
    if t.terms and label not in t.terms:
        raise CouponRefused(f"coupon {cid} is for terms {', '.join(t.terms)}, not {label}",
                            field="coupon_ids", code="coupon_term")
    if inv.source == "auto" and not t.auto_invest:
        raise CouponRefused(f"coupon {cid} cannot be used by auto-invest",
                            field="coupon_ids", code="coupon_auto_invest")


# --- points and levels ---------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    name: str
    min_points: int


DEFAULT_LEVELS = (Level("V0", 0), Level("V1", 100), Level("V2", 1_000), Level("V3", 10_000),
                  Level("V4", 50_000))


def level_of(points: int, levels: Sequence[Level] = DEFAULT_LEVELS) -> Level:
    """The highest level whose threshold `points` reach."""
    reached = [lvl for lvl in levels if points >= lvl.min_points]
    return max(reached, key=lambda lvl: lvl.min_points) if reached else levels[0]


def investment_points(amount: Money, per_100_yuan: int) -> int:
    """Points for an investment: `per_100_yuan` for each whole 100 yuan."""
    return amount.fen // 10_000 * per_100_yuan
