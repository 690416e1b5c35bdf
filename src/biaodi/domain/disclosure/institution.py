"""The platform's institution and custody details (机构信息, 存管信息), from configuration.

Without a file configured the platform shows the sandbox's own details, marked as such, so a
demonstration never passes for a registered institution."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from biaodi.domain.shared.errors import InvalidInput


@dataclass(frozen=True)
class Institution:
    name: str
    unified_credit_code: str  # 统一社会信用代码
    registered_capital: str  # as registered, e.g. "5,000 万元"
    paid_in_capital: str
    registered_address: str
    established_on: str  # YYYY-MM-DD
    legal_representative: str
    business_scope: str
    filing_number: str  # 备案登记 with the local financial regulator
    icp_licence: str  # 电信业务经营许可证 / ICP 备案
    custody_bank: str  # 资金存管银行
    custody_agreement_since: str  # YYYY-MM-DD
    contact: str
    sandbox: bool = False


SANDBOX = Institution(
    name="标的网络借贷信息中介（演示）", unified_credit_code="(sandbox: none)",
    registered_capital="(sandbox)", paid_in_capital="(sandbox)",
    registered_address="(sandbox)", established_on="2026-11-28",
    legal_representative="(sandbox)", business_scope="网络借贷信息中介服务（演示）",
    filing_number="(sandbox: not filed)", icp_licence="(sandbox: none)",
    custody_bank="(sandbox gateway)", custody_agreement_since="2026-11-28",
    contact="(sandbox)", sandbox=True)

REQUIRED = tuple(f.name for f in fields(Institution) if f.name != "sandbox")


def parse_institution(text: str, *, source: str = "disclosure_institution") -> Institution:
    """A JSON object with every field of `Institution` (strings); a missing or unknown field
    is refused naming it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source} is not JSON: {exc.msg}", field=source) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{source} must be a JSON object", field=source)
    unknown = sorted(set(data) - set(REQUIRED) - {"sandbox"})
    if unknown:
        raise InvalidInput(f"{source} has unknown fields: {', '.join(unknown)}",
                           field=f"{source}.{unknown[0]}")
    for name in REQUIRED:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise InvalidInput(f"{source}.{name} is required (a non-empty string)",
                               field=f"{source}.{name}")
    return Institution(**{name: data[name].strip() for name in REQUIRED},
                       sandbox=bool(data.get("sandbox", False)))
