from datetime import date

import pytest

from biaodi.domain.accounts.identity import make_resident_id, parse_mobile, parse_resident_id
from biaodi.domain.shared.errors import InvalidInput

TODAY = date(2026, 11, 28)


def test_valid_id_number_yields_birth_date_sex_and_mask() -> None:
    # 11010519491231002X is the worked example of GB 11643's check digit (X = 10).
    resident = parse_resident_id("11010519491231002x", today=TODAY)
    assert resident.number == "11010519491231002X"
    assert resident.birth_date == date(1949, 12, 31)
    assert resident.sex == "F"
    assert resident.province == "北京"
    assert resident.masked == "110***********002X"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("11010519491231002", "18 characters"),
        ("110105194912310021", "check digit"),
        ("11010519491331002X", "impossible birth date"),
        ("1101051949123100AX", "17 digits"),
        ("990105194912310021", "unknown province"),
        (make_resident_id("110101", date(2027, 1, 1), 1), "impossible birth date"),
        (make_resident_id("110101", date(2010, 1, 1), 1), "under 18"),
        (make_resident_id("110101", date(2008, 11, 29), 1), "under 18"),
    ],
)
def test_bad_id_numbers_are_refused(number: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_resident_id(number, today=TODAY)
    assert info.value.field == "id_number"
    assert fragment in info.value.message


def test_eighteenth_birthday_is_adult() -> None:
    number = make_resident_id("310101", date(2008, 11, 28), 7)
    assert parse_resident_id(number, today=TODAY).age_on(TODAY) == 18


@pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "8613812345678"])
def test_mobile_numbers(raw: str) -> None:
    assert parse_mobile(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "abc"])
def test_bad_mobile_numbers(raw: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_mobile(raw)
    assert info.value.field == "mobile"
