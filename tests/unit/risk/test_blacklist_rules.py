"""Blacklist terms: canonical values, masks, expiry per reason, M3."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from biaodi.domain.accounts.identity import make_resident_id
from biaodi.domain.risk.blacklist import (
    ListKind,
    ListReason,
    expiry,
    is_past_m3,
    mask,
    normalise,
    removal_reason,
)
from biaodi.domain.shared.errors import InvalidInput
from biaodi.risk_modelling.rulepacks import load_pack

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 2, tzinfo=UTC)


def test_values_are_normalised_before_digesting() -> None:
    number = make_resident_id("110101", date(1990, 1, 2), 3)
    assert normalise(ListKind.ID_NUMBER, number.lower(), TODAY) == number
    assert normalise(ListKind.MOBILE, "+86 138 0000 1111", TODAY) == "13800001111"
    assert normalise(ListKind.BANK_CARD, "6222 0202 0011 2233", TODAY) == "6222020200112233"
    assert normalise(ListKind.DEVICE, "  ab12cd34  ", TODAY) == "ab12cd34"


@pytest.mark.parametrize(("kind", "value"), [
    (ListKind.ID_NUMBER, "110101199003071234"), (ListKind.MOBILE, "12345"),
    (ListKind.BANK_CARD, "12ab"), (ListKind.DEVICE, "abc"),
])
def test_malformed_values_are_refused_naming_the_field(kind: ListKind, value: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalise(kind, value, TODAY)
    assert exc.value.field == "value"


def test_masks_never_show_the_whole_value() -> None:
    assert mask(ListKind.ID_NUMBER, "11010119900102003X") == "110***********003X"
    assert mask(ListKind.MOBILE, "13800001111") == "138****1111"
    assert mask(ListKind.BANK_CARD, "6222020200112233") == "6222********2233"
    assert mask(ListKind.DEVICE, "device-fingerprint") == "devi…nt"


def test_expiry_follows_the_pack_per_reason() -> None:
    terms = load_pack("cn-2016").blacklist
    assert expiry(ListReason.DEFAULT_M3, terms, NOW) == NOW + timedelta(days=1825)
    assert expiry(ListReason.LINKED, terms, NOW) == NOW + timedelta(days=365)
    assert expiry(ListReason.FRAUD, terms, NOW) is None  # until removed
    assert expiry(ListReason.MANUAL, terms, NOW, days=30) == NOW + timedelta(days=30)
    assert expiry(ListReason.MANUAL, terms, NOW, days=0) is None
    with pytest.raises(InvalidInput, match="cannot be negative"):
        expiry(ListReason.MANUAL, terms, NOW, days=-1)


def test_past_m3_means_over_90_days() -> None:
    assert not is_past_m3(90) and is_past_m3(91)


def test_removal_needs_a_reason() -> None:
    assert removal_reason("  paid in full, confirmed ") == "paid in full, confirmed"
    with pytest.raises(InvalidInput, match="needs a reason") as exc:
        removal_reason(" ok ")
    assert exc.value.field == "reason"
