"""Investor statements (对账单) for a month or a year: the holdings at the end of the period,
what the loans paid (principal, interest, penalty interest), claims sold and bought on the
secondary market with their fees and gains or losses, other income, the wallet's opening and
closing balance, and the tax-relevant totals — as data, as PDF and as Excel."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.db.secondary_tables import SecondaryPurchase
from biaodi.adapters.db.servicing_tables import Repayment, RepaymentShare, ServicingPosition
from biaodi.adapters.db.tables import Account, Holding, JournalEntry, Listing, PostingRow
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.adapters.pdf import PdfRenderer
from biaodi.domain.documents.statements import OTHER_INCOME_KINDS, Period, Totals
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.money import Money


def _received(uow: UnitOfWork, investor_id: int, until: date,
              since: date | None = None) -> dict[int, tuple[int, int, int]]:
    """(principal, interest, penalty) paid to each of the investor's holdings."""
    query = (select(ServicingPosition.holding_id, func.sum(RepaymentShare.principal_fen),
                    func.sum(RepaymentShare.interest_fen), func.sum(RepaymentShare.penalty_fen))
             .join(Repayment, Repayment.id == RepaymentShare.repayment_id)
             .join(ServicingPosition, ServicingPosition.id == RepaymentShare.position_id)
             .join(Holding, Holding.id == ServicingPosition.holding_id)
             .where(Holding.investor_id == investor_id, Repayment.business_date <= until)
             .group_by(ServicingPosition.holding_id))
    if since is not None:
        query = query.where(Repayment.business_date >= since)
    return {int(h): (int(p or 0), int(i or 0), int(n or 0)) for h, p, i, n in uow.s.execute(query)}


def _wallet_balance(uow: UnitOfWork, code: str, before: date) -> int:
    """The balance after the last posting of a business date before `before`."""
    value = uow.s.scalar(
        select(PostingRow.balance_after).join(Account, Account.id == PostingRow.account_id)
        .join(JournalEntry, JournalEntry.id == PostingRow.entry_id)
        .where(Account.code == code, JournalEntry.business_date < before)
        .order_by(PostingRow.id.desc()).limit(1))
    return int(value or 0)


def _other_income(uow: UnitOfWork, code: str, p: Period) -> dict[str, int]:
    rows = uow.s.execute(
        select(JournalEntry.kind, func.sum(PostingRow.amount))
        .join(PostingRow, PostingRow.entry_id == JournalEntry.id)
        .join(Account, Account.id == PostingRow.account_id)
        .where(Account.code == code, JournalEntry.kind.in_(OTHER_INCOME_KINDS),
               JournalEntry.business_date.between(p.start, p.end))
        .group_by(JournalEntry.kind))
    # a wallet is a liability: money in is a credit (negative amount)
    return {kind: -int(total) for kind, total in rows if total}


def statement(uow: UnitOfWork, investor_id: int, p: Period) -> dict[str, Any]:
    totals = Totals()
    in_period = _received(uow, investor_id, p.end, p.start)
    for principal, interest, penalty in in_period.values():
        totals.principal_received += principal
        totals.interest_received += interest
        totals.penalty_interest_received += penalty

    holdings = uow.s.scalars(select(Holding).where(Holding.investor_id == investor_id)
                             .order_by(Holding.id)).all()
    mine = {h.id for h in holdings}
    sold_rows = uow.s.scalars(select(SecondaryPurchase).where(
        SecondaryPurchase.seller_holding_id.in_(mine) if mine else False,
        SecondaryPurchase.business_date <= p.end).order_by(SecondaryPurchase.id)).all()
    sales, sold_to_end = [], {h: 0 for h in mine}
    for s in sold_rows:
        sold_to_end[s.seller_holding_id] += s.principal_fen
        if s.business_date >= p.start:
            totals.add_sale(s.price_fen, s.fee_fen, s.fair_value_fen, s.accrued_interest_fen)
            sales.append({"date": s.business_date, "listing_id": s.listing_id,
                          "principal": Money(s.principal_fen), "price": Money(s.price_fen),
                          "accrued_interest": Money(s.accrued_interest_fen),
                          "fee": Money(s.fee_fen),
                          "gain": Money(s.price_fen - s.fee_fen - s.fair_value_fen)})
    bought = uow.s.scalars(select(SecondaryPurchase).where(
        SecondaryPurchase.buyer_id == investor_id,
        SecondaryPurchase.business_date.between(p.start, p.end))
        .order_by(SecondaryPurchase.id)).all()
    purchases = []
    for b in bought:
        totals.accrued_interest_bought += b.accrued_interest_fen
        purchases.append({"date": b.business_date, "listing_id": b.listing_id,
                          "principal": Money(b.principal_fen), "price": Money(b.price_fen),
                          "accrued_interest": Money(b.accrued_interest_fen)})

    to_end = _received(uow, investor_id, p.end)
    titles = {int(i): t for i, t in uow.s.execute(select(Listing.id, Listing.title).where(
        Listing.id.in_({h.listing_id for h in holdings})))} if holdings else {}
    held = []
    for h in holdings:
        if h.interest_start > p.end:
            continue
        outstanding = (h.principal_fen - to_end.get(h.id, (0, 0, 0))[0] - sold_to_end[h.id])
        got = in_period.get(h.id, (0, 0, 0))
        if outstanding <= 0 and not any(got):
            continue
        held.append({"holding_id": h.id, "listing_id": h.listing_id,
                     "title": titles.get(h.listing_id, ""), "principal": Money(h.principal_fen),
                     "outstanding_at_end": Money(max(outstanding, 0)),
                     "principal_received": Money(got[0]), "interest_received": Money(got[1]),
                     "penalty_received": Money(got[2]), "status": h.status})

    code = wallet(OwnerKind.INVESTOR, investor_id).code
    totals.other_income = _other_income(uow, code, p)
    return {
        "period": p.label, "start": p.start, "end": p.end, "investor_id": investor_id,
        "holdings": held, "sales": sales, "purchases": purchases,
        "wallet": {"opening": Money(_wallet_balance(uow, code, p.start)),
                   "closing": Money(_wallet_balance(uow, code, p.end + _ONE_DAY))},
        "totals": {
            "principal_received": Money(totals.principal_received),
            "interest_received": Money(totals.interest_received),
            "penalty_interest_received": Money(totals.penalty_interest_received),
            "accrued_interest_sold": Money(totals.accrued_interest_sold),
            "accrued_interest_bought": Money(totals.accrued_interest_bought),
            "transfer_fees": Money(totals.transfer_fees),
            "transfer_gains": Money(totals.transfer_gains),
            "transfer_losses": Money(totals.transfer_losses),
            "other_income": {k: Money(v) for k, v in sorted(totals.other_income.items())},
        },
        "tax": {"interest_income": Money(totals.interest_income),
                "net_transfer_result": Money(totals.net_transfer_result),
                "other_income": Money(sum(totals.other_income.values())),
                "fees_paid": Money(totals.transfer_fees)},
    }


_ONE_DAY = timedelta(days=1)

_TOTAL_LABELS = {
    "principal_received": "收回本金 Principal received",
    "interest_received": "利息收入 Interest received",
    "penalty_interest_received": "罚息收入 Penalty interest received",
    "accrued_interest_sold": "转让所得应计利息 Accrued interest on claims sold",
    "accrued_interest_bought": "受让支付应计利息 Accrued interest paid on claims bought",
    "transfer_fees": "转让服务费 Transfer fees paid",
    "transfer_gains": "转让收益 Gains on claims sold",
    "transfer_losses": "转让损失 Losses on claims sold",
}
_TAX_LABELS = {
    "interest_income": "利息所得 Interest income",
    "net_transfer_result": "财产转让所得（净） Net gain on transfers",
    "other_income": "其他收入 Other income (bonuses, coupons)",
    "fees_paid": "已付费用 Fees paid",
}


def _rows(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    tables = [("持有债权 Holdings at the end of the period",
               ["持仓 Holding", "标的 Listing", "本金 Principal", "期末待收 Outstanding",
                "本期收回本金 Principal in", "本期利息 Interest in", "罚息 Penalty in"],
               [[str(h["holding_id"]), f"#{h['listing_id']} {h['title']}",
                 h["principal"].formatted(), h["outstanding_at_end"].formatted(),
                 h["principal_received"].formatted(), h["interest_received"].formatted(),
                 h["penalty_received"].formatted()] for h in data["holdings"]])]
    if data["sales"]:
        tables.append(("债权转让（卖出） Claims sold",
                       ["日期 Date", "标的 Listing", "本金 Principal", "价格 Price",
                        "应计利息 Accrued", "费用 Fee", "损益 Gain/loss"],
                       [[s["date"].isoformat(), f"#{s['listing_id']}",
                         s["principal"].formatted(), s["price"].formatted(),
                         s["accrued_interest"].formatted(), s["fee"].formatted(),
                         s["gain"].formatted()] for s in data["sales"]]))
    if data["purchases"]:
        tables.append(("债权受让（买入） Claims bought",
                       ["日期 Date", "标的 Listing", "本金 Principal", "价格 Price",
                        "应计利息 Accrued"],
                       [[b["date"].isoformat(), f"#{b['listing_id']}",
                         b["principal"].formatted(), b["price"].formatted(),
                         b["accrued_interest"].formatted()] for b in data["purchases"]]))
    return tables


def _summary_lines(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    totals = data["totals"]
    lines = [f"{label}: ¥{totals[key].formatted()}" for key, label in _TOTAL_LABELS.items()]
    lines += [f"{kind}: ¥{value.formatted()}" for kind, value in totals["other_income"].items()]
    tax = [f"{label}: ¥{data['tax'][key].formatted()}" for key, label in _TAX_LABELS.items()]
    return [
        ("期间 Period", [f"{data['start'].isoformat()} — {data['end'].isoformat()}",
                       f"钱包期初 Wallet opening: ¥{data['wallet']['opening'].formatted()}",
                       f"钱包期末 Wallet closing: ¥{data['wallet']['closing'].formatted()}"]),
        ("本期合计 Totals", lines),
        ("涉税合计 Tax-relevant totals (not withheld; for your own return)", tax),
    ]


def as_pdf(data: dict[str, Any], renderer: PdfRenderer, now: Any) -> bytes:
    return renderer.table_report(f"出借人对账单 Investor statement {data['period']}",
                                 _summary_lines(data), _rows(data), now)


def as_xlsx(data: dict[str, Any]) -> bytes:
    """One sheet of totals, one per table; money as numbers in yuan with two decimals."""
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append(["Investor statement", data["period"]])
    summary.append(["From", data["start"], "to", data["end"]])
    summary.append([])
    for heading, lines in _summary_lines(data)[1:]:
        summary.append([heading])
        for line in lines:
            label, _, amount = line.rpartition(": ¥")
            summary.append([label, float(amount.replace(",", ""))])
        summary.append([])
    summary.append(["Wallet opening", float(data["wallet"]["opening"].decimal)])
    summary.append(["Wallet closing", float(data["wallet"]["closing"].decimal)])
    for heading, columns, rows in _rows(data):
        sheet = book.create_sheet(heading.split(" ", 1)[1][:31])
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(v) for v in row])
    for sheet in book.worksheets:
        for column in sheet.columns:
            for cell in column:
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: str) -> Any:
    try:
        return float(value.replace(",", ""))
    except ValueError:
        return value
