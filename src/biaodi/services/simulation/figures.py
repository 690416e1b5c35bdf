"""The simulated book in figures, read from the platform's own tables (read-only SQL): losses
by listing type and vertical, the rates listed at, investor returns, guarantor and buy-back
coverage by month, secondary-market liquidity and discounts by month."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from biaodi.adapters.db.uow import UnitOfWork

Rows = list[dict[str, Any]]

#: A listing's vertical: the first pledged asset's class, else what its type lends to.
VERTICAL = """CASE l.kind
    WHEN 'collateral' THEN COALESCE((SELECT a.asset_class FROM pledged_assets a
                                     WHERE a.listing_id = l.id ORDER BY a.id LIMIT 1), 'other')
    WHEN 'guarantee' THEN 'small_business' WHEN 'transfer' THEN 'receivables'
    WHEN 'credit' THEN 'consumer' ELSE l.kind END"""


def _rows(uow: UnitOfWork, sql: str, **params: Any) -> Rows:
    return [dict(r) for r in uow.s.execute(text(sql), params).mappings()]


def losses(uow: UnitOfWork) -> Rows:
    """Per (type, vertical): loans funded, principal lent, principal written off (the holders'
    loss), principal still outstanding past due; for collateral sold, what the sale brought in
    (net of its costs), what of it reached the creditors, and what they were owed."""
    return _rows(uow, f"""
        SELECT kind, vertical, COUNT(*) AS loans, SUM(lent) AS lent_fen,
               SUM(written_off) AS written_off_fen, SUM(overdue) AS overdue_fen,
               SUM(proceeds) AS disposal_net_proceeds_fen,
               SUM(recovered) AS disposal_recovered_fen,
               SUM(owed_at_disposal) AS disposal_owed_fen
        FROM (SELECT l.kind AS kind, {VERTICAL} AS vertical,
                     (SELECT SUM(i.principal_fen) FROM loan_instalments i
                      WHERE i.listing_id = l.id) AS lent,
                     COALESCE((SELECT SUM(p.written_off_fen) FROM servicing_positions p
                               WHERE p.listing_id = l.id AND p.creditor_kind = 'investor'), 0)
                         AS written_off,
                     CASE WHEN s.days_past_due > 0 AND s.status <> 'closed'
                          THEN s.outstanding_principal_fen ELSE 0 END AS overdue,
                     COALESCE(d.proceeds_fen - d.costs_fen, 0) AS proceeds,
                     COALESCE(d.principal_fen + d.interest_fen + d.penalty_fen, 0) AS recovered,
                     COALESCE(d.principal_fen + d.interest_fen + d.penalty_fen
                              + d.shortfall_fen, 0) AS owed_at_disposal
              FROM listings l JOIN loan_servicing s ON s.listing_id = l.id
              LEFT JOIN collateral_disposals d ON d.listing_id = l.id AND d.status = 'settled'
             ) x
        GROUP BY kind, vertical ORDER BY kind, vertical""")


def investor_positions(uow: UnitOfWork) -> Rows:
    """Per investor: money in and out through the gateway, cash held, holdings outstanding."""
    return _rows(uow, """
        SELECT u.id AS investor_id,
               COALESCE((SELECT SUM(o.settled_fen) FROM payment_orders o WHERE o.user_id = u.id
                         AND o.role = 'investor' AND o.kind = 'deposit'
                         AND o.status = 'succeeded'), 0) AS deposited_fen,
               COALESCE((SELECT SUM(o.settled_fen) FROM payment_orders o WHERE o.user_id = u.id
                         AND o.role = 'investor' AND o.kind = 'withdrawal'
                         AND o.status = 'succeeded'), 0) AS withdrawn_fen,
               COALESCE((SELECT SUM(a.balance) FROM accounts a WHERE a.owner_kind = 'investor'
                         AND a.owner_id = u.id AND a.purpose IN ('available', 'frozen')), 0)
                   AS cash_fen,
               COALESCE((SELECT SUM(h.outstanding_principal_fen) FROM holdings h
                         WHERE h.investor_id = u.id AND h.status = 'active'), 0) AS holdings_fen
        FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'investor'
        ORDER BY u.id""")


def coverage(uow: UnitOfWork) -> Rows:
    """Per month: what guarantors and originators paid holders on defaulted loans, and what was
    written off on guarantee and transfer listings (coverage = paid / (paid + written off))."""
    paid = _rows(uow, """
        SELECT r.business_date AS day, r.source AS source, r.amount_fen AS fen
        FROM repayments r WHERE r.source IN ('guarantor', 'buyback') ORDER BY r.id""")
    lost = _rows(uow, """
        SELECT s.defaulted_on AS day, l.kind AS kind, SUM(p.written_off_fen) AS fen
        FROM servicing_positions p JOIN listings l ON l.id = p.listing_id
        JOIN loan_servicing s ON s.listing_id = l.id
        WHERE p.creditor_kind = 'investor' AND p.written_off_fen > 0
          AND l.kind IN ('guarantee', 'transfer')
        GROUP BY s.defaulted_on, l.kind""")
    months: dict[tuple[str, str], dict[str, int]] = {}
    for row in paid:
        kind = "guarantee" if row["source"] == "guarantor" else "transfer"
        slot = months.setdefault((str(row["day"])[:7], kind), {"paid_fen": 0, "written_off_fen": 0})
        slot["paid_fen"] += int(row["fen"])
    for row in lost:
        slot = months.setdefault((str(row["day"])[:7], row["kind"]),
                                 {"paid_fen": 0, "written_off_fen": 0})
        slot["written_off_fen"] += int(row["fen"] or 0)
    return [{"month": m, "kind": k, **v} for (m, k), v in sorted(months.items())]


def secondary(uow: UnitOfWork) -> Rows:
    """Per month listed: offers, principal offered and sold, the principal-weighted premium of
    what was offered and of what sold (negative: a discount), in millionths."""
    rows = _rows(uow, """
        SELECT listed_on, principal_fen, remaining_fen, premium_ppm, status
        FROM secondary_sales ORDER BY id""")
    months: dict[str, dict[str, int]] = {}
    for r in rows:
        slot = months.setdefault(str(r["listed_on"])[:7], dict.fromkeys(
            ("offers", "offered_fen", "sold_fen", "offered_premium_x_fen",
             "sold_premium_x_fen"), 0))
        sold = int(r["principal_fen"]) - int(r["remaining_fen"])
        slot["offers"] += 1
        slot["offered_fen"] += int(r["principal_fen"])
        slot["sold_fen"] += sold
        slot["offered_premium_x_fen"] += int(r["premium_ppm"]) * int(r["principal_fen"])
        slot["sold_premium_x_fen"] += int(r["premium_ppm"]) * sold
    out = []
    for month, s in sorted(months.items()):
        out.append({"month": month, "offers": s["offers"], "offered_fen": s["offered_fen"],
                    "sold_fen": s["sold_fen"],
                    "offered_premium_ppm": (s["offered_premium_x_fen"] // s["offered_fen"]
                                            if s["offered_fen"] else 0),
                    "sold_premium_ppm": (s["sold_premium_x_fen"] // s["sold_fen"]
                                         if s["sold_fen"] else 0)})
    return out


def pricing(uow: UnitOfWork) -> Rows:
    """Per (type, vertical): listings published, their amount, and the amount-weighted annual
    rate they were listed at (ppm, rounded down), which a rate rise should lift."""
    rows = _rows(uow, f"""
        SELECT kind, vertical, COUNT(*) AS listings, SUM(amount) AS listed_fen,
               SUM(amount * rate) AS weighted
        FROM (SELECT l.kind AS kind, {VERTICAL} AS vertical, l.amount_fen AS amount,
                     l.annual_rate_ppm AS rate
              FROM listings l WHERE l.published_at IS NOT NULL) x
        GROUP BY kind, vertical ORDER BY kind, vertical""")
    return [{"kind": r["kind"], "vertical": r["vertical"], "listings": int(r["listings"]),
             "listed_fen": int(r["listed_fen"]),
             "rate_ppm": int(r["weighted"]) // int(r["listed_fen"])} for r in rows]
