"""Borrowing caps (cn-2016 art. 17): how much one borrower may owe on this platform and on all
online lending platforms together, by borrower type. Pure arithmetic on figures the services
gather; every refusal names the rule `cn2016.borrowing_caps`."""

from __future__ import annotations

from dataclasses import dataclass, field

from biaodi.domain.shared.compliance import BORROWING_CAPS, ComplianceProfile, ComplianceViolation
from biaodi.domain.shared.money import Money

NATURAL, LEGAL = "natural", "legal"
#: How the caps name each type; a borrower whose type is unknown counts as a natural person
#: (the lower caps), the safe side of article 17.
_TYPE_NAMES = {NATURAL: "a natural person", LEGAL: "a legal person or other organisation"}


@dataclass(frozen=True)
class BorrowerStanding:
    """What the caps need to know about a borrower: the type and what they owe elsewhere."""

    borrower_type: str = NATURAL
    other_platforms: Money = field(default_factory=Money.zero)
    #: Where the figures come from ("risk application 12", or "no risk application").
    source: str = "no risk application: counted as a natural person"


def platform_cap(profile: ComplianceProfile, borrower_type: str) -> Money | None:
    """The most one borrower of this type may owe on this platform; None: no cap."""
    if borrower_type == LEGAL:
        return profile.legal_person_platform_cap
    return profile.natural_person_platform_cap


def all_platforms_cap(profile: ComplianceProfile, borrower_type: str) -> Money | None:
    if borrower_type == LEGAL:
        return profile.legal_person_all_platforms_cap
    return profile.natural_person_all_platforms_cap


def type_name(borrower_type: str) -> str:
    return _TYPE_NAMES.get(borrower_type, _TYPE_NAMES[NATURAL])


def check_borrowing_caps(profile: ComplianceProfile, standing: BorrowerStanding, *,
                         outstanding: Money, amount: Money) -> None:
    """Refuse `amount` more if the borrower's outstanding on this platform (`outstanding`,
    without this amount) plus it would pass the platform cap, or, with what they owe on other
    platforms, the all-platforms cap."""
    who = type_name(standing.borrower_type)
    cap = platform_cap(profile, standing.borrower_type)
    if cap is not None and outstanding + amount > cap:
        headroom = max(cap - outstanding, Money.zero())
        raise ComplianceViolation(
            BORROWING_CAPS,
            f"{who} may owe at most {cap} on this platform: outstanding {outstanding},"
            f" headroom {headroom}, this listing {amount}", field="amount")
    total_cap = all_platforms_cap(profile, standing.borrower_type)
    owed = outstanding + standing.other_platforms
    if total_cap is not None and owed + amount > total_cap:
        headroom = max(total_cap - owed, Money.zero())
        raise ComplianceViolation(
            BORROWING_CAPS,
            f"{who} may owe at most {total_cap} on all lending platforms together:"
            f" outstanding {owed} ({outstanding} here, {standing.other_platforms} elsewhere"
            f" per {standing.source}), headroom {headroom}, this listing {amount}",
            field="amount")


def check_credit_limit(profile: ComplianceProfile, borrower_type: str, limit: Money) -> None:
    """A 信用标 credit limit may not exceed the platform cap of the borrower's type."""
    cap = platform_cap(profile, borrower_type)
    if cap is not None and limit > cap:
        raise ComplianceViolation(
            BORROWING_CAPS,
            f"a credit limit of {limit} exceeds the {cap} that {type_name(borrower_type)}"
            f" may owe on this platform", field="limit")
