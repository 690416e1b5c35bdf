"""Real-name data: the Chinese resident identity number and mobile numbers.

The resident ID number follows GB 11643-1999: 6 digits of region code, 8 of birth date
(YYYYMMDD), 3 of sequence (odd for men, even for women) and a check character computed with
ISO 7064 MOD 11-2 ("X" stands for 10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from biaodi.domain.shared.errors import InvalidInput

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")
#: Mainland mobile numbers: 11 digits starting 13–19 (MIIT numbering plan).
_MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
MINIMUM_AGE = 18

#: First two digits of the region code: province-level divisions (GB/T 2260).
PROVINCES = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
}


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    province_code: str
    sex: str  # "M" or "F"

    @property
    def province(self) -> str:
        return PROVINCES[self.province_code]

    @property
    def masked(self) -> str:
        """First 3 and last 4 characters shown, as Chinese platforms display ID numbers."""
        return f"{self.number[:3]}{'*' * 11}{self.number[-4:]}"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def parse_resident_id(
    raw: str, *, today: date, field: str = "id_number", minimum_age: int = MINIMUM_AGE
) -> ResidentId:
    """Validate an 18-character resident ID number; refuse with `InvalidInput` naming `field`."""
    if not isinstance(raw, str):
        raise InvalidInput(f"{field} must be a string of 18 characters", field=field)
    number = raw.strip().upper()
    if len(number) != 18:
        raise InvalidInput(f"{field} must have 18 characters (got {len(number)})", field=field)
    if not _ID_RE.match(number):
        raise InvalidInput(f"{field} must be 17 digits followed by a digit or X", field=field)
    if number[:2] not in PROVINCES:
        raise InvalidInput(f"{field} has an unknown province code {number[:2]}", field=field)
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput(
            f"{field} contains an impossible birth date {number[6:14]}", field=field
        ) from None
    if birth > today or birth.year < 1900:
        raise InvalidInput(f"{field} contains an impossible birth date {number[6:14]}", field=field)
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise InvalidInput(f"{field} check digit is wrong (GB 11643 MOD 11-2)", field=field)
    resident = ResidentId(
        number=number,
        birth_date=birth,
        province_code=number[:2],
        sex="M" if int(number[16]) % 2 else "F",
    )
    if resident.age_on(today) < minimum_age:
        raise InvalidInput(
            f"{field} belongs to a person under {minimum_age}; only adults may register",
            field=field,
        )
    return resident


def make_resident_id(region: str, birth: date, sequence: int) -> str:
    """Build a valid ID number (for demo data and tests): 6-digit region, birth, 3-digit seq."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def parse_mobile(raw: str, *, field: str = "mobile") -> str:
    """A mainland mobile number, 11 digits; an optional +86 / 86 prefix and spaces are dropped."""
    if not isinstance(raw, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    digits = raw.replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE_RE.match(digits):
        raise InvalidInput(
            f"{field} must be a mainland mobile number of 11 digits starting 13–19", field=field
        )
    return digits


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}"
