"""Issuing e-contracts: one copy per party of every funded loan's agreement, every secondary
purchase's transfer agreement and every guaranteed loan's guarantee letter, with the SHA-256
of the file and the signing events; verifying a file against what was issued; the parties'
downloads.

Contracts are made by the close-of-business step `contracts` (or `biaodi contracts issue`),
in a transaction of their own after the money moved: funding never waits for a PDF, and a
missing font leaves them pending (see `adapters.pdf`) instead of failing anything."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, String, cast, func, literal, select

from biaodi.adapters.db.document_tables import ContractDocument, ContractSignature
from biaodi.adapters.db.secondary_tables import SecondaryPurchase, SecondarySale
from biaodi.adapters.db.tables import (
    GuarantorProfile,
    Holding,
    Investment,
    Listing,
    ListingTransition,
    LoanInstalment,
    User,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.pdf import PdfRenderer
from biaodi.domain.documents import contracts as text
from biaodi.domain.documents.contracts import TEMPLATE_VERSION, ContractKind
from biaodi.domain.shared.errors import NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.shared import audit

log = logging.getLogger("biaodi.documents")

#: A run starts no new loan or purchase once it has made this many documents (a PDF takes
#: some 0.2–0.5 s): a backlog is worked off over the following days instead of holding close
#: of business for hours.
BUDGET = 100


@dataclass(frozen=True)
class Signing:
    user_id: int | None
    role: str
    act: str
    at: datetime


def _person(uow: UnitOfWork, user_id: int) -> text.Person:
    user = uow.s.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", field="user_id")
    return text.Person(user.id, user.real_name, user.id_number_masked)


def _terms(uow: UnitOfWork, listing: Listing) -> text.LoanTerms:
    rows = uow.s.scalars(select(LoanInstalment).where(LoanInstalment.listing_id == listing.id)
                         .order_by(LoanInstalment.seq)).all()
    schedule = tuple(text.Instalment(r.seq, r.due_date, Money(r.principal_fen),
                                     Money(r.interest_fen), Money(r.service_fee_fen),
                                     Money(r.guarantee_fee_fen)) for r in rows)
    assert listing.funded_at is not None
    return text.LoanTerms(listing.id, listing.kind, listing.title,
                          Money(listing.funded_fen or listing.amount_fen),
                          listing.annual_rate_ppm, listing.term, listing.term_unit,
                          listing.repayment_method, listing.service_fee_ppm,
                          listing.guarantee_fee_ppm, listing.all_in_cost_ppm,
                          listing.funded_at, schedule)


def _lenders(uow: UnitOfWork, listing_id: int) -> tuple[list[text.Share], list[Signing]]:
    """The original lenders (holdings made from investments) and when each first invested."""
    rows = uow.s.execute(
        select(Holding.investor_id, func.sum(Holding.principal_fen),
               func.min(Investment.created_at), func.min(Investment.id))
        .join(Investment, Investment.id == Holding.investment_id)
        .where(Holding.listing_id == listing_id)
        .group_by(Holding.investor_id).order_by(Holding.investor_id)).all()
    shares = [text.Share(_person(uow, investor), Money(int(total)))
              for investor, total, _, _ in rows]
    signings = [Signing(investor, "investor", f"investment {first_id}", at)
                for investor, _, at, first_id in rows]
    return shares, signings


def _borrower_signing(uow: UnitOfWork, listing: Listing) -> Signing:
    """The borrower accepts the terms when it submits the listing for review."""
    submitted = uow.s.scalar(
        select(func.min(ListingTransition.at)).where(ListingTransition.listing_id == listing.id,
                                                     ListingTransition.from_status == "draft"))
    return Signing(listing.applicant_id, "borrower", f"listing {listing.id} submitted",
                   submitted or listing.created_at)


def _store(uow: UnitOfWork, renderer: PdfRenderer, kind: ContractKind, subject: str,
           listing_id: int, party: tuple[int, str], body: text.ContractText,
           signings: list[Signing], shown: dict[int | None, text.Person | str]) -> None:
    reader_id, role = party

    def who(user_id: int | None) -> str:
        person = shown.get(user_id, "标的 Biaodi")
        return person if isinstance(person, str) else person.shown_to(reader_id)

    body.blocks.append(text.signing_block([(s.role, who(s.user_id), s.at) for s in signings]))
    now = uow.clock.now()
    pdf = renderer.contract(body, now)
    doc = ContractDocument(kind=kind.value, subject=subject, listing_id=listing_id,
                           party_id=reader_id, party_role=role,
                           sha256=hashlib.sha256(pdf).hexdigest(), size_bytes=len(pdf),
                           content=pdf, template_version=TEMPLATE_VERSION,
                           issued_on=uow.clock.today(), issued_at=now)
    uow.s.add(doc)
    uow.s.flush()
    uow.s.add_all([ContractSignature(document_id=doc.id, user_id=s.user_id, party_role=s.role,
                                     act=s.act, accepted_at=s.at) for s in signings])


def _loan_documents(uow: UnitOfWork, renderer: PdfRenderer, listing: Listing) -> int:
    terms = _terms(uow, listing)
    borrower = _person(uow, listing.applicant_id)
    shares, investor_signings = _lenders(uow, listing.id)
    signings = [_borrower_signing(uow, listing), *investor_signings,
                Signing(None, "platform", f"listing {listing.id} funded", terms.funded_at)]
    shown: dict[int | None, text.Person | str] = {borrower.user_id: borrower}
    shown.update({s.investor.user_id: s.investor for s in shares})
    subject = f"listing:{listing.id}"
    parties = [(borrower.user_id, "borrower"), *((s.investor.user_id, "investor")
                                                 for s in shares)]
    for party in parties:
        _store(uow, renderer, ContractKind.LOAN_AGREEMENT, subject, listing.id, party,
               text.loan_agreement(terms, borrower, shares, party[0]), signings, shown)
    made = len(parties)
    if listing.guarantor_id is not None:
        profile = uow.s.get(GuarantorProfile, listing.guarantor_id)
        name = profile.name if profile else f"guarantor {listing.guarantor_id}"
        days = profile.compensation_days if profile else 0
        shown[listing.guarantor_id] = name
        letter_signings = [Signing(listing.guarantor_id, "guarantor",
                                   f"listing {listing.id} published",
                                   listing.published_at or listing.created_at), *signings]
        for party in [(listing.guarantor_id, "guarantor"), *parties]:
            _store(uow, renderer, ContractKind.GUARANTEE_LETTER, subject, listing.id, party,
                   text.guarantee_letter(terms, name, borrower, shares, days, party[0]),
                   letter_signings, shown)
        made += len(parties) + 1
    return made


def _transfer_documents(uow: UnitOfWork, renderer: PdfRenderer,
                        purchase: SecondaryPurchase) -> int:
    sale = uow.s.get(SecondarySale, purchase.sale_id)
    listing = uow.s.get(Listing, purchase.listing_id)
    assert sale is not None and listing is not None
    terms = _terms(uow, listing)
    seller, buyer = _person(uow, sale.seller_id), _person(uow, purchase.buyer_id)
    borrower = _person(uow, listing.applicant_id)
    transfer = text.Transfer(purchase.id, listing.id, purchase.business_date,
                             Money(purchase.principal_fen), Money(purchase.accrued_interest_fen),
                             Money(purchase.price_fen), Money(purchase.fee_fen),
                             purchase.yield_ppm, purchase.created_at)
    signings = [Signing(seller.user_id, "seller", f"sale {sale.id} offered", sale.created_at),
                Signing(buyer.user_id, "buyer", f"purchase {purchase.id}", purchase.created_at)]
    shown: dict[int | None, text.Person | str] = {seller.user_id: seller, buyer.user_id: buyer}
    for party in ((seller.user_id, "seller"), (buyer.user_id, "buyer")):
        _store(uow, renderer, ContractKind.TRANSFER_AGREEMENT, f"purchase:{purchase.id}",
               listing.id, party,
               text.transfer_agreement(terms, transfer, seller, buyer, borrower, party[0]),
               signings, shown)
    return 2


def _guarded(uow: UnitOfWork, what: str, make: Callable[[], int], *,
             subjects: list[tuple[str, int]], kind: str) -> int:
    """One loan's or purchase's documents in a savepoint: if anything goes wrong with them
    they are left pending (logged) and the run goes on with the next — close of business is
    never stopped by a contract."""
    try:
        with uow.s.begin_nested():
            made = make()
            audit.note(uow, "contracts.issued", subjects=subjects,
                       changes={"kind": kind, "documents": made})
    except Exception:
        log.exception("contracts of %s not issued; they stay pending", what)
        return 0
    return made


def issue_contracts(uow: UnitOfWork, renderer: PdfRenderer, budget: int = BUDGET) -> int:
    """Issue what is due and not issued yet; returns the number of documents made. Without
    the font nothing is made (logged): the contracts stay pending for the next run."""
    if not renderer.available():
        log.warning("contracts pending: font %s missing", renderer.font)
        return 0
    made = 0
    for listing in uow.s.scalars(_pending_loans().order_by(Listing.id).limit(budget)).all():
        if made >= budget:
            return made
        made += _guarded(uow, f"listing {listing.id}", lambda x=listing: _loan_documents(
            uow, renderer, x), subjects=[("listing", listing.id)], kind="loan_agreement")
    for purchase in uow.s.scalars(_pending_purchases().order_by(SecondaryPurchase.id)
                                  .limit(budget)).all():
        if made >= budget:
            return made
        made += _guarded(uow, f"purchase {purchase.id}", lambda x=purchase: _transfer_documents(
            uow, renderer, x), subjects=[("listing", purchase.listing_id)],
            kind="transfer_agreement")
    return made


def renderer_for(font: Path) -> PdfRenderer:
    return PdfRenderer(font)


def _pending_loans() -> Select[tuple[Listing]]:
    return select(Listing).where(Listing.funded_at.is_not(None), ~select(ContractDocument.id)
                                 .where(ContractDocument.listing_id == Listing.id,
                                        ContractDocument.kind == ContractKind.LOAN_AGREEMENT.value)
                                 .exists())


def _pending_purchases() -> Select[tuple[SecondaryPurchase]]:
    subject = literal("purchase:") + cast(SecondaryPurchase.id, String)
    return select(SecondaryPurchase).where(~select(ContractDocument.id).where(
        ContractDocument.kind == ContractKind.TRANSFER_AGREEMENT.value,
        ContractDocument.listing_id == SecondaryPurchase.listing_id,
        ContractDocument.subject == subject).exists())


def pending(uow: UnitOfWork) -> dict[str, int]:
    """Loans and purchases still waiting for their contracts."""
    loans = uow.s.scalar(select(func.count()).select_from(_pending_loans().subquery()))
    bought = uow.s.scalar(select(func.count()).select_from(_pending_purchases().subquery()))
    return {"loans": int(loans or 0), "purchases": int(bought or 0)}


# --- verification and reading --------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    issued: bool
    sha256: str
    document: dict[str, Any] | None


def verify(uow: UnitOfWork, content: bytes) -> Verdict:
    """Whether these bytes are a document as issued: its SHA-256 found among the stored
    hashes and the stored file the same bytes."""
    digest = hashlib.sha256(content).hexdigest()
    doc = uow.s.scalars(select(ContractDocument).where(ContractDocument.sha256 == digest)
                        .order_by(ContractDocument.id)).first()
    if doc is None or doc.content != content:
        return Verdict(False, digest, None)
    return Verdict(True, digest, _view(doc, _signatures(uow, [doc.id])[doc.id]))


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _signatures(uow: UnitOfWork, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in uow.s.scalars(select(ContractSignature).where(
            ContractSignature.document_id.in_(ids)).order_by(ContractSignature.id)):
        found[s.document_id].append({"party_role": s.party_role, "act": s.act,
                                     "accepted_at": _utc(s.accepted_at)})
    return found


def _view(doc: ContractDocument, signatures: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": doc.id, "kind": doc.kind, "subject": doc.subject,
            "listing_id": doc.listing_id, "party_role": doc.party_role, "sha256": doc.sha256,
            "size_bytes": doc.size_bytes, "template_version": doc.template_version,
            "issued_on": doc.issued_on, "issued_at": _utc(doc.issued_at), "signatures": signatures}


def my_documents(uow: UnitOfWork, user_id: int) -> list[dict[str, Any]]:
    docs = uow.s.scalars(select(ContractDocument).where(ContractDocument.party_id == user_id)
                         .order_by(ContractDocument.id.desc())).all()
    signatures = _signatures(uow, [d.id for d in docs])
    return [_view(d, signatures[d.id]) for d in docs]


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    sha256: str


def download(uow: UnitOfWork, document_id: int, user_id: int) -> Download:
    """The party's own copy; anyone else's id answers as if it did not exist."""
    doc = uow.s.get(ContractDocument, document_id)
    if doc is None or doc.party_id != user_id:
        raise NotFound(f"document {document_id} not found", field="document_id",
                       code="document_not_found")
    return Download(f"{doc.kind}-{doc.subject.replace(':', '-')}-{doc.id}.pdf", doc.content,
                    doc.sha256)


def issued_on(uow: UnitOfWork, day: date) -> int:
    return int(uow.s.scalar(select(func.count()).select_from(ContractDocument).where(
        ContractDocument.issued_on == day)) or 0)
