"""Interest rates at the edges: percent strings outside, parts per million in the database,
Decimal fractions in the domain. Never floats. And the dated one-year LPR that caps costs."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from biaodi.adapters.db.servicing_tables import LprRate
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.errors import InvalidInput

PPM = 1_000_000
_PERCENT_RE = re.compile(r"^(0|[1-9][0-9]{0,2})(\.[0-9]{1,4})?$")


def parse_percent(value: object, *, field: str = "annual_rate") -> Decimal:
    """"12" or "7.5" (percent a year, up to four decimals) → Decimal("0.12") / ("0.075")."""
    if isinstance(value, bool | float):
        raise InvalidInput(f"{field} must be a decimal string such as \"12.5\"", field=field)
    # An int longer than the pattern's three digits is refused before str(), which raises
    # ValueError past 4,300 digits.
    if isinstance(value, int) and abs(value) >= 1000:
        value = ""
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not _PERCENT_RE.match(text):
        raise InvalidInput(
            f"{field} must be a percentage with at most four decimals, e.g. \"12.5\"",
            field=field,
        )
    rate = Decimal(text) / 100
    if not 0 < rate < 1:
        raise InvalidInput(f"{field} must be above 0 % and below 100 %", field=field)
    return rate


_SIGNED_PERCENT_RE = re.compile(r"^[+-]?(0|[1-9][0-9]?)(\.[0-9]{1,4})?$")


def parse_signed_percent(value: object, *, field: str) -> Decimal:
    """"1.5", "-2" or "0" (a premium above or discount below a value, in percent, up to four
    decimals) → Decimal("0.015") / ("-0.02") / (0)."""
    text = value.strip() if isinstance(value, str) else ""
    if not _SIGNED_PERCENT_RE.match(text):
        raise InvalidInput(f"{field} must be a percentage string with at most four decimals,"
                           " negative for a discount, e.g. \"-1.5\"", field=field)
    return Decimal(text) / 100


def rate_to_ppm(rate: Decimal, *, field: str = "annual_rate") -> int:
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise InvalidInput(f"{field} must be a finite decimal rate", field=field)
    if rate.adjusted() > 3:  # 1E+999999999 × 10⁶ overflows Decimal: no rate is that large
        raise InvalidInput(f"{field} is out of range", field=field)
    scaled = rate * PPM
    if scaled != scaled.to_integral_value():
        raise InvalidInput(f"{field} has more precision than 0.0001 %", field=field)
    return int(scaled)


def ppm_to_rate(ppm: int) -> Decimal:
    return Decimal(ppm) / PPM


def percent_text(ppm: int) -> str:
    """120000 → "12.00"; 75000 → "7.50"; 123456 → "12.3456"; -15000 → "-1.50"."""
    value = (Decimal(ppm) / 10_000).normalize()
    text = f"{value:f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def lpr_on(uow: UnitOfWork, day: date) -> int | None:
    """The one-year LPR in ppm in force on `day` (None before the first fixing on record)."""
    return uow.s.execute(select(LprRate.one_year_ppm).where(LprRate.effective_on <= day)
                         .order_by(LprRate.effective_on.desc()).limit(1)).scalar()
