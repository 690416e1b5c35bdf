"""Reading rule packs: TOML files shipped in biaodi/risk_modelling/packs (or any path), parsed
once."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from biaodi.domain.risk.rules import RulePack, parse_pack
from biaodi.domain.shared.errors import InvalidInput

PACKS = resources.files("biaodi.risk_modelling") / "packs"


def available_packs() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in PACKS.iterdir()
                  if p.name.endswith(".toml"))


def load_pack_file(path: Path) -> RulePack:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"cannot read rule pack {path}: {exc}", field="rule_pack") from None
    return parse_pack(raw)


@cache
def load_pack(name: str) -> RulePack:
    """A shipped pack by name (cn-2016, permissive) or a pack file by path."""
    if name.endswith(".toml"):
        return load_pack_file(Path(name))
    if name not in available_packs():
        known = ", ".join(available_packs())
        raise InvalidInput(f"unknown rule pack {name!r}; shipped packs: {known}",
                           field="rule_pack")
    raw = tomllib.loads((PACKS / f"{name}.toml").read_text(encoding="utf-8"))
    return parse_pack(raw)
