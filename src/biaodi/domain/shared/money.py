"""Money: integer fen, never floats.

One way to make a money value (`Money.parse` for text from outside, `Money(fen)` for integers
from storage) and one rounding rule, `round_half_up`, applied wherever a rate meets an amount:
a result is rounded to the fen half away from zero (ROUND_HALF_UP), once, at the step that
produces a stored amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from biaodi.domain.shared.errors import InvalidInput

FEN_PER_YUAN = 100
#: Default ceiling for a single amount: 100 million yuan. Configurable per call.
DEFAULT_CEILING_FEN = 100_000_000 * FEN_PER_YUAN

_AMOUNT_RE = re.compile(r"^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?$")


def round_half_up(value: Decimal) -> int:
    """Round a Decimal number of fen to a whole fen, half away from zero: Biaodi's one rule."""
    if not value.is_finite():
        raise ValueError(f"cannot round non-finite value {value!r}")
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """An amount of Chinese yuan held as integer fen."""

    fen: int

    def __post_init__(self) -> None:
        if isinstance(self.fen, bool) or not isinstance(self.fen, int):
            raise TypeError(f"Money takes integer fen, not {type(self.fen).__name__}")

    # --- construction -------------------------------------------------------------------
    @classmethod
    def parse(
        cls,
        value: Any,
        *,
        field: str = "amount",
        positive: bool = True,
        allow_zero: bool = False,
        ceiling_fen: int | None = DEFAULT_CEILING_FEN,
    ) -> Money:
        """Parse a decimal string of yuan with at most two decimals ("100", "100.5", "100.50").

        Floats, exponents, NaN, more than two decimals, signs where a positive amount is
        required and amounts above the ceiling are refused with `InvalidInput` naming `field`.
        An `int` is taken as whole yuan; a `Decimal` must have at most two decimals.
        """
        if isinstance(value, bool | float):
            raise InvalidInput(
                f'{field} must be a decimal string such as "100.00", not a floating-point number',
                field=field,
            )
        if isinstance(value, int):
            # The pattern allows 16 digits of yuan; a longer int is refused before str(),
            # which raises ValueError past 4,300 digits.
            text = str(value) if abs(value) < 10**17 else "too many digits"
        elif isinstance(value, Decimal):
            if not value.is_finite():
                raise InvalidInput(f"{field} must be a finite amount", field=field)
            exponent = value.as_tuple().exponent
            # Written out in full, 1E+999999999 would take a gigabyte: refuse it first.
            too_long = value.adjusted() > 16 or (isinstance(exponent, int) and exponent < -2)
            text = "too many digits" if too_long else format(value, "f")
        elif isinstance(value, str):
            text = value.strip()
        else:
            raise InvalidInput(f"{field} must be a decimal string", field=field)
        if not _AMOUNT_RE.match(text):
            raise InvalidInput(
                f'{field} must be an amount in yuan with at most two decimals, e.g. "100.50"'
                f" (got {text[:40]!r})",
                field=field,
            )
        fen = round_half_up(Decimal(text) * FEN_PER_YUAN)
        if fen < 0 and positive:
            raise InvalidInput(f"{field} must be positive", field=field)
        if fen == 0 and positive and not allow_zero:
            raise InvalidInput(f"{field} must be greater than zero", field=field)
        if ceiling_fen is not None and abs(fen) > ceiling_fen:
            raise InvalidInput(f"{field} must not exceed {cls(ceiling_fen)} yuan", field=field)
        return cls(fen)

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def yuan(cls, value: int | str) -> Money:
        """Convenience for code and tests: Money.yuan(100) == Money(10000)."""
        return cls.parse(value, positive=False, ceiling_fen=None)

    # --- arithmetic ---------------------------------------------------------------------
    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.fen * factor)

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return self.fen != 0

    def times_rate(self, rate: Decimal) -> Money:
        """This amount times a rate (a Decimal fraction), rounded half-up to the fen."""
        if isinstance(rate, float):
            raise TypeError("rates are Decimal, never float")
        return Money(round_half_up(Decimal(self.fen) * rate))

    # --- presentation -------------------------------------------------------------------
    @property
    def decimal(self) -> Decimal:
        return Decimal(self.fen) / FEN_PER_YUAN

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        yuan, fen = divmod(abs(self.fen), FEN_PER_YUAN)
        return f"{sign}{yuan}.{fen:02d}"

    def formatted(self) -> str:
        """With thousands separators: 1,234,567.89."""
        sign = "-" if self.fen < 0 else ""
        yuan, fen = divmod(abs(self.fen), FEN_PER_YUAN)
        return f"{sign}{yuan:,}.{fen:02d}"

    def __repr__(self) -> str:
        return f"Money('{self}')"


def allocate_largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Split `total` fen in proportion to integer `weights`, exactly.

    Each part is floor(total × w / Σw); the fen left over go one each to the parts with the
    largest remainders, ties to the earlier part. The parts always sum to `total`.
    """
    if not weights:
        raise ValueError("cannot allocate over no weights")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    denominator = sum(weights)
    if denominator == 0:
        raise ValueError("weights must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    parts = []
    remainders = []
    for index, weight in enumerate(weights):
        quotient, remainder = divmod(magnitude * weight, denominator)
        parts.append(quotient)
        remainders.append((-remainder, index))
    left = magnitude - sum(parts)
    for _, index in sorted(remainders)[:left]:
        parts[index] += 1
    return [sign * p for p in parts]
