"""An investor's book for their own pages: holdings with their servicing state (outstanding,
overdue, received and recovered), subscriptions still frozen, and the cash flows expected
month by month."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from biaodi.adapters.db.tables import Holding, HoldingInstalment, Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.money import Money
from biaodi.services.investing import queries as investing_queries
from biaodi.services.servicing.queries import holdings_view

#: Repayment sources that are recoveries rather than the borrower paying on time.
RECOVERY_SOURCES = ("guarantor", "disposal", "buyback", "recovery")
#: A holding's instalment share still to be received.
UNPAID = ("scheduled", "due")


def _m(text: str | None) -> Money:
    return Money.parse(text, allow_zero=True, ceiling_fen=None) if text else Money(0)


def portfolio(uow: UnitOfWork, investor_id: int) -> dict[str, Any]:
    """Holdings (newest first) with their listing's title and servicing amounts, the
    investments still frozen while their listing raises money, and totals."""
    serviced = {h["holding_id"]: h for h in holdings_view(uow, investor_id)}
    held = investing_queries.holdings_of(uow, investor_id)
    ids = {h["listing_id"] for h in held} | {
        i["listing_id"] for i in investing_queries.investments_of(uow, investor_id)}
    titles = {row.id: row.title for row in uow.s.execute(
        select(Listing.id, Listing.title).where(Listing.id.in_(ids)))}
    holdings = []
    totals: defaultdict[str, Money] = defaultdict(lambda: Money(0))
    for h in reversed(held):
        s = serviced.get(h["id"], {})
        overdue = Money(0)
        if s.get("days_past_due"):
            overdue = _m(s["principal_due"]) + _m(s["interest_due"]) + _m(s["penalty"])
        received = sum((_m(f["total"]) for f in s.get("cash_flows", [])), Money(0))
        recovered = sum((_m(f["total"]) for f in s.get("cash_flows", [])
                         if f["source"] in RECOVERY_SOURCES), Money(0))
        row = {"id": h["id"], "listing_id": h["listing_id"],
               "title": titles.get(h["listing_id"], ""), "status": h["status"],
               "principal": _m(h["principal"]),
               "outstanding": _m(s.get("outstanding_principal") or h["outstanding_principal"]),
               "overdue": overdue, "days_past_due": s.get("days_past_due", 0),
               "bucket": s.get("bucket"), "received": received, "recovered": recovered,
               "written_off": _m(s.get("written_off"))}
        for key in ("principal", "outstanding", "overdue", "received", "recovered"):
            totals[key] += row[key]
        holdings.append(row)
    pending = [i | {"amount": _m(i["amount"]), "title": titles.get(i["listing_id"], "")}
               for i in investing_queries.investments_of(uow, investor_id)
               if i["status"] == "frozen"]
    return {"holdings": holdings, "pending": pending,
            "totals": {k: totals[k] for k in ("principal", "outstanding", "overdue",
                                              "received", "recovered")}}


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def upcoming_cash_flows(uow: UnitOfWork, investor_id: int, today: date,
                        months: int = 12) -> list[dict[str, Any]]:
    """Principal and interest still to come on active holdings, by calendar month from this
    one, `months` months (empty months included). Overdue shares count in this month."""
    first = date(today.year, today.month, 1)
    end = _add_months(first, months)
    rows = uow.s.execute(
        select(HoldingInstalment.due_date, HoldingInstalment.principal_fen,
               HoldingInstalment.interest_fen)
        .join(Holding, Holding.id == HoldingInstalment.holding_id)
        .where(Holding.investor_id == investor_id, Holding.status == "active",
               HoldingInstalment.status.in_(UNPAID), HoldingInstalment.due_date < end)).all()
    by_month = {_add_months(first, k): [0, 0] for k in range(months)}
    for due, principal, interest in rows:
        month = max(date(due.year, due.month, 1), first)
        by_month[month][0] += int(principal)
        by_month[month][1] += int(interest)
    return [{"month": m.strftime("%Y-%m"), "principal": Money(p), "interest": Money(i),
             "total": Money(p + i)} for m, (p, i) in by_month.items()]

