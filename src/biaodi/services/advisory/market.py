"""The choices live advice picks from: each grade of the risk model in each listing type, with
its coupon (the middle of the grade's rate band in the rule pack), its annual PD (the model
card's mean PD over the term, made annual), the type's LGD (assumptions.toml) and the listing
risk level the suitability check gives it (the type's base level plus the grade's bump)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any

from biaodi.domain.advisory.model import GradeInput, annual_pd
from biaodi.domain.listings import policy_for
from biaodi.domain.listings.policy import listing_risk_level
from biaodi.domain.shared.errors import InvalidInput
from biaodi.risk_modelling.model import CARD_FILE, DEFAULT_MODEL
from biaodi.risk_modelling.rulepacks import load_pack

ASSUMPTIONS = resources.files("biaodi.services.advisory") / "assumptions.toml"
#: A listing of a type whose security is not known yet: a 抵押标 then counts at the riskiest
#: level its pledged assets may give (auto-invest rules choose types, not asset classes).
_ANY_SECURITY = SimpleNamespace(assets=())


@dataclass(frozen=True)
class Assumptions:
    term_months: int
    term_source: str
    lgd: MappingProxyType[str, Decimal]
    lgd_source: MappingProxyType[str, str]


@cache
def assumptions() -> Assumptions:
    raw = tomllib.loads(ASSUMPTIONS.read_text(encoding="utf-8"))
    lgd = raw["lgd"]
    return Assumptions(int(raw["term_months"]), str(raw["term_source"]),
                       MappingProxyType({k: Decimal(v["lgd"]) for k, v in lgd.items()}),
                       MappingProxyType({k: str(v["source"]) for k, v in lgd.items()}))


def _card_grades(model_dir: str | None) -> dict[str, float]:
    folder = Path(model_dir) if model_dir else Path(str(DEFAULT_MODEL))
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read the risk model's card in {folder}: {exc}",
                           field="risk_model_dir") from None
    return {row["grade"]: float(row["mean_pd"]) for row in card.get("grades", [])
            if row.get("mean_pd") is not None}


@cache
def options(pack_name: str, model_dir: str | None = None) -> tuple[GradeInput, ...]:
    """Every (grade, listing type) with a PD in the model card, a band in the pack and an LGD
    in the assumptions, grade by grade."""
    pack = load_pack(pack_name)
    found = assumptions()
    mean_pd = _card_grades(model_dir)
    out = []
    for grade, policy in pack.grades.items():
        if grade.value not in mean_pd:
            continue
        band = policy.rate_band
        rate = ((band.low + band.high) / 2).quantize(Decimal("0.0001"))
        pd = Decimal(str(round(annual_pd(mean_pd[grade.value], found.term_months), 6)))
        for kind, lgd in found.lgd.items():
            base = policy_for(kind).base_risk_level(_ANY_SECURITY)
            out.append(GradeInput(grade.value, rate, pd, lgd,
                                  listing_risk_level(base, grade.value), kind))
    if not out:
        raise InvalidInput(f"the rule pack {pack_name} and the risk model share no grade",
                           field="risk_model_dir")
    return tuple(out)


def options_for(settings: Any) -> tuple[GradeInput, ...]:
    """The choices for a platform's configured rule pack and risk model."""
    return options(settings.risk_rule_pack or settings.compliance_profile,
                   settings.risk_model_dir)
