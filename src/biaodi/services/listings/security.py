"""How each listing type's security is stored and loaded.

One entry per security type, found through the policy's `security_type`, so that use cases
never branch on a listing's kind: `store` keeps what the applicant declared, `load` rebuilds the
security object as it stands now (limits used, reserve balances, offline steps recorded), and
`extra_fields` names the type-specific request fields it accepts; `brief`, where a type has
one, gives the facts browse shows for a page of its listings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select

from biaodi.adapters.db.tables import (
    CreditLimit,
    GuarantorProfile,
    Listing,
    OfflineStepRow,
    PledgedAssetRow,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import OwnerKind, payable_account, wallet
from biaodi.domain.listings.collateral import (
    Appraisal,
    AssetClass,
    CollateralSecurity,
    HouseFormalities,
    OfflineStep,
    PledgedAsset,
    VehicleRegistration,
)
from biaodi.domain.listings.credit import CreditSecurity
from biaodi.domain.listings.guarantee import GuaranteeSecurity
from biaodi.domain.listings.instant import InstantSecurity
from biaodi.domain.listings.transfer import TransferSecurity, coverage_of
from biaodi.domain.shared.errors import InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.rates import ppm_to_rate, rate_to_ppm

#: Statuses in which a listing uses up a credit limit or a guarantor's capacity.
COMMITTED = ("submitted", "approved", "published", "funded", "repaying", "overdue")
OUTSTANDING = ("published", "funded", "repaying", "overdue")


@dataclass(frozen=True)
class AssetInput:
    asset_class: str
    appraisal_value: Money
    appraised_on: date
    appraiser: str
    description: str = ""
    plate_number: str | None = None
    registration_certificate_no: str | None = None


@dataclass(frozen=True)
class ClaimInput:
    """The existing claim a transfer listing sells shares of."""

    principal: Money
    annual_rate: Decimal
    maturity: date


@dataclass(frozen=True)
class SecurityInput:
    """Type-specific parts of a listing application; each type uses its own."""

    assets: tuple[AssetInput, ...] = ()
    guarantor_id: int | None = None
    claim: ClaimInput | None = None

    def given(self) -> set[str]:
        names = set()
        if self.assets:
            names.add("assets")
        if self.guarantor_id is not None:
            names.add("guarantor_id")
        if self.claim is not None:
            names.add("claim")
        return names


@dataclass(frozen=True)
class SecurityStore:
    extra_fields: frozenset[str]
    store: Callable[[UnitOfWork, Listing, SecurityInput], None]
    load: Callable[[UnitOfWork, Listing], Any]
    #: Facts about the security shown in browse, for a page of listings of this type at once
    #: (listing id → name → value); None: nothing beyond the listing itself.
    brief: Callable[[UnitOfWork, list[Listing]], dict[int, dict[str, Any]]] | None = None


# --- credit -------------------------------------------------------------------------------
def _store_nothing(uow: UnitOfWork, listing: Listing, given: SecurityInput) -> None:
    return None


def _load_credit(uow: UnitOfWork, listing: Listing) -> CreditSecurity:
    row = uow.s.get(CreditLimit, listing.applicant_id)
    used = uow.s.execute(
        select(func.coalesce(func.sum(Listing.amount_fen), 0)).where(
            Listing.applicant_id == listing.applicant_id,
            Listing.kind == listing.kind,
            Listing.status.in_(COMMITTED),
            Listing.id != listing.id,
        )
    ).scalar()
    return CreditSecurity(
        credit_limit=Money(row.limit_fen) if row else None, credit_used=Money(int(used or 0))
    )


# --- collateral ---------------------------------------------------------------------------
def _store_assets(uow: UnitOfWork, listing: Listing, given: SecurityInput) -> None:
    if not given.assets:
        raise InvalidInput("a collateral listing needs at least one pledged asset", field="assets")
    for index, asset in enumerate(given.assets):
        try:
            AssetClass(asset.asset_class)
        except ValueError:
            classes = ", ".join(c.value for c in AssetClass)
            raise InvalidInput(
                f"assets[{index}].asset_class must be one of {classes}",
                field=f"assets.{index}.asset_class",
            ) from None
        if not asset.appraiser.strip():
            raise InvalidInput("the appraiser is required", field=f"assets.{index}.appraiser")
        uow.s.add(
            PledgedAssetRow(
                listing_id=listing.id,
                asset_class=asset.asset_class,
                description=asset.description.strip(),
                appraisal_value_fen=asset.appraisal_value.fen,
                appraised_on=asset.appraised_on,
                appraiser=asset.appraiser.strip(),
                plate_number=asset.plate_number,
                registration_certificate_no=asset.registration_certificate_no,
            )
        )
    uow.s.flush()


def _load_collateral(uow: UnitOfWork, listing: Listing) -> CollateralSecurity:
    rows = uow.s.scalars(
        select(PledgedAssetRow)
        .where(PledgedAssetRow.listing_id == listing.id)
        .order_by(PledgedAssetRow.id)
    ).all()
    steps: dict[int, dict[str, OfflineStep]] = {}
    for step in uow.s.scalars(
        select(OfflineStepRow).where(OfflineStepRow.asset_id.in_([r.id for r in rows]))
    ):
        steps.setdefault(step.asset_id, {})[step.step] = OfflineStep(
            done_on=step.done_on, operator_id=step.operator_id, reference=step.reference
        )
    assets = []
    for row in rows:
        recorded = steps.get(row.id, {})
        vehicle = (
            VehicleRegistration(row.plate_number, row.registration_certificate_no)
            if row.plate_number and row.registration_certificate_no
            else None
        )
        assets.append(
            PledgedAsset(
                asset_class=AssetClass(row.asset_class),
                appraisal=Appraisal(
                    Money(row.appraisal_value_fen), row.appraised_on, row.appraiser
                ),
                description=row.description,
                house=HouseFormalities(**recorded),
                vehicle=vehicle,
            )
        )
    return CollateralSecurity(assets=tuple(assets))


def _brief_collateral(uow: UnitOfWork, rows: list[Listing]) -> dict[int, dict[str, Any]]:
    """Browse: each collateral listing's loan-to-value (amount / appraised value of all its
    assets), as its risk label states it, in one query for the page."""
    totals: dict[int, int] = dict(uow.s.execute(  # type: ignore[arg-type]
        select(PledgedAssetRow.listing_id, func.sum(PledgedAssetRow.appraisal_value_fen))
        .where(PledgedAssetRow.listing_id.in_([r.id for r in rows]))
        .group_by(PledgedAssetRow.listing_id)).all())
    return {row.id: {"loan_to_value": (Decimal(row.amount_fen) / int(totals[row.id]))
                     .quantize(Decimal("0.001"))}
            for row in rows if totals.get(row.id)}


# --- guarantee ----------------------------------------------------------------------------
def _store_guarantor(uow: UnitOfWork, listing: Listing, given: SecurityInput) -> None:
    if given.guarantor_id is None:
        raise InvalidInput("a guarantee listing names its guarantor", field="guarantor_id")
    if uow.s.get(GuarantorProfile, given.guarantor_id) is None:
        raise InvalidInput(
            f"user {given.guarantor_id} is not a guarantor with terms on file",
            field="guarantor_id",
        )
    listing.guarantor_id = given.guarantor_id


def _load_guarantee(uow: UnitOfWork, listing: Listing) -> GuaranteeSecurity:
    profile = uow.s.get(GuarantorProfile, listing.guarantor_id)
    if profile is None:
        raise NotFound("the listing's guarantor has no terms on file", field="guarantor_id")
    outstanding = uow.s.execute(
        select(func.coalesce(func.sum(Listing.amount_fen), 0)).where(
            Listing.guarantor_id == profile.user_id,
            Listing.status.in_(OUTSTANDING),
            Listing.id != listing.id,
        )
    ).scalar()
    return GuaranteeSecurity(
        guarantor_id=profile.user_id,
        guarantor_name=profile.name,
        capacity=Money(profile.capacity_fen),
        outstanding=Money(int(outstanding or 0)),
        fee_rate=ppm_to_rate(profile.fee_rate_ppm),
        compensation_days=profile.compensation_days,
    )


def _brief_guarantee(uow: UnitOfWork, rows: list[Listing]) -> dict[int, dict[str, Any]]:
    """Browse: each guarantee listing's guarantor and the capacity it has left (capacity less
    every outstanding listing it guarantees), one look-up per guarantor on the page."""
    ids = {r.guarantor_id for r in rows if r.guarantor_id is not None}
    profiles = {p.user_id: p for p in uow.s.scalars(
        select(GuarantorProfile).where(GuarantorProfile.user_id.in_(ids)))}
    used: dict[int, int] = dict(uow.s.execute(  # type: ignore[arg-type]
        select(Listing.guarantor_id, func.sum(Listing.amount_fen))
        .where(Listing.guarantor_id.in_(ids), Listing.status.in_(OUTSTANDING))
        .group_by(Listing.guarantor_id)).all())
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        profile = profiles.get(row.guarantor_id or 0)
        if profile is not None:
            left = max(profile.capacity_fen - int(used.get(profile.user_id) or 0), 0)
            out[row.id] = {"guarantor_name": profile.name, "guarantor_remaining": Money(left)}
    return out


# --- transfer -----------------------------------------------------------------------------
def _store_claim(uow: UnitOfWork, listing: Listing, given: SecurityInput) -> None:
    if given.claim is None:
        raise InvalidInput("a transfer listing describes the claim it sells", field="claim")
    listing.security_terms = {
        "claim_principal_fen": given.claim.principal.fen,
        "claim_rate_ppm": rate_to_ppm(given.claim.annual_rate, field="claim.annual_rate"),
        "claim_maturity": given.claim.maturity.isoformat(),
    }


#: A transfer listing's buy-back promise counts at its whole amount until it closes (all of it
#: may sell), then at the principal still owed on the loan (`loan:L:principal_payable`).
NOT_CLOSED = ("draft", "submitted", "approved", "published")
SERVICED = ("funded", "repaying", "overdue", "defaulted")


def buyback_positions(uow: UnitOfWork, originator_id: int, kind: str,
                      listing_ids: tuple[int, ...] = ()) -> tuple[Money, Money]:
    """(reserve balance, outstanding buy-back obligation) of an originator across its listings
    of `kind`: those published or being serviced, plus `listing_ids` in whatever state (the
    listing being checked, counted as if published)."""
    rows = uow.s.execute(select(Listing.id, Listing.status, Listing.amount_fen).where(
        Listing.applicant_id == originator_id, Listing.kind == kind,
        or_(Listing.status.in_(("published", *SERVICED)), Listing.id.in_(listing_ids)))).all()
    reserve = wallet(OwnerKind.ORIGINATOR, originator_id, "buyback_reserve").code
    payable = {r.id: payable_account(OwnerKind.LOAN, r.id, "principal_payable").code
               for r in rows if r.status in SERVICED}
    found = ledger.balances(uow, [reserve, *payable.values()])
    owed = sum(r.amount_fen if r.status in NOT_CLOSED else found.get(payable.get(r.id, ""), 0)
               for r in rows)
    return Money(found.get(reserve, 0)), Money(owed)


def _load_transfer(uow: UnitOfWork, listing: Listing) -> TransferSecurity:
    terms = listing.security_terms
    reserve, owed = buyback_positions(uow, listing.applicant_id, listing.kind, (listing.id,))
    return TransferSecurity(
        originator_id=listing.applicant_id,
        claim_principal=Money(int(terms["claim_principal_fen"])),
        claim_rate=ppm_to_rate(int(terms["claim_rate_ppm"])),
        claim_maturity=date.fromisoformat(terms["claim_maturity"]),
        reserve_balance=reserve,
        buyback_obligation=owed,
        term_start=(listing.published_at.date() if listing.published_at
                    else uow.clock.today()),
    )


def _brief_transfer(uow: UnitOfWork, rows: list[Listing]) -> dict[int, dict[str, Any]]:
    """Browse: each transfer listing's buy-back coverage, one look-up per originator (a
    listing not yet published counts as if it were, as in `_load_transfer`)."""
    out: dict[int, dict[str, Any]] = {}
    by_originator: dict[int, tuple[Money, Money]] = {}
    for row in rows:
        if row.applicant_id not in by_originator:
            by_originator[row.applicant_id] = buyback_positions(uow, row.applicant_id, row.kind)
        reserve, owed = by_originator[row.applicant_id]
        own = row.amount_fen if row.status in NOT_CLOSED and row.status != "published" else 0
        out[row.id] = {"buyback_coverage": coverage_of(reserve, owed + Money(own))}
    return out


# --- instant ------------------------------------------------------------------------------
def _load_instant(uow: UnitOfWork, listing: Listing) -> InstantSecurity:
    return InstantSecurity()


STORES: dict[type, SecurityStore] = {
    CreditSecurity: SecurityStore(frozenset(), _store_nothing, _load_credit),
    CollateralSecurity: SecurityStore(frozenset({"assets"}), _store_assets, _load_collateral,
                                      _brief_collateral),
    GuaranteeSecurity: SecurityStore(
        frozenset({"guarantor_id"}), _store_guarantor, _load_guarantee, _brief_guarantee
    ),
    TransferSecurity: SecurityStore(frozenset({"claim"}), _store_claim, _load_transfer,
                                    _brief_transfer),
    InstantSecurity: SecurityStore(frozenset(), _store_nothing, _load_instant),
}


def store_for(security_type: type) -> SecurityStore:
    return STORES[security_type]
