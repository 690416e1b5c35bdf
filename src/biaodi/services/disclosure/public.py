"""What the disclosure pages and API show besides the monthly reports: the institution and
custody details from configuration, the fee schedule in force, and the complaints figures."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.config import Settings
from biaodi.domain.disclosure.institution import SANDBOX, Institution, parse_institution
from biaodi.domain.shared.compliance import profile_named
from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.support.tickets import complaints_summary

PPM = Decimal(1_000_000)


def institution(settings: Settings) -> Institution:
    """The configured details (`BIAODI_DISCLOSURE_INSTITUTION_FILE`), else the sandbox's."""
    path = settings.disclosure_institution_file
    if path is None:
        return SANDBOX
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read the institution file {path}: {exc.strerror}",
                           field="disclosure_institution_file") from None
    return parse_institution(text, source="disclosure_institution_file")


def institution_view(settings: Settings) -> dict[str, Any]:
    return asdict(institution(settings))


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def fee_schedule(settings: Settings) -> list[dict[str, Any]]:
    """Every fee a user can be charged (收费标准): the platform's yearly service fee by listing
    type and term (from the compliance profile), the secondary-market transfer fee, the
    penalty interest on overdue amounts, and the guarantee fee (set per guarantor, shown on
    each listing)."""
    profile = profile_named(settings.compliance_profile)
    rows: list[dict[str, Any]] = []
    for kind in sorted(profile.service_fees):
        lower = 0
        for band in profile.service_fees[kind]:
            upto = "" if band.max_days is None else f"{band.max_days}"
            rows.append({"fee": "service_fee", "listing_kind": kind,
                         "term_days": f"{lower + 1}-{upto}" if upto else f"{lower + 1}+",
                         "rate": _percent(band.annual_rate), "basis": "yearly, on principal owed",
                         "payer": "borrower"})
            lower = band.max_days or lower
    rows.append({"fee": "transfer_fee", "listing_kind": "", "term_days": "",
                 "rate": _percent(settings.secondary_transfer_fee),
                 "basis": "on the price of a claim sold on the secondary market",
                 "payer": "seller"})
    rows.append({"fee": "penalty_interest", "listing_kind": "", "term_days": "",
                 "rate": _percent(Decimal(settings.servicing_penalty_daily_ppm) / PPM),
                 "basis": (f"daily, on overdue amounts after {settings.servicing_grace_days}"
                           " days of grace"), "payer": "borrower"})
    rows.append({"fee": "guarantee_fee", "listing_kind": "guarantee", "term_days": "",
                 "rate": "per guarantor", "basis": "yearly, on principal owed; on each listing",
                 "payer": "borrower"})
    return rows


def complaints(uow: UnitOfWork) -> dict[str, Any]:
    """The public complaints channel's figures since the platform opened (the guideline asks
    for complaints and their handling): received, resolved, open, hours to resolve, decided
    after the 15-day limit, response targets missed (`services/support/tickets.py`)."""
    return complaints_summary(uow)
