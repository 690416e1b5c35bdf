"""The facts an application decision is made on: every rule of a rule pack tests one of them.

Consistency checks, the bureau, the blacklist and the scoring model produce the facts; the
rule packs decide what they mean. A fact may be None (not known, e.g. the bureau did not
answer): rules on it then do not fire, and a separate rule refers the case to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from biaodi.domain.shared.money import Money


class FactKind(StrEnum):
    BOOL = "bool"
    INT = "int"
    MONEY = "money"  # Money
    RATIO = "ratio"  # Decimal fraction, shown as a percentage
    RATE = "rate"  # Decimal annual rate, shown as a percentage with two decimals
    TEXT = "text"
    LIST = "list"  # tuple of str


@dataclass(frozen=True)
class FactSpec:
    name: str
    kind: FactKind
    description: str


_SPECS = (
    FactSpec("borrower_type", FactKind.TEXT, "natural (自然人) or legal (法人) person"),
    FactSpec("listing_kind", FactKind.TEXT, "the listing type applied for"),
    FactSpec("requested_amount", FactKind.MONEY, "amount applied for"),
    FactSpec("term_months", FactKind.INT, "term applied for, in months"),
    FactSpec("identity_matches_account", FactKind.BOOL,
             "name and ID number equal the applicant's real-name account"),
    FactSpec("id_checksum_ok", FactKind.BOOL,
             "ID number well formed, birth date real, GB 11643 check digit right"),
    FactSpec("id_age", FactKind.INT, "age from the ID number's birth date"),
    FactSpec("declared_age", FactKind.INT, "age the applicant declared"),
    FactSpec("age_difference", FactKind.INT, "years between declared age and the ID's age"),
    FactSpec("age_at_maturity", FactKind.INT, "age (from the ID) when the loan matures"),
    FactSpec("id_province", FactKind.TEXT, "province of the ID's region code (GB/T 2260)"),
    FactSpec("declared_province", FactKind.TEXT, "province of household registration declared"),
    FactSpec("id_province_matches", FactKind.BOOL, "the two provinces are the same"),
    FactSpec("credit_code_ok", FactKind.BOOL,
             "legal person's unified social credit code valid (GB 32100); None for people"),
    FactSpec("bank_card_ok", FactKind.BOOL, "bank card number passes the Luhn check"),
    FactSpec("four_elements", FactKind.TEXT,
             "bureau check of name, ID, phone and card: match, mismatch or unavailable"),
    FactSpec("four_elements_mismatched", FactKind.LIST, "the elements the bureau did not match"),
    FactSpec("phone_shared_identities", FactKind.INT,
             "other identities that used the same phone number"),
    FactSpec("card_shared_identities", FactKind.INT,
             "other identities that used the same bank card"),
    FactSpec("device_shared_identities", FactKind.INT,
             "other identities that applied from the same device"),
    FactSpec("blacklist_hits", FactKind.LIST,
             "blacklist entries matched (id, phone, card, device)"),
    FactSpec("other_platform_defaults", FactKind.INT, "defaults on other platforms (bureau)"),
    FactSpec("platform_outstanding", FactKind.MONEY, "the borrower's outstanding on Biaodi"),
    FactSpec("platform_outstanding_after", FactKind.MONEY,
             "outstanding on Biaodi if this application is granted"),
    FactSpec("all_platforms_outstanding_after", FactKind.MONEY,
             "outstanding on all platforms (bureau + Biaodi) if granted"),
    FactSpec("monthly_income", FactKind.MONEY, "declared monthly income"),
    FactSpec("monthly_instalment", FactKind.MONEY,
             "the new loan's monthly instalment at the top of its rate band"),
    FactSpec("debt_to_income", FactKind.RATIO,
             "(new instalment + existing monthly debt payments) ÷ monthly income"),
    FactSpec("loan_to_value", FactKind.RATIO, "amount ÷ appraised security value, if any"),
    FactSpec("employment_years", FactKind.INT, "years with the current employer"),
    FactSpec("score", FactKind.INT, "scorecard points (PDO 20, 600 at 19:1 odds)"),
    FactSpec("grade", FactKind.TEXT, "grade A, B, C, D, E or HR"),
    FactSpec("rate_band_min", FactKind.RATE, "lowest rate of the grade's band after the cost cap"),
    FactSpec("rate_band_max", FactKind.RATE, "highest rate of the grade's band after the cap"),
    FactSpec("grade_rate_min", FactKind.RATE, "lowest rate of the grade's band, before any cap"),
    FactSpec("cost_cap_rate", FactKind.RATE,
             "legal cost cap for a contract made today: a fixed rate or a multiple × the LPR"),
    FactSpec("cost_cap_rule", FactKind.TEXT,
             "the compliance rule whose cost cap applies today (the pack's dated table)"),
    FactSpec("rate_band_clipped", FactKind.BOOL, "the cost cap cut the top of the rate band"),
)
FACTS: Mapping[str, FactSpec] = MappingProxyType({s.name: s for s in _SPECS})


def display(kind: FactKind, value: Any) -> str:
    """A fact value as text for a message: 200,000.00 · 55% · 12.00% · a, b."""
    if value is None:
        return "—"
    if kind is FactKind.MONEY and isinstance(value, Money):
        return value.formatted()
    if isinstance(value, Decimal) and (not value.is_finite() or value.adjusted() > 12):
        return str(value)  # NaN, Infinity or absurdly large: shown as is, never a crash
    if kind is FactKind.RATIO and isinstance(value, Decimal):
        return f"{(value * 100).quantize(Decimal('0.1')).normalize():f}%"
    if kind is FactKind.RATE and isinstance(value, Decimal):
        return f"{value * 100:.2f}%"
    if kind is FactKind.LIST and isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    if kind is FactKind.BOOL:
        return "yes" if value else "no"
    return str(value)
