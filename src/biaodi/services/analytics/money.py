"""Money metrics: deposits and withdrawals by payment channel, the platform's income by fee
type, and cash in custody against the sum of the wallets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from biaodi.services.analytics.common import Period, Sql, UnitOfWork, fetch


@dataclass(frozen=True)
class ChannelRow:
    kind: str  # deposit | withdrawal
    channel: str
    orders: int
    amount_fen: int


def payments_by_channel(uow: UnitOfWork, period: Period) -> list[ChannelRow]:
    """Deposits and withdrawals the gateway settled (orders `succeeded`) on the business days
    of `period`, by kind and payment channel: how many and the amount settled."""
    sql = Sql.of(uow)
    found = fetch(uow, f"""
        SELECT kind, channel, COUNT(*) AS n, COALESCE(SUM(COALESCE(settled_fen, amount_fen)), 0)
               AS fen
        FROM payment_orders WHERE status = 'succeeded'
          AND business_date >= {sql.date('s')} AND business_date <= {sql.date('e')}
        GROUP BY kind, channel ORDER BY kind, channel""", s=period.start, e=period.end)
    return channel_rows(found)


def channel_rows(found: Iterable[Any]) -> list[ChannelRow]:
    """The rows from orders `n` and amount `fen` by kind and channel. Shared by the SQL metric
    and the Spark engine."""
    return sorted((ChannelRow(r.kind, r.channel, int(r.n), int(r.fen)) for r in found),
                  key=lambda r: (r.kind, r.channel))


@dataclass(frozen=True)
class IncomeRow:
    account: str  # platform:fee_income | platform:penalty_income
    fee_type: str  # the kind of journal entry that earned it
    entries: int
    income_fen: int


def platform_income(uow: UnitOfWork, period: Period) -> list[IncomeRow]:
    """The platform's income booked on the business days of `period`: the credits to its
    income accounts (`platform:fee_income`, `platform:penalty_income`) net of debits, by
    account and by the kind of journal entry that booked them (the fee type: service fees
    with instalments, transfer fees on the secondary market, …)."""
    sql = Sql.of(uow)
    found = fetch(uow, f"""
        SELECT a.code, e.kind, COUNT(DISTINCT e.id) AS n, -SUM(p.amount) AS fen
        FROM postings p JOIN accounts a ON a.id = p.account_id
        JOIN journal_entries e ON e.id = p.entry_id
        WHERE a.code IN ('platform:fee_income', 'platform:penalty_income')
          AND e.business_date >= {sql.date('s')} AND e.business_date <= {sql.date('e')}
        GROUP BY a.code, e.kind ORDER BY a.code, e.kind""", s=period.start, e=period.end)
    return income_rows(found)


def income_rows(found: Iterable[Any]) -> list[IncomeRow]:
    """The rows from entries `n` and income `fen` grouped by account `code` and entry `kind`,
    in that order. Shared by the SQL metric and the Spark engine."""
    return sorted((IncomeRow(r.code, r.kind, int(r.n), int(r.fen)) for r in found),
                  key=lambda r: (r.account, r.fee_type))


@dataclass(frozen=True)
class Custody:
    custody_fen: int  # balance of custody:cash
    wallets_fen: int  # users' wallets (investor, borrower, originator, guarantor)
    difference_fen: int  # custody − wallets: 0 when the custody pool matches


def custody_against_wallets(uow: UnitOfWork) -> Custody:
    """Cash in custody (`custody:cash`) against the sum of the users' wallets — every account
    of an investor, borrower, originator or guarantor except a guarantor's subrogation claim,
    which is a claim on a borrower and not money — and the difference (0 when they match)."""
    r = fetch(uow, """
        SELECT (SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE code = 'custody:cash')
                   AS custody,
               (SELECT COALESCE(SUM(balance), 0) FROM accounts
                WHERE owner_kind IN ('investor', 'borrower', 'originator', 'guarantor')
                  AND purpose <> 'subrogation') AS wallets""")[0]
    return custody_of(int(r.custody), int(r.wallets))


def custody_of(custody: int, wallets: int) -> Custody:
    """Custody against wallets, with their difference. Shared with the Spark engine."""
    return Custody(custody, wallets, custody - wallets)
