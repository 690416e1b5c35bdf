"""Credit bureau (征信) adapters: the protocol the risk service talks to, and a sandbox.

A provider answers three questions about an identity: do name, ID number, phone and bank card
belong together (four-element verification, 四要素核验); how much does the person owe on other
lending platforms; how many defaults do other platforms report. A production provider (an HTTP
client for a licensed bureau) implements the same protocol; tests and development use
`SandboxBureau`, whose answers are configurable per identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from biaodi.domain.shared.money import Money


class Verification(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    UNAVAILABLE = "unavailable"  # the bureau could not answer (timeout, no record)


@dataclass(frozen=True)
class FourElements:
    real_name: str
    id_number: str
    mobile: str
    bank_card: str


@dataclass(frozen=True)
class VerificationResult:
    status: Verification
    mismatched: tuple[str, ...] = ()  # which of real_name, id_number, mobile, bank_card


@dataclass(frozen=True)
class CreditReport:
    """What other platforms report about an identity; `available=False` if nothing came."""

    available: bool
    outstanding: Money = field(default_factory=Money.zero)
    platforms: int = 0
    defaults: int = 0


class BureauError(Exception):
    """The provider failed; the service treats it as an unavailable answer."""


class CreditBureau(Protocol):
    def verify(self, elements: FourElements) -> VerificationResult: ...

    def report(self, id_number: str) -> CreditReport: ...


__all__ = [
    "BureauError",
    "CreditBureau",
    "CreditReport",
    "FourElements",
    "Verification",
    "VerificationResult",
]
