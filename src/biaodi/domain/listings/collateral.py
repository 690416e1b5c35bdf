"""抵押标 collateral listing: secured by pledged assets within a loan-to-value cap per class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from biaodi.domain.listings.policy import (
    BasePolicy,
    DefaultAction,
    Gap,
    ListingConfig,
    ListingContext,
    ListingKind,
    ListingTerms,
    RiskLabel,
    Severity,
    percent,
)
from biaodi.domain.shared.compliance import ComplianceProfile
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money


class AssetClass(StrEnum):
    HOUSE = "house"
    CAR = "car"
    ART = "art"  # art and collectibles
    OTHER = "other"


ASSET_CLASSES = frozenset(AssetClass)
NAMES_ZH = {"house": "房产", "car": "车辆", "art": "艺术品/收藏品", "other": "其他资产"}
RISK_LEVELS = {"house": 1, "car": 2, "art": 3, "other": 3}
LIQUID_CLASSES = frozenset({"house", "car"})


@dataclass(frozen=True)
class Appraisal:
    value: Money
    appraised_on: date
    appraiser: str


@dataclass(frozen=True)
class OfflineStep:
    """An offline (O2O) step an operator recorded; `reference` holds a certificate number."""

    done_on: date
    operator_id: int
    reference: str = ""


@dataclass(frozen=True)
class HouseFormalities:
    signed_contract: OfflineStep | None = None
    notarisation: OfflineStep | None = None
    mortgage_registration: OfflineStep | None = None  # reference: 不动产登记证明 number


@dataclass(frozen=True)
class VehicleRegistration:
    plate_number: str
    registration_certificate_no: str  # 机动车登记证书编号


@dataclass(frozen=True)
class PledgedAsset:
    asset_class: AssetClass
    appraisal: Appraisal
    description: str = ""
    house: HouseFormalities = field(default_factory=HouseFormalities)
    vehicle: VehicleRegistration | None = None


@dataclass(frozen=True)
class CollateralSecurity:
    assets: tuple[PledgedAsset, ...]


def _house_gaps(asset: PledgedAsset) -> list[tuple[str, str]]:
    steps = asset.house
    gaps = [(f"house.{name}", f"{label} not recorded")
            for name, label in (("signed_contract", "signed contract"),
                                ("notarisation", "notarisation"),
                                ("mortgage_registration", "mortgage registration"))
            if getattr(steps, name) is None]
    registration = steps.mortgage_registration
    if registration is not None and not registration.reference.strip():
        gaps.append(("house.mortgage_registration", "mortgage certificate number missing"))
    return gaps


def _car_gaps(asset: PledgedAsset) -> list[tuple[str, str]]:
    vehicle = asset.vehicle
    if vehicle is None:
        return [("vehicle", "vehicle registration (plate and certificate number) not recorded")]
    return [(f"vehicle.{name}", f"{label} missing")
            for name, label in (("plate_number", "plate number"),
                                ("registration_certificate_no", "registration certificate number"))
            if not getattr(vehicle, name).strip()]


# Offline steps an operator must record before publishing (house-mortgage O2O practice).
FORMALITIES: dict[str, Callable[[PledgedAsset], list[tuple[str, str]]]] = {
    "house": _house_gaps, "car": _car_gaps,
}


def ltv_cap(asset_class: str, config: ListingConfig) -> Decimal:
    try:
        return config.ltv_caps[asset_class]
    except KeyError:
        raise InvalidInput(
            f"no loan-to-value cap is configured for asset class {asset_class!r}",
            field="asset_class",
        ) from None


def lending_capacity(security: CollateralSecurity, config: ListingConfig) -> Money:
    """Σ appraisal value × LTV cap of its class, each rounded half-up to the fen."""
    return sum((a.appraisal.value.times_rate(ltv_cap(a.asset_class, config))
                for a in security.assets), Money(0))


class CollateralPolicy(BasePolicy):
    kind = ListingKind.COLLATERAL
    name_zh = "抵押标"
    name_en = "Collateral listing"
    security_type = CollateralSecurity
    default_action = DefaultAction.COLLATERAL_DISPOSAL

    def _validate(
        self, terms: ListingTerms, security: CollateralSecurity, ctx: ListingContext
    ) -> None:
        if not security.assets:
            raise InvalidInput("a collateral listing needs at least one pledged asset",
                               field="assets")
        for i, asset in enumerate(security.assets):
            where = f"assets[{i}]"
            if asset.asset_class not in ASSET_CLASSES:
                raise InvalidInput(f"unknown asset class {asset.asset_class!r}",
                                   field=f"{where}.asset_class")
            appraisal = asset.appraisal
            if appraisal.value.fen <= 0:
                raise InvalidInput("appraisal value must be positive",
                                   field=f"{where}.appraisal.value")
            if not appraisal.appraiser.strip():
                raise InvalidInput("appraiser must be named", field=f"{where}.appraisal.appraiser")
            if appraisal.appraised_on > ctx.today:
                raise InvalidInput(f"appraisal date {appraisal.appraised_on} is in the future",
                                   field=f"{where}.appraisal.appraised_on")
        capacity = lending_capacity(security, ctx.config)
        if terms.amount > capacity:
            raise InvalidInput(
                f"amount {terms.amount} exceeds {capacity}, the appraised value of the"
                " collateral times its loan-to-value caps", field="amount")

    def _gaps(
        self, terms: ListingTerms, security: CollateralSecurity, ctx: ListingContext
    ) -> list[Gap]:
        gaps = []
        oldest = ctx.config.appraisal_max_age_days
        for i, asset in enumerate(security.assets):
            name = f"asset {i + 1} ({asset.asset_class})"
            age = (ctx.today - asset.appraisal.appraised_on).days
            if age > oldest:
                gaps.append(Gap(f"assets[{i}].appraisal.appraised_on",
                                f"{name}: appraisal is {age} days old, at most {oldest} allowed"))
            check = FORMALITIES.get(asset.asset_class)
            for where, message in check(asset) if check else []:
                gaps.append(Gap(f"assets[{i}].{where}", f"{name}: {message}"))
        return gaps

    def risk_labels(
        self, terms: ListingTerms, security: CollateralSecurity, profile: ComplianceProfile
    ) -> list[RiskLabel]:
        labels = []
        for cls in dict.fromkeys(a.asset_class for a in security.assets):
            value = sum((a.appraisal.value for a in security.assets if a.asset_class == cls),
                        Money(0))
            labels.append(RiskLabel(
                f"secured_by_{cls}",
                Severity.INFO if cls in LIQUID_CLASSES else Severity.WARNING,
                f"抵押物：{NAMES_ZH[cls]}，评估价值 {value.formatted()} 元",
                f"Secured by {cls}, appraised at {value.formatted()} yuan"))
        total = sum((a.appraisal.value for a in security.assets), Money(0))
        if total.fen > 0:
            ltv = percent((Decimal(terms.amount.fen) / total.fen).quantize(Decimal("0.001")))
            labels.append(RiskLabel("loan_to_value", Severity.INFO,
                                    f"抵押率（借款金额/评估价值）{ltv}",
                                    f"Loan-to-value (amount / appraised value) {ltv}"))
        return labels

    def base_risk_level(self, security: CollateralSecurity) -> int:
        """The riskiest pledged asset decides: a house alone is the safest listing."""
        return max((RISK_LEVELS.get(a.asset_class, 3) for a in security.assets), default=3)


POLICY = CollateralPolicy()
