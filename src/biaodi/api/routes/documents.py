"""A party's e-contracts: the list (with the SHA-256 and the signing events) and the PDF of
its own copy (another party's document is answered as not found); an investor's monthly or
yearly statement as JSON, PDF or Excel."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from biaodi.adapters.pdf import FontMissing
from biaodi.api.deps import CurrentUser, PlatformDep, require_role
from biaodi.bootstrap import Platform
from biaodi.domain.accounts.roles import Role
from biaodi.domain.documents.statements import period
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import Conflict
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.documents import contracts, statements
from biaodi.services.documents.statements import statement as statement_data

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


# --- statements -----------------------------------------------------------------------------
Investor = Annotated[UserView, Depends(require_role(Role.INVESTOR))]
Year = Annotated[int, Query(ge=2000, le=2100, description="the statement's year")]
Month = Annotated[int | None, Query(ge=1, le=12, description="a month; none: the whole year")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(value: Any) -> Any:
    """Money as its decimal string ("1234.56"), dates as ISO strings, recursively."""
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _statement(platform: Platform, user: UserView, year: int,
               month: int | None) -> dict[str, Any]:
    with platform.reader() as uow:
        chosen = period(year, month, uow.clock.today())
        return statement_data(uow, user.id, chosen)


@router.get("/me/statements")
def statement_json(platform: PlatformDep, user: Investor, year: Year,
                   month: Month = None) -> dict[str, Any]:
    """An investor's statement for a month or a year: holdings at the end, principal, interest
    and penalty interest received, claims sold and bought (fees, gains and losses), other
    income, the wallet's opening and closing balance, the tax-relevant totals. Money in yuan as
    decimal strings. 422 `month` for a period that has not begun."""
    return _plain(_statement(platform, user, year, month))


@router.get("/me/statements/pdf", response_class=Response, responses={
    200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
          "description": "The statement as a PDF."}})
def statement_pdf(platform: PlatformDep, user: Investor, year: Year,
                  month: Month = None) -> Response:
    """The statement as a PDF (Chinese font embedded). 409 `font_missing` where the server
    has no Chinese font installed."""
    data = _statement(platform, user, year, month)
    renderer = contracts.renderer_for(platform.settings.document_font)
    if not renderer.available():
        raise Conflict(str(FontMissing(renderer.font)), code="font_missing")
    content = statements.as_pdf(data, renderer, platform.clock.now())
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="statement-{data["period"]}.pdf"'})


@router.get("/me/statements/xlsx", response_class=Response, responses={
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
          "description": "The statement as an Excel workbook."}})
def statement_xlsx(platform: PlatformDep, user: Investor, year: Year,
                   month: Month = None) -> Response:
    """The statement as an Excel workbook: a summary sheet and one sheet per table, money as
    numbers in yuan."""
    data = _statement(platform, user, year, month)
    return Response(statements.as_xlsx(data), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="statement-{data["period"]}.xlsx"'})
