"""A party's e-contracts: the list (with the SHA-256 and the signing events) and the PDF of
its own copy. Another party's document is answered as not found."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from biaodi.api.deps import CurrentUser, PlatformDep
from biaodi.domain.shared.bounds import RowId
from biaodi.services.documents import contracts

router = APIRouter(tags=["documents"])

PDF = {200: {"content": {"application/pdf": {"schema": {"type": "string",
                                                       "format": "binary"}}},
             "description": "The PDF as issued (its SHA-256 in `X-Content-SHA256`)."}}


class Signature(BaseModel):
    party_role: str
    act: str
    accepted_at: datetime


class DocumentView(BaseModel):
    id: int
    kind: str
    subject: str
    listing_id: int
    party_role: str
    sha256: str
    size_bytes: int
    template_version: str
    issued_on: date
    issued_at: datetime
    signatures: list[Signature]


@router.get("/me/documents", response_model=list[DocumentView])
def my_documents(platform: PlatformDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The caller's contracts (loan agreements, transfer agreements, guarantee letters), newest
    first. A contract is issued at the close of business of the day its loan was funded or its
    claim bought."""
    with platform.reader() as uow:
        return contracts.my_documents(uow, user.id)


@router.get("/me/documents/{document_id}", response_class=Response, responses=PDF)
def download(document_id: RowId, platform: PlatformDep, user: CurrentUser) -> Response:
    """The caller's copy as a PDF. 404 `document_not_found` for an unknown id or another
    party's copy."""
    with platform.reader() as uow:
        doc = contracts.download(uow, document_id, user.id)
    return Response(doc.content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{doc.filename}"',
        "X-Content-SHA256": doc.sha256})
