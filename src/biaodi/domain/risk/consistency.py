"""Data-consistency checks (数据一致性验证): pure functions from declared data to facts.

What one application says must agree with itself and with public standards: the ID number's
check digit and birth date (GB 11643) with the declared age, its region code (GB/T 2260) with
the declared province, a bank card's Luhn digit, a company's unified social credit code
(GB 32100), and the income with the instalments it has to carry. Checks across identities
(shared phones, cards, devices) and against the bureau need I/O and live in services/risk.py;
they produce plain counts and answers that end up as facts too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from biaodi.domain.accounts.identity import PROVINCES, parse_resident_id
from biaodi.domain.listings.schedule import first_level_payment
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money

#: Debt-to-income reported when no income is declared: above every threshold.
NO_INCOME_DTI = Decimal(99)
_CARD_RE = re.compile(r"^[0-9]{12,19}$")
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PROVINCE_CODES = {name: code for code, name in PROVINCES.items()}


@dataclass(frozen=True)
class IdFacts:
    """What an ID number says, or `valid=False` when it is malformed."""

    valid: bool
    birth_date: date | None = None
    province_code: str | None = None

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @property
    def province(self) -> str | None:
        return PROVINCES.get(self.province_code or "")


def id_facts(number: str, today: date) -> IdFacts:
    """Format, birth date and GB 11643 check digit, without raising."""
    try:
        resident = parse_resident_id(number, today=today, minimum_age=0)
    except InvalidInput:
        return IdFacts(valid=False)
    return IdFacts(True, resident.birth_date, resident.province_code)


def province_code(declared: str, *, field: str = "province") -> str:
    """A declared province as its two-digit GB/T 2260 code: "11", "北京" or "北京市"."""
    if not isinstance(declared, str):
        raise InvalidInput(f"{field} must be text, e.g. 北京 or its code 11", field=field)
    text = declared.strip()
    if text in PROVINCES:
        return text
    for suffix in ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区"):
        if text.endswith(suffix) and text[: -len(suffix)] in _PROVINCE_CODES:
            return _PROVINCE_CODES[text[: -len(suffix)]]
    if text in _PROVINCE_CODES:
        return _PROVINCE_CODES[text]
    raise InvalidInput(
        f"{field} must be a province-level division, e.g. 北京 or its code 11", field=field
    )


def age_at_maturity(birth: date, start: date, term_months: int) -> int:
    months = (start.year - birth.year) * 12 + start.month - birth.month + term_months
    if start.day < birth.day:
        months -= 1
    return months // 12


def normalise_card(raw: str, *, field: str = "bank_card") -> str:
    if not isinstance(raw, str):
        raise InvalidInput(f"{field} must be a string of 12 to 19 digits", field=field)
    digits = raw.replace(" ", "").replace("-", "")
    if not _CARD_RE.match(digits):
        raise InvalidInput(f"{field} must be 12 to 19 digits", field=field)
    return digits


def luhn_ok(digits: str) -> bool:
    """ISO/IEC 7812 check digit of a bank card number (UnionPay cards use it too)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def mask_card(digits: str) -> str:
    return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"


def credit_code_ok(code: str) -> bool:
    """Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters, the last a
    MOD 31 check character."""
    text = code.strip().upper()
    if len(text) != 18 or any(c not in _CODE_CHARS for c in text):
        return False
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(text[:17], _CODE_WEIGHTS, strict=True))
    return _CODE_CHARS[(31 - total % 31) % 31] == text[17]


def monthly_instalment(amount: Money, annual_rate: Decimal, term_months: int,
                       start: date) -> Money:
    """The level monthly payment (等额本息) of `amount` over `term_months` at `annual_rate`."""
    return first_level_payment(amount, annual_rate, term_months, start)


def debt_to_income(instalment: Money, existing_payments: Money, income: Money) -> Decimal:
    """(new instalment + existing monthly debt payments) ÷ monthly income, to 4 decimals."""
    if income.fen <= 0:
        return NO_INCOME_DTI
    ratio = Decimal(instalment.fen + existing_payments.fen) / Decimal(income.fen)
    return ratio.quantize(Decimal("0.0001"))


def loan_to_value(amount: Money, security_value: Money | None) -> Decimal | None:
    if security_value is None or security_value.fen <= 0:
        return None
    return (Decimal(amount.fen) / Decimal(security_value.fen)).quantize(Decimal("0.0001"))
