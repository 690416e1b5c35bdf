"""The documents page (/me/documents): a party's contracts with their SHA-256 and signing
events, each downloadable as issued; an investor's monthly or yearly statement as PDF or
Excel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.documents.statements import period
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import InvalidInput, NotFound
from biaodi.services.accounts.users import UserView
from biaodi.services.documents import contracts, statements
from biaodi.web import i18n
from biaodi.web.pages import PageError, SignedIn, platform_of, render, require_role

router = APIRouter()

i18n.register({f"docs.{key}": text for key, text in {
    "nav": ("合同", "Documents"),
    "title": ("我的合同与对账单", "My contracts and statements"),
    "contracts": ("电子合同", "E-contracts"),
    "contracts.intro": ("每份合同在放款或债权转让当日日终生成；"
                        "您的副本中其他当事人的姓名和证件号已脱敏。"
                        "用 `biaodi contracts verify 文件` 或下方的 SHA-256 "
                        "核对文件是否为平台签发的原件。",
                        "Each contract is issued at the close of business of the day the loan "
                        "was funded or the claim bought; in your copy the other parties are "
                        "masked. Check a file with `biaodi contracts verify FILE` or against "
                        "the SHA-256 below."),
    "none": ("还没有合同。", "No contract yet."),
    "kind.loan_agreement": ("借款协议", "Loan agreement"),
    "kind.transfer_agreement": ("债权转让协议", "Claim transfer agreement"),
    "kind.guarantee_letter": ("担保函", "Letter of guarantee"),
    "kind": ("合同", "Contract"),
    "listing": ("标的", "Listing"),
    "role": ("身份", "As"),
    "issued": ("签发时间", "Issued"),
    "signed": ("签署记录", "Signed"),
    "download": ("下载 PDF", "Download PDF"),
    "statements": ("对账单", "Statements"),
    "statements.intro": ("按月或按年：持有债权、收回本金与利息、债权转让的费用与损益、涉税合计。",
                         "By month or year: holdings, principal and interest received, "
                         "transfer fees and gains or losses, tax-relevant totals."),
    "year": ("年份", "Year"),
    "month": ("月份（留空为全年）", "Month (empty: the whole year)"),
    "pdf": ("下载 PDF", "Download PDF"),
    "xlsx": ("下载 Excel", "Download Excel"),
    "font.title": ("暂时无法生成 PDF", "No PDF for now"),
    "font.text": ("服务器未安装中文字体，暂时无法生成 PDF；请先下载 Excel 版本。",
                  "The server has no Chinese font installed, so no PDF can be made; "
                  "download the Excel version meanwhile."),
}.items()})


@router.get("/me/documents")
def documents_page(request: Request, user: SignedIn) -> Response:
    with platform_of(request).reader() as uow:
        docs = contracts.my_documents(uow, user.id)
        today = uow.clock.today()
    return render(request, "documents/documents.html", {
        "docs": docs, "investor": "investor" in user.roles, "year": today.year,
        "years": list(range(today.year, today.year - 5, -1))})


@router.get("/me/documents/{document_id}.pdf")
def download(document_id: RowId, request: Request, user: SignedIn) -> Response:
    try:
        with platform_of(request).reader() as uow:
            doc = contracts.download(uow, document_id, user.id)
    except NotFound:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from None
    return Response(doc.content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{doc.filename}"',
        "X-Content-SHA256": doc.sha256})


def _statement(request: Request, user_id: int, year: str, month: str) -> dict[str, Any]:
    """The form's year and month (empty month: the whole year); a period that is not one, or
    has not begun, is not found."""
    with platform_of(request).reader() as uow:
        today = uow.clock.today()
        try:
            if not (year or str(today.year)).isdigit() or (month and not month.isdigit()):
                raise InvalidInput("year and month are numbers", field="month")
            chosen = period(int(year or today.year), int(month) if month else None, today)
        except InvalidInput:
            raise PageError(404, "error.not_found.title", "error.not_found.text") from None
        return statements.statement(uow, user_id, chosen)


InvestorUser = Annotated[UserView, Depends(require_role("investor"))]


@router.get("/me/statements.pdf")
def statement_pdf(request: Request, user: InvestorUser, year: str = "",
                  month: str = "") -> Response:
    data = _statement(request, user.id, year, month)
    renderer = contracts.renderer_for(platform_of(request).settings.document_font)
    if not renderer.available():
        raise PageError(503, "docs.font.title", "docs.font.text")
    content = statements.as_pdf(data, renderer, platform_of(request).clock.now())
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="statement-{data["period"]}.pdf"'})


@router.get("/me/statements.xlsx")
def statement_xlsx(request: Request, user: InvestorUser, year: str = "",
                   month: str = "") -> Response:
    data = _statement(request, user.id, year, month)
    return Response(statements.as_xlsx(data), media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), headers={
        "Content-Disposition": f'attachment; filename="statement-{data["period"]}.xlsx"'})
