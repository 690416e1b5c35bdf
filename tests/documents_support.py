"""Building blocks for documents tests: issued contracts, and one copy for a given party."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from biaodi.adapters.db.document_tables import ContractDocument
from biaodi.adapters.db.tables import Listing
from biaodi.bootstrap import Platform
from biaodi.services.documents import contracts
from biaodi.services.shared.tx import in_transaction


def issued_document(platform: Platform, party_id: int) -> int:
    """Issue the pending contracts and return the id of one of `party_id`'s copies. Where the
    font is not installed (the PDF cannot be made), a stand-in row is stored so that access
    tests still have a document to ask for; contract tests themselves skip then."""
    renderer = contracts.renderer_for(platform.settings.document_font)
    in_transaction(platform.uow, lambda uow: contracts.issue_contracts(uow, renderer))
    with platform.reader() as uow:
        found = uow.s.scalar(select(ContractDocument.id).where(
            ContractDocument.party_id == party_id).order_by(ContractDocument.id))
    if found is not None:
        return int(found)

    def stand_in(uow) -> int:  # type: ignore[no-untyped-def]
        listing = uow.s.scalar(select(Listing.id).order_by(Listing.id))
        content = b"%PDF-1.4 stand-in for a test without the font"
        doc = ContractDocument(kind="loan_agreement", subject=f"test:{party_id}",
                               listing_id=listing, party_id=party_id, party_role="investor",
                               sha256=hashlib.sha256(content).hexdigest(),
                               size_bytes=len(content), content=content,
                               template_version="test", issued_on=uow.clock.today(),
                               issued_at=uow.clock.now())
        uow.s.add(doc)
        uow.s.flush()
        return int(doc.id)

    return in_transaction(platform.uow, stand_in)
