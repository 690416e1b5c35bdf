"""A stress scenario: what changes in the simulated market, and from which day.

Scenarios are TOML files under `scenarios/` (docs/SIMULATION.md). Every field is optional; a
file holds only what differs from the baseline. Days count from the simulation's first day
(day 0); "month 6" is day 180."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from biaodi.domain.shared.errors import InvalidInput

ASSET_CLASSES = ("house", "car", "art")


@dataclass(frozen=True)
class Scenario:
    name: str = "baseline"
    description: str = "the market as it is"
    #: Defaults: every borrower's chance of stopping payment is multiplied from `from_day`.
    default_multiplier: Decimal = Decimal(1)
    default_from_day: int = 0
    #: The guarantor with the largest capacity stops paying from this day (None: never).
    guarantor_failure_day: int | None = None
    #: Collateral sells for this fraction less than its appraisal, by asset class, from the day.
    collateral_fall: MappingProxyType[str, Decimal] = field(
        default_factory=lambda: MappingProxyType({}))
    collateral_fall_day: int = 0
    #: This share of investors withdraw and sell their holdings within `run_days` of the day.
    investor_run_share: Decimal = Decimal(0)
    investor_run_day: int = 0
    investor_run_days: int = 30
    #: The one-year LPR rises by this many basis points on the day; new listings price it in.
    rate_rise_bp: int = 0
    rate_rise_day: int = 0

    def default_factor(self, day: int) -> Decimal:
        return self.default_multiplier if day >= self.default_from_day else Decimal(1)

    def haircut(self, asset_class: str, day: int) -> Decimal:
        if day < self.collateral_fall_day:
            return Decimal(0)
        return self.collateral_fall.get(asset_class, Decimal(0))

    def guarantor_failed(self, day: int) -> bool:
        return self.guarantor_failure_day is not None and day >= self.guarantor_failure_day

    def run_on(self, day: int) -> bool:
        return (self.investor_run_share > 0
                and self.investor_run_day <= day < self.investor_run_day + self.investor_run_days)

    def extra_rate_bp(self, day: int) -> int:
        return self.rate_rise_bp if self.rate_rise_bp and day >= self.rate_rise_day else 0

    def shifted(self, day: int) -> Scenario:
        """The same scenario with every change starting on `day` (short runs and tests)."""
        from dataclasses import replace

        return replace(self, default_from_day=day,
                       guarantor_failure_day=(None if self.guarantor_failure_day is None
                                              else day),
                       collateral_fall_day=day, investor_run_day=day, rate_rise_day=day)


def _fraction(value: Any, name: str, *, low: Decimal, high: Decimal) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(f"{name} must be a number", field=name) from None
    if not number.is_finite() or not low <= number <= high:
        raise InvalidInput(f"{name} must be from {low} to {high}", field=name)
    return number


def _day(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 36_500:
        raise InvalidInput(f"{name} must be a whole number of days from 0", field=name)
    return value


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InvalidInput(f"[{name}] must be a table", field=name)
    return value


KNOWN = {"name", "description", "defaults", "guarantor_failure", "collateral_fall",
         "investor_run", "rate_rise"}


def parse(data: dict[str, Any], fallback_name: str) -> Scenario:
    """A scenario from a TOML document's data; an unknown or bad field is named."""
    unknown = sorted(set(data) - KNOWN)
    if unknown:
        raise InvalidInput(f"unknown scenario field {unknown[0]!r}", field=unknown[0])
    values: dict[str, Any] = {"name": str(data.get("name", fallback_name)),
                              "description": str(data.get("description", ""))}
    defaults = _table(data, "defaults")
    if defaults:
        values["default_multiplier"] = _fraction(defaults.get("multiplier", 1),
                                                 "defaults.multiplier", low=Decimal(0),
                                                 high=Decimal(100))
        values["default_from_day"] = _day(defaults.get("from_day", 0), "defaults.from_day")
    failure = _table(data, "guarantor_failure")
    if failure:
        values["guarantor_failure_day"] = _day(failure.get("from_day", 0),
                                               "guarantor_failure.from_day")
    fall = _table(data, "collateral_fall")
    if fall:
        day = fall.get("from_day", 0)
        values["collateral_fall_day"] = _day(day, "collateral_fall.from_day")
        cuts = {}
        for asset, cut in fall.items():
            if asset == "from_day":
                continue
            if asset not in ASSET_CLASSES:
                raise InvalidInput(f"collateral_fall.{asset}: the asset class must be one of "
                                   f"{', '.join(ASSET_CLASSES)}", field=f"collateral_fall.{asset}")
            cuts[asset] = _fraction(cut, f"collateral_fall.{asset}", low=Decimal(0),
                                    high=Decimal(1))
        values["collateral_fall"] = MappingProxyType(cuts)
    run = _table(data, "investor_run")
    if run:
        values["investor_run_share"] = _fraction(run.get("share", 0), "investor_run.share",
                                                 low=Decimal(0), high=Decimal(1))
        values["investor_run_day"] = _day(run.get("from_day", 0), "investor_run.from_day")
        values["investor_run_days"] = _day(run.get("within_days", 30),
                                           "investor_run.within_days") or 1
    rise = _table(data, "rate_rise")
    if rise:
        bp = rise.get("lpr_bp", 0)
        if not isinstance(bp, int) or isinstance(bp, bool) or not -500 <= bp <= 1000:
            raise InvalidInput("rate_rise.lpr_bp must be whole basis points from -500 to 1000",
                               field="rate_rise.lpr_bp")
        values["rate_rise_bp"] = bp
        values["rate_rise_day"] = _day(rise.get("from_day", 0), "rate_rise.from_day")
    return Scenario(**values)


def load(path: Path) -> Scenario:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path.name}: {exc}", field="scenario") from None
    return parse(data, path.stem)
